"""Shared pieces of the image classifiers (prefilter, labeller): batched inference and training."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from vision_models.bundle import Bundle
from vision_models.engine import TrainHistory, TrainSettings, fit
from vision_models.imaging import to_tensor_array
from vision_models.screen_photos import photograph, photograph_cropped
from vision_models.transforms import (
    augment_classification,
    normalise,
    random_grayscale,
    to_float,
)


class ClassifierRuntime:
    """Runs a bundle's classifier on decoded images: one normalisation path, a lock, no gradients."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.config = bundle.config
        self._lock = threading.Lock()

    def inputs(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Network input batch for ``images`` (any size or mode)."""
        arrays = [to_tensor_array(im, self.config.input_size, self.config.channels) for im in images]
        return normalise(torch.from_numpy(np.stack(arrays)), self.config.mean, self.config.std)

    def logits(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Raw logits, shape (len(images), classes)."""
        if not images:
            return np.zeros((0, len(self.config.classes)), dtype=np.float32)
        batch = self.inputs(images)
        with self._lock, torch.inference_mode():
            return self.bundle.network(batch).numpy()


def class_weights(labels: np.ndarray, num_classes: int) -> torch.Tensor:
    """Loss weights proportional to 1/sqrt(class frequency), mean 1."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    weights = 1.0 / np.sqrt(np.maximum(counts, 1.0))
    return torch.as_tensor(weights / weights.mean(), dtype=torch.float32)


def train_classifier(network: torch.nn.Module, images: np.ndarray, labels: np.ndarray, num_classes: int,
                     settings: TrainSettings, generator: torch.Generator, mean: float, std: float,
                     grey_probability: np.ndarray | None = None, screen_photo_probability: float = 0.0,
                     cropped_photo_share: float = 0.0, input_size: int | None = None,
                     desc: str = "training") -> TrainHistory:
    """Train a classifier on uint8 ``images`` (N, C, H, W) with augmentation and class-weighted cross-entropy.

    ``grey_probability`` (per sample) turns colour inputs grey at random, so colour alone is not a cue;
    ``screen_photo_probability`` of every class's samples are seen as photos of a screen
    (:func:`vision_models.screen_photos.photograph` with its training ranges), and ``cropped_photo_share`` of
    those photos as the screen finder crops them (:func:`vision_models.screen_photos.photograph_cropped`).
    ``input_size``: the network's input side when ``images`` are larger (the photos are then taken at the images'
    size, as a phone takes them at more pixels than the network reads, and every sample is shrunk after).
    """
    if input_size is not None and min(images.shape[-2:]) < input_size:
        raise ValueError(f"Training images of {tuple(images.shape[-2:])} px are smaller than the input, {input_size}.")
    weights = class_weights(labels, num_classes)
    targets = torch.as_tensor(labels, dtype=torch.long)

    def make_batch(idx: np.ndarray, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = to_float(images[idx])
        if grey_probability is not None:
            p = torch.as_tensor(grey_probability[idx], dtype=torch.float32).view(-1, 1, 1, 1)
            pick = torch.rand(len(idx), generator=gen).view(-1, 1, 1, 1) < p
            x = torch.where(pick, random_grayscale(x, gen, 1.0), x)
        if screen_photo_probability > 0:
            photographed = torch.rand(len(idx), generator=gen) < screen_photo_probability
            cropped = torch.zeros_like(photographed)
            if cropped_photo_share > 0:
                cropped = photographed & (torch.rand(len(idx), generator=gen) < cropped_photo_share)
            for chosen, shoot in ((photographed & ~cropped, photograph), (cropped, photograph_cropped)):
                if chosen.any():
                    x[chosen] = shoot(x[chosen], gen)
        if input_size is not None and x.shape[-2:] != (input_size, input_size):
            x = F.interpolate(x, size=(input_size, input_size), mode="bilinear", antialias=True, align_corners=False)
        return normalise(augment_classification(x, gen), mean, std), targets[idx]

    def loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, y, weight=weights, label_smoothing=0.05)

    return fit(network, len(labels), make_batch, loss, settings, generator, desc=desc)
