"""Helpers shared by the channel tests: tiny images in each format the channels accept."""

from __future__ import annotations

import io
import struct

from PIL import Image


def png_bytes(size: int = 32, color: tuple = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(size: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (10, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def dicom_bytes() -> bytes:
    """A Part-10 header: 128-byte preamble, ``DICM`` and one explicit-VR group length element."""
    element = struct.pack("<HH2sHI", 0x0002, 0x0000, b"UL", 4, 0)
    return b"\x00" * 128 + b"DICM" + element
