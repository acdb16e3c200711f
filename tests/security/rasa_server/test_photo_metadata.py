"""Attack/audit: identifying data at rest in the media store before the patient has even consented.

A phone photo of a screen carries the patient's home (EXIF GPS) and device; a DICOM file their name and
hospital ids. Channels now remove EXIF (GPS included), XMP, comments and PNG text before a JPEG, PNG or WebP
is stored, turning the pixels upright by the EXIF orientation first (files without such metadata are stored
unchanged), and de-identify a DICOM file before it is written.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from channels.media import MediaStore, strip_metadata
from tests.support.dicom import PATIENT_ID, PATIENT_NAME, dicom_file

GPS_IFD, ORIENTATION, MAKE = 0x8825, 0x0112, 0x010F


def _phone_photo() -> bytes:
    image = Image.new("RGB", (40, 20), (200, 30, 30))
    exif = Image.Exif()
    exif[MAKE] = "PatientPhone 12"
    exif[ORIENTATION] = 6  # taken rotated: displayed 90 degrees clockwise
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 40.0)}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, comment=b"home")
    return buffer.getvalue()


def test_gps_and_device_are_gone_and_the_photo_is_upright(media_store: MediaStore) -> None:
    original = _phone_photo()
    assert b"PatientPhone" in original
    stored = media_store.store(original)
    data = (media_store.root / stored.name).read_bytes()
    assert b"PatientPhone" not in data and b"home" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif() and image.size == (20, 40)


def test_png_text_is_removed_and_clean_files_are_stored_as_sent(media_store: MediaStore) -> None:
    info = PngInfo()
    info.add_text("Author", "Jane Doe")
    buffer = io.BytesIO()
    Image.new("L", (16, 16), 90).save(buffer, format="PNG", pnginfo=info)
    assert b"Jane Doe" not in strip_metadata(buffer.getvalue(), "image/png")
    clean = io.BytesIO()
    Image.new("L", (16, 16), 90).save(clean, format="PNG")
    assert strip_metadata(clean.getvalue(), "image/png") == clean.getvalue()


def test_a_dicom_upload_is_stored_de_identified(media_store: MediaStore) -> None:
    raw = dicom_file(np.full((32, 32), 300, dtype=np.uint16))
    stored = media_store.store(raw)
    data = (media_store.root / stored.name).read_bytes()
    assert stored.media_type == "application/dicom"
    assert PATIENT_NAME.encode() not in data and PATIENT_ID.encode() not in data
    assert [p.name for p in media_store.root.iterdir()] == [stored.name]  # the original was never written
