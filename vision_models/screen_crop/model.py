"""Inference API of the screen finder: where the displayed image is in a photo, and the image rectified."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from vision_models.bundle import Bundle, load_bundle
from vision_models.imaging import ImageSource, load_image, to_tensor_array
from vision_models.networks import network_from_config
from vision_models.screen_crop.config import DEFAULT_BUNDLE
from vision_models.screen_photos import FULL_FRAME, ScreenPhotoParams, screen_photo_bytes, warp_quads
from vision_models.transforms import normalise

MIN_SIDE = 32  # pixels of the smallest rectified image
# A "screen" whose every corner lies within this of the photo's own corner (x, y in [-1, 1]) fills the photo: there
# is nothing to crop, and the image is used as sent. Found chatting: a MedPix radiograph with a dark border, sent
# as a file, got "I found the scan on the screen in your photo". `bench/screen_finder_files_report.py` (seeded
# samples, no `val`): the finder fired on 9 of 315 VQA-RAD files, 7 of them with such corners; of 400 `train`
# images photographed off a simulated screen it found 391 (ROBUSTNESS ranges) and 389 (TRAINING), 1 and 3 of them
# with such corners, whose crop would have been nearly the whole photo anyway.
FILLS_PHOTO_MARGIN = 0.1


def with_coordinates(batch: torch.Tensor) -> torch.Tensor:
    """``batch`` (N, C, H, W) with two channels more: each pixel's x and y in [-1, 1]."""
    n, _, h, w = batch.shape
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    return torch.cat([batch, xs.expand(n, 1, h, w), ys.expand(n, 1, h, w)], dim=1)


def fills_photo(corners: torch.Tensor) -> bool:
    """Whether every corner (4, 2) lies within :data:`FILLS_PHOTO_MARGIN` of the photo's own corner."""
    return bool((corners - FULL_FRAME).abs().max() <= FILLS_PHOTO_MARGIN)


@dataclass(frozen=True)
class ScreenFinding:
    """Whether an image is a photo of a screen, how sure the model is, and the displayed image's corners
    (top-left, top-right, bottom-right, bottom-left; x, y in [-1, 1] across the photo)."""

    screen: bool
    probability: float
    corners: tuple[tuple[float, float], ...]


def rectify(image: Image.Image, corners: np.ndarray) -> Image.Image:
    """The quadrilateral ``corners`` (4, 2) of ``image`` warped to an upright rectangle of about its own size;
    parts of it outside the photo are black, as a screen's edge."""
    rgb = image.convert("RGB")
    w, h = rgb.size
    pixels = torch.from_numpy(np.asarray(rgb, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    quad = torch.as_tensor(corners, dtype=torch.float64)
    in_pixels = (quad + 1) / 2 * torch.tensor([w - 1, h - 1], dtype=torch.float64)
    width = float((in_pixels[1] - in_pixels[0]).norm() + (in_pixels[2] - in_pixels[3]).norm()) / 2
    height = float((in_pixels[3] - in_pixels[0]).norm() + (in_pixels[2] - in_pixels[1]).norm()) / 2
    out_w, out_h = (int(round(min(max(side, MIN_SIDE), 2 * max(w, h)))) for side in (width, height))
    warped = warp_quads(pixels, quad[None], out_h, out_w)[0]
    return Image.fromarray((warped.permute(1, 2, 0).numpy() * 255.0).round().clip(0, 255).astype(np.uint8))


class ScreenCropper:
    """Finds the displayed image in photos of a screen and crops it upright; thread-safe, weights loaded once."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.config = bundle.config
        self.threshold = float(self.config.extra.get("screen_threshold", 0.5))
        self._lock = threading.Lock()

    @classmethod
    def load(cls, location: Path | str = DEFAULT_BUNDLE, cache_dir: Path | None = None) -> ScreenCropper:
        """Load a bundle from a folder or an ``http(s)://`` URL (checksum verified)."""
        return cls(load_bundle(location, network_from_config, cache_dir))

    def outputs(self, batch: torch.Tensor) -> torch.Tensor:
        """Raw outputs (N, 9) for a batch (N, C, S, S) in [0, 1] at the bundle's input size."""
        inputs = with_coordinates(normalise(batch, self.config.mean, self.config.std))
        with self._lock, torch.inference_mode():
            return self.bundle.network(inputs)

    def find_batch(self, images: Sequence[ImageSource]) -> list[ScreenFinding]:
        """One :class:`ScreenFinding` per image."""
        size, channels = self.config.input_size, self.config.channels
        batch = torch.from_numpy(np.stack([to_tensor_array(load_image(im), size, channels) for im in images]))
        findings = []
        for row in self.outputs(batch):
            probability = float(torch.sigmoid(row[8]))
            quad = row[:8].view(4, 2)
            corners = tuple((float(x), float(y)) for x, y in quad.tolist())
            findings.append(ScreenFinding(probability >= self.threshold and not fills_photo(quad), probability,
                                          corners))
        return findings

    def crop(self, image: ImageSource) -> tuple[Image.Image, ScreenFinding]:
        """The displayed image, upright, when ``image`` is a photo of a screen; else ``image`` itself."""
        decoded = load_image(image)
        finding = self.find_batch([decoded])[0]
        if not finding.screen:
            return decoded, finding
        return rectify(decoded, np.asarray(finding.corners)), finding


def cropped_photos(sources: Sequence[ImageSource], seed: int, params: ScreenPhotoParams) -> list[Image.Image]:
    """Each of ``sources`` photographed off a simulated screen (``params``, seed ``seed`` + its index) and cropped
    by the committed screen finder: what the live intake hands the models for a photo of that image."""
    cropper = ScreenCropper.load()
    return [cropper.crop(screen_photo_bytes(source, seed + index, params))[0]
            for index, source in enumerate(tqdm(sources, desc="photos cropped", unit="image", leave=False))]
