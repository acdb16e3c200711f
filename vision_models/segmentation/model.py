"""Inference API of the brain-MRI FLAIR-abnormality segmenter."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from vision_models.bundle import Bundle, load_bundle
from vision_models.imaging import (
    ImageSource,
    load_image,
    to_grayscale_array,
    to_rgb_array,
    to_tensor_array,
)
from vision_models.networks import network_from_config
from vision_models.segmentation.config import DEFAULT_BUNDLE
from vision_models.segmentation.overlay import overlay_png
from vision_models.segmentation.postprocess import PostProcessing
from vision_models.transforms import normalise


@dataclass(frozen=True)
class SegmentationResult:
    """Mask at the input's resolution, lesion size and an overlay PNG to show the patient."""

    mask: np.ndarray
    lesion_pixels: int
    brain_pixels: int
    lesion_fraction: float
    overlay_png: bytes
    lesion_side: str = "none"


SIDES = ("none", "left", "right", "both")  # half of the image (as displayed) that holds the lesion
ONE_SIDE_SHARE = 0.8  # share of the lesion's pixels in one half for it to be "on that side"


def lesion_side(lesion: np.ndarray, brain: np.ndarray) -> str:
    """Which half of the image, as displayed, holds the lesion: one of :data:`SIDES`.

    The midline is the column of the brain's centroid (the head need not be centred in a photo); a lesion with
    at least :data:`ONE_SIDE_SHARE` of its pixels on one side of it is on that side, else on ``both``.
    """
    lesion_columns = np.nonzero(lesion)[1]
    if lesion_columns.size == 0:
        return "none"
    brain_columns = np.nonzero(brain)[1]
    midline = brain_columns.mean() if brain_columns.size else (lesion.shape[1] - 1) / 2
    left_share = float((lesion_columns < midline).mean())
    if left_share >= ONE_SIDE_SHARE:
        return "left"
    if left_share <= 1 - ONE_SIDE_SHARE:
        return "right"
    return "both"


class Segmenter:
    """2-D BasicUNet segmenting FLAIR abnormality in brain-MRI slices of any size.

    The network runs at the bundle's input size; the probability map is resized back to the
    input's resolution before thresholding. Bundles with ``flip_tta`` average the logits of each slice and of
    its left-right mirror image (test-time augmentation). Post-processing (``self.post``, tuned at training
    time) drops small blobs from each slice; :meth:`predict_volume` also filters 3-D components across the
    slices of one volume. Thread-safe; weights are loaded once.
    """

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.config = bundle.config
        extra = self.config.extra
        self.post = PostProcessing(**extra.get("post_processing", {"threshold": float(extra.get("threshold", 0.5))}))
        self.brain_threshold = float(extra.get("brain_threshold", 0.04))
        self.flip_tta = bool(extra.get("flip_tta", False))
        self._lock = threading.Lock()

    @classmethod
    def load(cls, location: Path | str = DEFAULT_BUNDLE, cache_dir: Path | None = None) -> Segmenter:
        """Load a bundle from a folder or an ``http(s)://`` URL (checksum verified)."""
        return cls(load_bundle(location, network_from_config, cache_dir))

    def probabilities(self, images: Sequence[Image.Image]) -> list[np.ndarray]:
        """Lesion probability map of each image, at the image's own resolution."""
        size, channels = self.config.input_size, self.config.channels
        batch = torch.from_numpy(np.stack([to_tensor_array(im, size, channels) for im in images]))
        batch = normalise(batch, self.config.mean, self.config.std)
        with self._lock, torch.inference_mode():
            if self.flip_tta:
                both = self.bundle.network(torch.cat([batch, batch.flip(-1)]))
                logits = (both[:len(images)] + both[len(images):].flip(-1)) / 2
            else:
                logits = self.bundle.network(batch)
        maps = []
        for image, logit in zip(images, logits):
            resized = F.interpolate(logit[None], size=(image.height, image.width), mode="bilinear",
                                    align_corners=False)
            maps.append(torch.sigmoid(resized)[0, 0].numpy())
        return maps

    def predict_masks(self, images: Sequence[ImageSource]) -> list[np.ndarray]:
        """Boolean lesion masks (slice post-processing applied), one per image, at each image's resolution."""
        decoded = [load_image(im) for im in images]
        return [self.post.slice_mask(p) for p in self.probabilities(decoded)]

    def predict(self, image: ImageSource) -> SegmentationResult:
        """Segment one slice; see :class:`SegmentationResult`."""
        return self.predict_batch([image])[0]

    def predict_batch(self, images: Sequence[ImageSource]) -> list[SegmentationResult]:
        """Segment several unrelated slices in one forward pass (2-D post-processing only)."""
        decoded = [load_image(im) for im in images]
        return self._results(decoded, self.predict_masks(decoded))

    def predict_volume(self, slices: Sequence[ImageSource]) -> list[SegmentationResult]:
        """Segment the slices of one volume, in slice order and all of one size, with 3-D post-processing."""
        decoded = [load_image(im) for im in slices]
        if len({im.size for im in decoded}) > 1:
            raise ValueError("The slices of a volume must all have the same size.")
        return self._results(decoded, self.post.volume_masks(self.probabilities(decoded)))

    def _results(self, images: Sequence[Image.Image], masks: Sequence[np.ndarray]) -> list[SegmentationResult]:
        results = []
        for image, mask in zip(images, masks):
            brain = (to_grayscale_array(image) > self.brain_threshold) | mask
            lesion, brain_pixels = int(mask.sum()), int(brain.sum())
            results.append(SegmentationResult(
                mask=mask,
                lesion_pixels=lesion,
                brain_pixels=brain_pixels,
                lesion_fraction=lesion / brain_pixels if brain_pixels else 0.0,
                overlay_png=overlay_png(to_rgb_array(image), mask),
                lesion_side=lesion_side(mask, brain),
            ))
        return results
