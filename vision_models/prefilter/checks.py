"""Rule-based checks that reject unusable images before the network sees them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from vision_models.imaging import to_grayscale_array

MIN_SIDE = 32
MAX_ASPECT_RATIO = 4.0
BLANK_STD = 0.015
THUMBNAIL = 128


@dataclass(frozen=True)
class Rejection:
    """Why an image is refused: a stable ``code`` and a ``reason`` safe to show a patient."""

    code: str
    reason: str


TOO_SMALL = Rejection("too_small", "The image is too small to read; please send the original, larger image.")
ASPECT_RATIO = Rejection(
    "extreme_aspect_ratio",
    "The image is a very long, thin strip; please send the whole image rather than a cut-out.",
)
BLANK = Rejection("blank", "The image looks blank (a single colour); please check it and send it again.")
NOT_MEDICAL = Rejection(
    "not_medical",
    "This does not look like a medical image (such as an X-ray, CT, MRI, mammogram or eye photo). "
    "Please send the scan itself.",
)
DOCUMENT = Rejection(
    "document",
    "This looks like a document or a screenshot of text, not a scan. Please send the scan itself (an X-ray, CT, "
    "MRI, mammogram or eye photo), or a photo of the screen showing it.",
)


def check_image(image: Image.Image) -> Rejection | None:
    """The first rule ``image`` breaks (too small, extreme aspect ratio, blank), or ``None``."""
    width, height = image.size
    if min(width, height) < MIN_SIDE:
        return TOO_SMALL
    if max(width, height) / min(width, height) > MAX_ASPECT_RATIO:
        return ASPECT_RATIO
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL, THUMBNAIL))
    if float(np.std(to_grayscale_array(thumb))) < BLANK_STD and _is_single_colour(thumb):
        return BLANK
    return None


def _is_single_colour(image: Image.Image) -> bool:
    """True unless the colour channels vary (a flat but coloured image is still blank)."""
    if image.mode in ("L", "I", "I;16", "I;16B", "I;16L", "F", "1"):
        return True
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return float(rgb.reshape(-1, 3).std(axis=0).max()) < BLANK_STD
