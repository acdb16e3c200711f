"""Lesion outline drawn over the input image, encoded as PNG."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

OUTLINE_RGB = (255, 48, 48)


def outline(mask: np.ndarray, width: int = 1) -> np.ndarray:
    """Boolean boundary of ``mask``: pixels inside it that touch the outside, thickened to ``width``."""
    mask = np.asarray(mask, dtype=bool)
    padded = np.pad(mask, 1, constant_values=False)
    interior = (padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]) & mask
    edge = mask & ~interior
    for _ in range(width - 1):
        grown = np.pad(edge, 1, constant_values=False)
        edge = edge | grown[:-2, 1:-1] | grown[2:, 1:-1] | grown[1:-1, :-2] | grown[1:-1, 2:]
    return edge


# zlib level 1: on a 256 x 256 LGG slice 6.3 ms and 79 kB against 15.5 ms and 67 kB at PIL's default 6; the
# overlay is encoded on every outline a patient asks for, and sent once.
PNG_COMPRESS_LEVEL = 1


def overlay_png(rgb: np.ndarray, mask: np.ndarray) -> bytes:
    """PNG of ``rgb`` (H x W x 3 floats in [0, 1]) with the outline of ``mask`` in red."""
    canvas = np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)
    width = max(1, round(max(mask.shape) / 256))
    canvas[outline(mask, width)] = OUTLINE_RGB
    buffer = io.BytesIO()
    Image.fromarray(canvas, mode="RGB").save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()
