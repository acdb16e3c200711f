"""DICOM input: render a displayable image and strip identifying attributes.

:func:`render_dicom` turns a DICOM Part 10 file into an 8-bit PIL image: the modality LUT
(rescale slope/intercept), the stored VOI window or a per-modality default, MONOCHROME1
inversion and the middle frame of multi-frame files. :func:`deidentify` rewrites a file so
that only what the models and the transcript need is kept (image pixels and their geometry,
modality, body part, study date reduced to the month), following the DICOM PS3.15 Basic
Application Level Confidentiality Profile: identifying attributes are removed or emptied,
UIDs are regenerated and the removal is recorded in the file.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, generate_uid

from qaid.images import MAX_PIXELS, ImageError

# Window (centre, width) per modality when the file stores none: soft tissue for CT.
DEFAULT_WINDOWS = {"CT": (40.0, 400.0)}
# Other modalities without a stored window are scaled between these percentiles.
PERCENTILE_WINDOW = (0.5, 99.5)

# Attributes kept by deidentify(): the image pixel module and geometry, and what the models and
# the transcript use. Everything else (names, IDs, dates, addresses, institution, devices,
# descriptions, comments, private tags, overlays) is dropped.
KEPT_KEYWORDS = (
    "SpecificCharacterSet", "ImageType", "SOPClassUID", "Modality", "BodyPartExamined", "ViewPosition",
    "Laterality", "ImageLaterality", "PatientOrientation", "SamplesPerPixel", "PhotometricInterpretation",
    "PlanarConfiguration", "NumberOfFrames", "FrameIncrementPointer", "Rows", "Columns", "BitsAllocated",
    "BitsStored", "HighBit", "PixelRepresentation", "PixelSpacing", "ImagerPixelSpacing", "PixelAspectRatio",
    "SliceThickness", "SpacingBetweenSlices", "ImagePositionPatient", "ImageOrientationPatient",
    "RescaleIntercept", "RescaleSlope", "RescaleType", "WindowCenter", "WindowWidth", "VOILUTFunction",
    "LossyImageCompression", "LossyImageCompressionRatio", "LossyImageCompressionMethod",
    "BurnedInAnnotation", "RedPaletteColorLookupTableDescriptor", "GreenPaletteColorLookupTableDescriptor",
    "BluePaletteColorLookupTableDescriptor", "RedPaletteColorLookupTableData",
    "GreenPaletteColorLookupTableData", "BluePaletteColorLookupTableData", "PixelData", "FloatPixelData",
    "DoubleFloatPixelData",
)
# Type 2 attributes of the patient and study modules: present but empty after de-identification.
EMPTIED_KEYWORDS = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyTime", "AccessionNumber", "StudyID",
    "ReferringPhysicianName",
)
REGENERATED_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")
DEIDENTIFICATION_METHOD = "PS3.15 Basic Profile; study date kept as month"

# Transfer syntaxes refused before the data set is parsed: a deflated data set is inflated whole by pydicom,
# so 20 MB on the wire can become gigabytes in memory (a zip bomb).
REFUSED_TRANSFER_SYNTAXES = {pydicom.uid.DeflatedExplicitVRLittleEndian}
# Explicit VRs whose length field is 4 bytes after 2 reserved ones (PS3.5 7.1.2).
LONG_LENGTH_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
# The whole decoded pixel buffer (rows x columns x samples x frames x bytes per sample) a file may declare.
MAX_PIXEL_BUFFER_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class RenderedDicom:
    """A DICOM file rendered for display and the models, with its non-identifying metadata."""

    image: Image.Image
    metadata: dict[str, Any] = field(default_factory=dict)


def transfer_syntax(data: bytes) -> str | None:
    """The TransferSyntaxUID of a Part 10 file, read from its file meta group alone (nothing is inflated).

    The group (0002) always uses explicit VR little endian (PS3.10 7.1); None when the element is absent.
    """
    offset = 132
    while offset + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, offset)
        if group != 0x0002:
            return None
        if data[offset + 4 : offset + 6] in LONG_LENGTH_VRS:
            (length,), start = struct.unpack_from("<I", data, offset + 8), offset + 12
        else:
            (length,), start = struct.unpack_from("<H", data, offset + 6), offset + 8
        if element == 0x0010:
            return data[start : start + length].rstrip(b"\x00 ").decode("ascii", "replace")
        offset = start + length
    return None


def _read(data: bytes) -> Dataset:
    if transfer_syntax(data) in REFUSED_TRANSFER_SYNTAXES:
        raise ImageError("dicom_unsupported")
    try:
        return pydicom.dcmread(io.BytesIO(data), force=False)
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ImageError("dicom_unreadable") from exc


def _number(value: Any) -> float | None:
    """First value of a possibly multi-valued numeric attribute."""
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        value = value[0] if len(value) else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _pixels(ds: Dataset) -> np.ndarray:
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise ImageError("dicom_no_image")
    rows, columns = int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)
    if rows < 1 or columns < 1:
        raise ImageError("dicom_unreadable")
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples, bits = int(ds.get("SamplesPerPixel", 1) or 1), int(ds.get("BitsAllocated", 8) or 8)
    buffer_bytes = rows * columns * max(samples, 1) * max(frames, 1) * max(bits // 8, 1)
    if rows * columns > MAX_PIXELS or buffer_bytes > MAX_PIXEL_BUFFER_BYTES:
        raise ImageError("too_many_pixels")
    try:
        array = ds.pixel_array if frames == 1 else pydicom.pixels.pixel_array(ds, index=frames // 2)
    except (NotImplementedError, RuntimeError, ImportError) as exc:
        raise ImageError("dicom_unsupported") from exc
    except (ValueError, AttributeError, KeyError, TypeError, EOFError) as exc:
        raise ImageError("dicom_unreadable") from exc
    return np.asarray(array)


def _window(values: np.ndarray, ds: Dataset, modality: str) -> tuple[np.ndarray, dict[str, Any]]:
    """Apply the stored window, the modality default or a percentile stretch; return [0, 1] floats."""
    centre, width = _number(ds.get("WindowCenter")), _number(ds.get("WindowWidth"))
    source = "stored"
    if centre is None or width is None or width <= 0:
        if modality in DEFAULT_WINDOWS:
            (centre, width), source = DEFAULT_WINDOWS[modality], "modality_default"
        else:
            low, high = np.percentile(values, PERCENTILE_WINDOW)
            high = high if high > low else low + 1.0
            centre, width, source = (low + high) / 2.0, float(high - low), "percentile"
    scaled = np.clip((values - (centre - 0.5)) / max(width - 1.0, 1e-6) + 0.5, 0.0, 1.0)
    return scaled, {"window_center": round(float(centre), 3), "window_width": round(float(width), 3),
                    "window_source": source}


def _study_month(ds: Dataset) -> str | None:
    date = str(ds.get("StudyDate", "") or "")
    return f"{date[:4]}-{date[4:6]}" if len(date) >= 6 and date[:6].isdigit() else None


def render_dicom(data: bytes) -> RenderedDicom:
    """Render DICOM bytes to an 8-bit PIL image (``L`` or ``RGB``) or raise :class:`ImageError`."""
    ds = _read(data)
    pixels = _pixels(ds)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    modality = str(ds.get("Modality", "") or "").upper()
    info: dict[str, Any] = {}
    if int(ds.get("SamplesPerPixel", 1) or 1) == 3 or photometric == "PALETTE COLOR":
        if photometric == "PALETTE COLOR":
            pixels = pydicom.pixels.apply_color_lut(pixels, ds)
        if pixels.ndim != 3 or pixels.shape[-1] != 3:
            raise ImageError("dicom_unsupported")
        top = 255.0 if pixels.dtype == np.uint8 else float(2 ** (8 * pixels.dtype.itemsize) - 1)
        if photometric != "PALETTE COLOR":
            top = float(2 ** int(ds.get("BitsStored", 8)) - 1)
        rgb = np.clip(pixels.astype(np.float64) / top, 0.0, 1.0)
        image = Image.fromarray(np.round(rgb * 255).astype(np.uint8), mode="RGB")
    else:
        if pixels.ndim != 2:
            raise ImageError("dicom_unsupported")
        slope = _number(ds.get("RescaleSlope")) or 1.0
        intercept = _number(ds.get("RescaleIntercept")) or 0.0
        values = pixels.astype(np.float64) * slope + intercept
        scaled, info = _window(values, ds, modality)
        if photometric == "MONOCHROME1":
            scaled = 1.0 - scaled
        image = Image.fromarray(np.round(scaled * 255).astype(np.uint8), mode="L")
    metadata = {
        "modality": modality or None,
        "body_part": str(ds.get("BodyPartExamined", "") or "") or None,
        "study_month": _study_month(ds),
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "frames": frames,
        "frame_shown": frames // 2,
        "photometric_interpretation": photometric,
        **info,
    }
    return RenderedDicom(image=image, metadata=metadata)


def _new_uid(mapping: dict[str, str], old: str) -> str:
    if old not in mapping:
        mapping[old] = generate_uid()
    return mapping[old]


def deidentify(data: bytes) -> bytes:
    """Return a de-identified copy of DICOM bytes (see the module docstring), or raise :class:`ImageError`."""
    source = _read(data)
    clean = Dataset()
    for keyword in KEPT_KEYWORDS:
        if keyword in source:
            element = source[keyword]
            clean.add_new(element.tag, element.VR, element.value)
    for keyword in EMPTIED_KEYWORDS:
        setattr(clean, keyword, "")
    month = _study_month(source)
    clean.StudyDate = f"{month.replace('-', '')}01" if month else ""
    uids: dict[str, str] = {}
    for keyword in REGENERATED_UIDS:
        if keyword in source:
            setattr(clean, keyword, _new_uid(uids, str(source[keyword].value)))
    if "SOPInstanceUID" not in clean:
        clean.SOPInstanceUID = generate_uid()
    clean.PatientIdentityRemoved = "YES"
    clean.DeidentificationMethod = DEIDENTIFICATION_METHOD
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator = "113100", "DCM"
    code.CodeMeaning = "Basic Application Confidentiality Profile"
    clean.DeidentificationMethodCodeSequence = DicomSequence([code])
    old_meta = getattr(source, "file_meta", FileMetaDataset())
    meta = FileMetaDataset()
    sop_class = clean.get("SOPClassUID") or old_meta.get("MediaStorageSOPClassUID")
    if sop_class:
        meta.MediaStorageSOPClassUID = sop_class
        clean.SOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = clean.SOPInstanceUID
    meta.TransferSyntaxUID = old_meta.get("TransferSyntaxUID", pydicom.uid.ExplicitVRLittleEndian)
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    clean.file_meta = meta
    buffer = io.BytesIO()
    try:
        clean.save_as(buffer, enforce_file_format=True)
    except (ValueError, AttributeError, TypeError) as exc:
        raise ImageError("dicom_unreadable") from exc
    return buffer.getvalue()
