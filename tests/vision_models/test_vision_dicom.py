"""DICOM rendering and de-identification on files built with pydicom."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest

from tests.support.dicom import dicom_file
from vision_models.dicom import deidentify, render_dicom
from vision_models.imaging import ImageError, load_image


def _ramp() -> np.ndarray:
    return np.tile(np.arange(0, 1000, 1000 / 32, dtype=np.float64).astype(np.uint16), (32, 1))


def test_rescale_and_stored_window() -> None:
    # HU = raw * 2 - 1000; window 0 +- 500 HU maps raw 250 -> black, raw 750 -> white.
    data = dicom_file(_ramp(), RescaleSlope=2, RescaleIntercept=-1000, WindowCenter=0, WindowWidth=1000)
    rendered = render_dicom(data)
    arr = np.asarray(rendered.image)
    assert rendered.image.mode == "L" and rendered.image.size == (32, 32)
    assert arr[0, 0] == 0 and arr[0, -1] == 255 and 100 < arr[0, 16] < 155
    assert rendered.metadata["window_source"] == "stored"
    assert rendered.metadata == rendered.metadata | {"modality": "CT", "body_part": "HEAD", "study_month": "2024-05"}
    assert "Doe" not in str(rendered.metadata)


def test_ct_default_window_when_none_stored() -> None:
    rendered = render_dicom(dicom_file(_ramp(), RescaleSlope=1, RescaleIntercept=-500))
    assert rendered.metadata["window_source"] == "modality_default"
    assert (rendered.metadata["window_center"], rendered.metadata["window_width"]) == (40.0, 400.0)


def test_monochrome1_is_inverted() -> None:
    normal = np.asarray(render_dicom(dicom_file(_ramp(), Modality="CR")).image)
    monochrome1 = dicom_file(_ramp(), Modality="CR", PhotometricInterpretation="MONOCHROME1")
    inverted = np.asarray(render_dicom(monochrome1).image)
    assert np.array_equal(inverted, 255 - normal)


def test_middle_frame_of_multiframe() -> None:
    frames = np.stack([np.full((16, 16), v, dtype=np.uint16) for v in (0, 500, 1000)])
    rendered = render_dicom(dicom_file(frames, WindowCenter=500, WindowWidth=1000))
    assert rendered.metadata["frames"] == 3 and rendered.metadata["frame_shown"] == 1
    assert 120 < np.asarray(rendered.image).mean() < 135


def test_load_image_accepts_dicom_bytes() -> None:
    assert load_image(dicom_file(_ramp())).size == (32, 32)


def test_no_pixel_data_is_refused() -> None:
    ds = pydicom.dcmread(io.BytesIO(dicom_file(_ramp())))
    del ds.PixelData
    buffer = io.BytesIO()
    ds.save_as(buffer)
    with pytest.raises(ImageError) as info:
        render_dicom(buffer.getvalue())
    assert info.value.code == "dicom_no_image"


def test_truncated_dicom_is_refused() -> None:
    with pytest.raises(ImageError) as info:
        load_image(dicom_file(_ramp())[:-100])
    assert info.value.code == "dicom_unreadable"


def test_deidentify_strips_identity_and_keeps_what_is_needed() -> None:
    original = dicom_file(_ramp(), WindowCenter=500, WindowWidth=1000)
    clean_bytes = deidentify(original)
    before, after = pydicom.dcmread(io.BytesIO(original)), pydicom.dcmread(io.BytesIO(clean_bytes))
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "AccessionNumber", "ReferringPhysicianName"):
        assert str(after.get(keyword, "")) == ""
    for keyword in ("PatientAddress", "InstitutionName"):
        assert keyword not in after
    assert not any(element.tag.is_private for element in after)
    for text in (b"Doe", b"MRN-123456", b"General Hospital", b"Springfield", b"ACC99", b"19700101", b"20240517"):
        assert text not in clean_bytes
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        assert after[keyword].value != before[keyword].value
        assert before[keyword].value.encode() not in clean_bytes
    assert after.file_meta.MediaStorageSOPInstanceUID == after.SOPInstanceUID
    assert (after.Modality, after.BodyPartExamined, after.StudyDate) == ("CT", "HEAD", "20240501")
    assert after.PatientIdentityRemoved == "YES"
    assert np.array_equal(np.asarray(render_dicom(clean_bytes).image), np.asarray(render_dicom(original).image))
