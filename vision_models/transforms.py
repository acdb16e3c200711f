"""Batch transforms for training (augmentation) and inference (normalisation).

Images arrive as float tensors of shape (N, C, H, W) in [0, 1] (the output of
:func:`vision_models.imaging.to_tensor_array`). Random transforms draw from an explicit
``torch.Generator`` so that training is reproducible.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def normalise(batch: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """Scale [0, 1] inputs with the bundle's mean and standard deviation."""
    return (batch - mean) / std


def to_float(batch_uint8: np.ndarray) -> torch.Tensor:
    """uint8 (N, C, H, W) array -> float tensor in [0, 1]."""
    return torch.from_numpy(batch_uint8).float().div_(255.0)


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def random_affine_grid(n: int, size: tuple[int, int], generator: torch.Generator, rotate_deg: float = 15.0,
                       scale: tuple[float, float] = (0.9, 1.1), translate: float = 0.08,
                       flip: bool = True) -> torch.Tensor:
    """Sampling grid for a random rotation, zoom, shift and (optional) horizontal flip per sample."""
    angle = _uniform(n, -rotate_deg, rotate_deg, generator) * math.pi / 180.0
    zoom = _uniform(n, scale[0], scale[1], generator)
    shift = _uniform(2 * n, -translate, translate, generator).view(n, 2)
    mirror = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0) if flip else torch.ones(n)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([
        torch.stack([cos * mirror, -sin, shift[:, 0]], dim=1),
        torch.stack([sin * mirror, cos, shift[:, 1]], dim=1),
    ], dim=1)
    return F.affine_grid(theta, [n, 1, size[0], size[1]], align_corners=False)


def random_intensity(batch: torch.Tensor, generator: torch.Generator, contrast: float = 0.2,
                     brightness: float = 0.1, gamma: float = 0.25) -> torch.Tensor:
    """Random contrast, brightness and gamma per sample; output clamped to [0, 1]."""
    n = batch.shape[0]
    c = _uniform(n, 1 - contrast, 1 + contrast, generator).view(n, 1, 1, 1)
    b = _uniform(n, -brightness, brightness, generator).view(n, 1, 1, 1)
    g = torch.exp(_uniform(n, -gamma, gamma, generator)).view(n, 1, 1, 1)
    mean = batch.mean(dim=(1, 2, 3), keepdim=True)
    out = ((batch - mean) * c + mean + b).clamp(0, 1)
    return out.pow(g)


def random_grayscale(batch: torch.Tensor, generator: torch.Generator, probability: float,
                     source_channel: int | None = None) -> torch.Tensor:
    """Replace all channels of a random subset of samples by one grey channel.

    ``source_channel`` picks the channel to copy (e.g. FLAIR); by default the channel mean is used.
    """
    if batch.shape[1] == 1 or probability <= 0:
        return batch
    pick = (torch.rand(batch.shape[0], generator=generator) < probability).view(-1, 1, 1, 1)
    grey = batch[:, source_channel:source_channel + 1] if source_channel is not None else batch.mean(1, keepdim=True)
    return torch.where(pick, grey.expand_as(batch), batch)


def augment_classification(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Geometric + intensity augmentation for classifier training."""
    grid = random_affine_grid(batch.shape[0], (batch.shape[-2], batch.shape[-1]), generator)
    moved = F.grid_sample(batch, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return random_intensity(moved, generator)


def augment_segmentation(images: torch.Tensor, masks: torch.Tensor, generator: torch.Generator,
                         grey_probability: float = 0.2, grey_channel: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Same random geometry for images and masks, intensity jitter and occasional single-sequence input."""
    size = (images.shape[-2], images.shape[-1])
    grid = random_affine_grid(images.shape[0], size, generator, rotate_deg=12.0, translate=0.05)
    moved = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    moved_masks = F.grid_sample(masks, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    moved = random_intensity(moved, generator, contrast=0.15, brightness=0.05, gamma=0.2)
    moved = random_grayscale(moved, generator, grey_probability, source_channel=grey_channel)
    return moved, (moved_masks > 0.5).float()


def augment_vqa(images: torch.Tensor, generator: torch.Generator, shift: int = 4) -> torch.Tensor:
    """VQA training: a random translation (±``shift`` px, edge padding) and brightness/contrast jitter per image."""
    n, _, s, _ = images.shape
    padded = F.pad(images, (shift, shift, shift, shift), mode="replicate")
    offsets = torch.randint(0, 2 * shift + 1, (n, 2), generator=generator)
    out = torch.stack([padded[i, :, y:y + s, x:x + s] for i, (y, x) in enumerate(offsets.tolist())])
    gain = 1.0 + 0.1 * (torch.rand(n, 1, 1, 1, generator=generator) * 2 - 1)
    bias = 0.05 * (torch.rand(n, 1, 1, 1, generator=generator) * 2 - 1)
    return ((out - 0.5) * gain + 0.5 + bias).clamp(0, 1)
