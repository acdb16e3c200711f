"""Image intake for every model: decode, validate and normalise in one place.

Every capability calls :func:`load_image` on what it is given (bytes, a path or a
PIL image) and :func:`to_tensor_array` to get the network input, so that inputs of
any size and colour mode (grayscale, RGB, RGBA, palette, 16-bit) are handled once.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from qaid.images import MAX_FILE_BYTES, MAX_PIXELS, ImageError

MIN_SIDE = 16
BILINEAR = Image.Resampling.BILINEAR
# The only raster formats Pillow is allowed to open (DICOM is parsed by pydicom): no PostScript, PDF,
# ICNS, FITS or other decoders that a crafted file could reach.
ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")

ImageSource = bytes | str | Path | Image.Image


def _read_bytes(source: bytes | str | Path) -> bytes:
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        if not path.is_file():
            raise ImageError("not_found", f"The file {path.name} could not be found.")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImageError("too_large")
        data = path.read_bytes()
    if not data:
        raise ImageError("empty")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError("too_large")
    return data


def is_dicom(data: bytes) -> bool:
    """True when ``data`` carries the DICOM Part 10 preamble magic ``DICM``."""
    return len(data) >= 132 and data[128:132] == b"DICM"


def load_image(source: ImageSource) -> Image.Image:
    """Decode ``source`` into a PIL image, or raise :class:`ImageError` with a clear reason.

    DICOM files are rendered by :mod:`vision_models.dicom`; everything Pillow can read is
    accepted. Huge dimensions, truncated and non-image files are refused.
    """
    if isinstance(source, Image.Image):
        image = source
    else:
        data = _read_bytes(source)
        if is_dicom(data):
            from vision_models.dicom import render_dicom

            return render_dicom(data).image
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise ImageError("too_many_pixels")
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageError("too_many_pixels") from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            if isinstance(exc, ImageError):
                raise
            raise ImageError("not_an_image") from exc
    if min(image.size) < 1:
        raise ImageError("empty")
    return image


def to_grayscale_array(image: Image.Image) -> np.ndarray:
    """Return the image as float32 luminance in [0, 1], whatever its mode or bit depth."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(image, dtype=np.float32)
        lo, hi = float(arr.min()), float(arr.max())
        return (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
    return np.asarray(_flatten_alpha(image).convert("L"), dtype=np.float32) / 255.0


def to_rgb_array(image: Image.Image) -> np.ndarray:
    """Return the image as float32 RGB in [0, 1] with shape (H, W, 3)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        gray = to_grayscale_array(image)
        return np.repeat(gray[:, :, None], 3, axis=2)
    return np.asarray(_flatten_alpha(image).convert("RGB"), dtype=np.float32) / 255.0


def _flatten_alpha(image: Image.Image) -> Image.Image:
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA"):
        background = Image.new("RGB", image.size, (0, 0, 0))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").split()[-1])
        return background
    return image


def to_tensor_array(image: Image.Image, size: int, channels: int) -> np.ndarray:
    """Resize to ``size``×``size`` and return a float32 array of shape (channels, size, size) in [0, 1].

    ``channels`` is 1 (luminance) or 3 (RGB). This is the single normalisation step shared by
    every model; per-model mean/std scaling is applied by the model from its bundle config.
    """
    if channels == 1:
        arr = to_grayscale_array(image)
        resized = Image.fromarray((arr * 255).astype(np.uint8), mode="L").resize((size, size), BILINEAR)
        return (np.asarray(resized, dtype=np.float32) / 255.0)[None]
    if channels == 3:
        arr = to_rgb_array(image)
        resized = Image.fromarray((arr * 255).astype(np.uint8), mode="RGB").resize((size, size), BILINEAR)
        return (np.asarray(resized, dtype=np.float32) / 255.0).transpose(2, 0, 1)
    raise ValueError(f"channels must be 1 or 3, not {channels}")
