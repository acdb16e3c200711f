"""Synthetic medical-looking test images, generated so that no test depends on downloaded data.

``head_phantom`` draws the Shepp-Logan head phantom (ellipses with the classic intensities),
which looks like an axial head CT slice; ``photo_like`` draws a colourful everyday scene.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

# (intensity, semi-axis a, semi-axis b, centre x, centre y, rotation degrees) — modified Shepp-Logan.
SHEPP_LOGAN = (
    (1.0, 0.69, 0.92, 0.0, 0.0, 0),
    (-0.8, 0.6624, 0.874, 0.0, -0.0184, 0),
    (-0.2, 0.11, 0.31, 0.22, 0.0, -18),
    (-0.2, 0.16, 0.41, -0.22, 0.0, 18),
    (0.1, 0.21, 0.25, 0.0, 0.35, 0),
    (0.1, 0.046, 0.046, 0.0, 0.1, 0),
    (0.1, 0.046, 0.046, 0.0, -0.1, 0),
    (0.1, 0.046, 0.023, -0.08, -0.605, 0),
    (0.1, 0.023, 0.023, 0.0, -0.606, 0),
    (0.1, 0.023, 0.046, 0.06, -0.605, 0),
)


def head_phantom(size: int = 128) -> np.ndarray:
    """Shepp-Logan phantom as uint8 (size, size)."""
    ys, xs = np.mgrid[1 : -1 : size * 1j, -1 : 1 : size * 1j]
    image = np.zeros((size, size), dtype=np.float32)
    for value, a, b, cx, cy, degrees in SHEPP_LOGAN:
        theta = np.deg2rad(degrees)
        x, y = xs - cx, ys - cy
        xr = x * np.cos(theta) + y * np.sin(theta)
        yr = -x * np.sin(theta) + y * np.cos(theta)
        image[(xr / a) ** 2 + (yr / b) ** 2 <= 1.0] += value
    image = np.clip(image, 0.0, 1.0)
    return (image * 255).astype(np.uint8)


def photo_like(size: int = 128, seed: int = 0) -> np.ndarray:
    """A colourful scene (sky, grass, a red disc) as uint8 RGB."""
    rng = np.random.default_rng(seed)
    image = np.zeros((size, size, 3), dtype=np.uint8)
    image[: size // 2] = (90, 160, 235)
    image[size // 2 :] = (60, 170, 60)
    ys, xs = np.mgrid[:size, :size]
    image[(xs - size * 0.6) ** 2 + (ys - size * 0.35) ** 2 < (size * 0.12) ** 2] = (230, 40, 30)
    noise = rng.integers(-12, 12, image.shape)
    return np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)


def png_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as PNG."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()
