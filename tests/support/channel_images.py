"""Tiny images in each format the channels accept (PNG, JPEG, DICOM), for the channel tests."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.support.dicom import dicom_file


def png_bytes(size: int = 32, color: tuple = (200, 30, 30)) -> bytes:
    """A ``size`` x ``size`` PNG of one ``color``."""
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(size: int = 32) -> bytes:
    """A ``size`` x ``size`` JPEG of one colour."""
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (10, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def dicom_bytes() -> bytes:
    """A small CT slice as a Part-10 file, with the patient identity of :mod:`tests.support.dicom`."""
    return dicom_file(np.full((16, 16), 200, dtype=np.uint16))
