"""DICOM rendering and de-identification on files built with pydicom."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from vision_models.dicom import deidentify, render_dicom
from vision_models.imaging import ImageError, load_image


def _dicom(pixels: np.ndarray, **attributes) -> bytes:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Doe^Jane", "MRN-123456", "19700101"
    ds.PatientAddress, ds.InstitutionName, ds.AccessionNumber = "1 Main St, Springfield", "General Hospital", "ACC99"
    ds.ReferringPhysicianName, ds.StudyDate, ds.StudyTime = "House^Gregory", "20240517", "101500"
    ds.Modality, ds.BodyPartExamined = "CT", "HEAD"
    ds.add_new(0x00091010, "LO", "private vendor note with the name Doe")
    frames = pixels.shape[0] if pixels.ndim == 3 else 1
    ds.Rows, ds.Columns = pixels.shape[-2:]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit, ds.PixelRepresentation = 15, 1 if pixels.dtype == np.int16 else 0
    if frames > 1:
        ds.NumberOfFrames = frames
    for key, value in attributes.items():
        setattr(ds, key, value)
    ds.PixelData = pixels.tobytes()
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _ramp() -> np.ndarray:
    return np.tile(np.arange(0, 1000, 1000 / 32, dtype=np.float64).astype(np.uint16), (32, 1))


def test_rescale_and_stored_window() -> None:
    # HU = raw * 2 - 1000; window 0 +- 500 HU maps raw 250 -> black, raw 750 -> white.
    data = _dicom(_ramp(), RescaleSlope=2, RescaleIntercept=-1000, WindowCenter=0, WindowWidth=1000)
    rendered = render_dicom(data)
    arr = np.asarray(rendered.image)
    assert rendered.image.mode == "L" and rendered.image.size == (32, 32)
    assert arr[0, 0] == 0 and arr[0, -1] == 255 and 100 < arr[0, 16] < 155
    assert rendered.metadata["window_source"] == "stored"
    assert rendered.metadata == rendered.metadata | {"modality": "CT", "body_part": "HEAD", "study_month": "2024-05"}
    assert "Doe" not in str(rendered.metadata)


def test_ct_default_window_when_none_stored() -> None:
    rendered = render_dicom(_dicom(_ramp(), RescaleSlope=1, RescaleIntercept=-500))
    assert rendered.metadata["window_source"] == "modality_default"
    assert (rendered.metadata["window_center"], rendered.metadata["window_width"]) == (40.0, 400.0)


def test_monochrome1_is_inverted() -> None:
    normal = np.asarray(render_dicom(_dicom(_ramp(), Modality="CR")).image)
    inverted = np.asarray(render_dicom(_dicom(_ramp(), Modality="CR", PhotometricInterpretation="MONOCHROME1")).image)
    assert np.array_equal(inverted, 255 - normal)


def test_middle_frame_of_multiframe() -> None:
    frames = np.stack([np.full((16, 16), v, dtype=np.uint16) for v in (0, 500, 1000)])
    rendered = render_dicom(_dicom(frames, WindowCenter=500, WindowWidth=1000))
    assert rendered.metadata["frames"] == 3 and rendered.metadata["frame_shown"] == 1
    assert 120 < np.asarray(rendered.image).mean() < 135


def test_load_image_accepts_dicom_bytes() -> None:
    assert load_image(_dicom(_ramp())).size == (32, 32)


def test_no_pixel_data_is_refused() -> None:
    ds = pydicom.dcmread(io.BytesIO(_dicom(_ramp())))
    del ds.PixelData
    buffer = io.BytesIO()
    ds.save_as(buffer)
    with pytest.raises(ImageError) as info:
        render_dicom(buffer.getvalue())
    assert info.value.code == "dicom_no_image"


def test_truncated_dicom_is_refused() -> None:
    with pytest.raises(ImageError) as info:
        load_image(_dicom(_ramp())[:-100])
    assert info.value.code == "dicom_unreadable"


def test_deidentify_strips_identity_and_keeps_what_is_needed() -> None:
    original = _dicom(_ramp(), WindowCenter=500, WindowWidth=1000)
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
