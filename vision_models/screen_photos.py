"""Photos of a screen, a light box or a print, simulated on batches of images (torch only, no pixel loops).

Most patients do not have the file: they photograph the monitor. :func:`photograph` turns a batch (N, C, H, W) in
[0, 1] into such photos: the displayed image under a random perspective and rotation, partly cropped, inside a
bezel on a background, with the screen's raised black level and lower contrast, a colour cast, moiré, a glare
spot, blur and sensor noise, applied in the order of ``params.order``. Two parameter sets exist on purpose:
:data:`TRAINING` augments the prefilter's and the labeller's training batches; :data:`ROBUSTNESS` builds the
robustness test set from ``val`` (:func:`screen_photo_bytes`, JPEG-compressed at the end) with other ranges and
another order, so that a model is not scored on the very distortions it was trained with.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

from vision_models.imaging import ImageSource, load_image, to_tensor_array


@dataclass(frozen=True)
class ScreenPhotoParams:
    """Ranges (low, high) of each distortion; a range of (0, 0) turns it off."""

    fill: tuple[float, float]        # half-width of the displayed image in the photo (1 = the whole frame)
    tilt: tuple[float, float]        # perspective: corner displacement, fraction of the half-width
    rotate_deg: tuple[float, float]
    shift: tuple[float, float]       # centre offset of the displayed image (beyond the frame: a partial crop)
    bezel: tuple[float, float]       # bezel width, fraction of the displayed image's half-width
    black: tuple[float, float]       # the screen's black level
    contrast: tuple[float, float]    # the screen's contrast (white level minus black level)
    cast: tuple[float, float]        # per-channel gain deviation (colour inputs)
    moire: tuple[float, float]       # amplitude of the interference pattern
    moire_period: tuple[float, float]  # its period in pixels
    glare: tuple[float, float]       # peak brightness added by a reflection
    glare_radius: tuple[float, float]  # its radius, fraction of the frame
    blur: tuple[float, float]        # Gaussian sigma in pixels
    noise: tuple[float, float]       # sensor noise standard deviation
    jpeg_quality: tuple[int, int]    # only in :func:`screen_photo_bytes`
    order: tuple[str, ...] = ("screen", "frame", "cast", "moire", "glare", "blur", "noise")


TRAINING = ScreenPhotoParams(
    fill=(0.55, 1.05), tilt=(0.0, 0.12), rotate_deg=(-12.0, 12.0), shift=(-0.15, 0.15), bezel=(0.02, 0.12),
    black=(0.0, 0.18), contrast=(0.65, 1.0), cast=(0.0, 0.12), moire=(0.0, 0.05), moire_period=(2.5, 6.0),
    glare=(0.0, 0.35), glare_radius=(0.08, 0.35), blur=(0.0, 1.2), noise=(0.0, 0.04), jpeg_quality=(0, 0),
)
ROBUSTNESS = ScreenPhotoParams(
    fill=(0.5, 0.95), tilt=(0.02, 0.18), rotate_deg=(-18.0, 18.0), shift=(-0.2, 0.2), bezel=(0.03, 0.2),
    black=(0.04, 0.25), contrast=(0.55, 0.9), cast=(0.03, 0.18), moire=(0.01, 0.07), moire_period=(2.0, 8.0),
    glare=(0.05, 0.45), glare_radius=(0.05, 0.3), blur=(0.3, 1.8), noise=(0.01, 0.05), jpeg_quality=(35, 85),
    order=("cast", "screen", "glare", "frame", "moire", "noise", "blur"),
)
STEPS = frozenset(TRAINING.order)
FULL_FRAME = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])  # corners: TL, TR, BR, BL
# How far the screen finder misses a corner, per coordinate (x, y in [-1, 1]): a Gaussian, whose mean corner
# distance is 1.25 sigma. `python -m vision_models evaluate screen_crop --data ../shared/data --split train` gives
# the finder's mean corner error on `train` photos at the ROBUSTNESS ranges: 0.054 of the width (2026-12-07), a
# distance of 0.107 here, so sigma 0.086; 0.08 came from a first measurement on 300 of those images (0.103).
FINDER_CORNER_SIGMA = 0.08


def _draw(n: int, bounds: tuple[float, float], generator: torch.Generator) -> torch.Tensor:
    low, high = bounds
    return low + (high - low) * torch.rand(n, generator=generator)


def homographies(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N, 3, 3) maps sending the 4 ``target`` corners (N, 4, 2) to the 4 ``source`` corners."""
    n = source.shape[0]
    x, y = target[..., 0], target[..., 1]
    u, v = source[..., 0], source[..., 1]
    zeros, ones = torch.zeros_like(x), torch.ones_like(x)
    rows_u = torch.stack([x, y, ones, zeros, zeros, zeros, -u * x, -u * y], dim=-1)
    rows_v = torch.stack([zeros, zeros, zeros, x, y, ones, -v * x, -v * y], dim=-1)
    a = torch.cat([rows_u, rows_v], dim=1)
    b = torch.cat([u, v], dim=1)
    h = torch.linalg.solve(a, b.unsqueeze(-1)).squeeze(-1)
    return torch.cat([h, torch.ones(n, 1, dtype=h.dtype)], dim=1).view(n, 3, 3)


def _map_points(maps: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Points (N or 1, P, 2) sent through the homographies ``maps`` (N, 3, 3): (N, P, 2)."""
    ones = torch.ones(*points.shape[:-1], 1, dtype=points.dtype)
    mapped = torch.cat([points, ones], -1) @ maps.transpose(1, 2)
    return mapped[..., :2] / mapped[..., 2:].clamp(min=1e-6)


def _sampling_grid(maps: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """For ``grid_sample``: where the homographies ``maps`` (N, 3, 3) send each pixel of an output of ``height``
    x ``width`` (x, y in [-1, 1]), as (N, height, width, 2)."""
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, height, dtype=maps.dtype),
                            torch.linspace(-1, 1, width, dtype=maps.dtype), indexing="ij")
    pixels = torch.stack([xs, ys], -1).view(1, height * width, 2)
    return _map_points(maps, pixels).view(maps.shape[0], height, width, 2)


def _frame(images: torch.Tensor, p: ScreenPhotoParams, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The displayed image under perspective, rotation and shift, in its bezel, on a smooth background; and the
    displayed image's corners in the photo (N, 4, 2: top-left, top-right, bottom-right, bottom-left; x, y in
    [-1, 1] across the photo, beyond it where the photo crops the screen)."""
    n, c, h, w = images.shape
    square = FULL_FRAME.expand(n, 4, 2)
    angle = _draw(n, p.rotate_deg, g) * math.pi / 180.0
    rotation = torch.stack([torch.stack([angle.cos(), -angle.sin()], -1),
                            torch.stack([angle.sin(), angle.cos()], -1)], -2)
    corners = square * _draw(n, p.fill, g).view(n, 1, 1)
    corners = corners + _draw(8 * n, p.tilt, g).view(n, 4, 2) * torch.sign(torch.randn(n, 4, 2, generator=g)) \
        * corners.abs()
    corners = corners @ rotation.transpose(1, 2) + _draw(2 * n, p.shift, g).view(n, 1, 2)
    grid = _sampling_grid(homographies(square.to(torch.float64), corners.to(torch.float64)).to(images.dtype), h, w)
    shown = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=True)
    edge = grid.abs().amax(dim=-1, keepdim=True).permute(0, 3, 1, 2)
    bezel_edge = 1.0 + _draw(n, p.bezel, g).view(n, 1, 1, 1)
    bezel = _draw(n, (0.02, 0.2), g).view(n, 1, 1, 1).expand(n, c, 1, 1)
    shade = torch.rand(n, 1, 4, 4, generator=g) * 0.4 + _draw(n, (0.1, 0.55), g).view(n, 1, 1, 1)
    tint = (torch.rand(n, c, 1, 1, generator=g) - 0.5) * 0.2  # a desk, a wall, a room: muted colours
    background = F.interpolate(shade + tint, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)
    framed = torch.where(edge <= 1.0, shown, torch.where(edge <= bezel_edge, bezel.expand(n, c, h, w), background))
    return framed, corners


def _blur(images: torch.Tensor, p: ScreenPhotoParams, g: torch.Generator) -> torch.Tensor:
    n, c, h, w = images.shape
    sigma = _draw(n, p.blur, g).clamp(min=1e-3).view(n, 1)
    radius = max(1, math.ceil(3 * p.blur[1]))
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype).view(1, -1)
    kernel = torch.exp(-offsets ** 2 / (2 * sigma ** 2))
    kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(c, dim=0)  # (N*C, K)
    flat = F.pad(images.reshape(1, n * c, h, w), (radius, radius, radius, radius), mode="replicate")
    flat = F.conv2d(flat, kernel.view(n * c, 1, 1, -1), groups=n * c)
    flat = F.conv2d(flat, kernel.view(n * c, 1, -1, 1), groups=n * c)
    return flat.view(n, c, h, w)


def _pixel_coordinates(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    h, w = images.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(h, dtype=images.dtype), torch.arange(w, dtype=images.dtype), indexing="ij")
    return ys, xs


def _step(name: str, images: torch.Tensor, p: ScreenPhotoParams, g: torch.Generator) -> torch.Tensor:
    n, c, h, w = images.shape
    if name == "screen":
        black = _draw(n, p.black, g).view(n, 1, 1, 1)
        return black + _draw(n, p.contrast, g).view(n, 1, 1, 1) * images
    if name == "cast":
        return images * (1.0 + _draw(n * c, p.cast, g).view(n, c, 1, 1) * torch.sign(
            torch.randn(n, c, 1, 1, generator=g))) if c > 1 else images
    if name == "moire":
        ys, xs = _pixel_coordinates(images)
        period = _draw(n, p.moire_period, g).view(n, 1, 1, 1)
        direction = _draw(n, (0.0, math.pi), g).view(n, 1, 1, 1)
        phase = xs * direction.cos() + ys * direction.sin()
        return images + _draw(n, p.moire, g).view(n, 1, 1, 1) * torch.sin(2 * math.pi * phase / period)
    if name == "glare":
        ys, xs = _pixel_coordinates(images)
        centre_x, centre_y = _draw(n, (0.0, w), g).view(n, 1, 1, 1), _draw(n, (0.0, h), g).view(n, 1, 1, 1)
        radius = _draw(n, p.glare_radius, g).view(n, 1, 1, 1) * max(h, w)
        spot = torch.exp(-((xs - centre_x) ** 2 + (ys - centre_y) ** 2) / (2 * radius ** 2))
        return images + _draw(n, p.glare, g).view(n, 1, 1, 1) * spot
    if name == "blur":
        return _blur(images, p, g)
    if name == "noise":
        return images + _draw(n, p.noise, g).view(n, 1, 1, 1) * torch.randn(images.shape, generator=g)
    raise ValueError(f"unknown screen-photo step {name!r}")


def photograph(images: torch.Tensor, generator: torch.Generator, params: ScreenPhotoParams = TRAINING) -> torch.Tensor:
    """A photo of each image shown on a screen (see the module docstring), clamped to [0, 1]."""
    return photograph_with_corners(images, generator, params)[0]


def photograph_with_corners(images: torch.Tensor, generator: torch.Generator,
                            params: ScreenPhotoParams = TRAINING) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`photograph`, and where each displayed image's corners are in its photo (see ``_frame``)."""
    unknown = set(params.order) - STEPS
    if unknown:
        raise ValueError(f"unknown screen-photo steps {sorted(unknown)}")
    out = images
    corners = FULL_FRAME.expand(images.shape[0], 4, 2)  # without a "frame" step the image fills the photo
    for name in params.order:
        if name == "frame":
            out, corners = _frame(out, params, generator)
        else:
            out = _step(name, out, params, generator)
        out = out.clamp(0.0, 1.0)
    return out, corners


def warp_quads(images: torch.Tensor, quads: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The quadrilaterals ``quads`` (N, 4, 2; corners as in ``_frame``) of ``images`` (N, C, H, W) warped to
    upright images (N, C, ``height``, ``width``); what lies outside an image is black, as a screen's edge."""
    to_photo = homographies(quads.to(torch.float64), FULL_FRAME.to(torch.float64).expand(len(quads), 4, 2))
    grid = _sampling_grid(to_photo.to(images.dtype), height, width)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


def _photograph_and_crop(images: torch.Tensor, generator: torch.Generator, params: ScreenPhotoParams,
                         corner_sigma: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The finder's crops of photos of ``images``, the displayed images' true corners and the missed ones."""
    photos, corners = photograph_with_corners(images, generator, params)
    missed = corners + corner_sigma * torch.randn(corners.shape, generator=generator)
    return warp_quads(photos, missed, *images.shape[-2:]).clamp(0.0, 1.0), corners, missed


def photograph_cropped(images: torch.Tensor, generator: torch.Generator, params: ScreenPhotoParams = TRAINING,
                       corner_sigma: float = FINDER_CORNER_SIGMA) -> torch.Tensor:
    """Photos of ``images`` as the screen finder hands them on: each :func:`photograph` cropped upright along
    its displayed image's corners, each corner missed by Gaussian noise of ``corner_sigma`` per coordinate."""
    return _photograph_and_crop(images, generator, params, corner_sigma)[0]


def photograph_cropped_with_masks(images: torch.Tensor, masks: torch.Tensor, generator: torch.Generator,
                                  params: ScreenPhotoParams = TRAINING,
                                  corner_sigma: float = FINDER_CORNER_SIGMA) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`photograph_cropped`, and each mask (N, 1, H, W) moved as its image was (0 where the crop shows no
    displayed image)."""
    crops, corners, missed = _photograph_and_crop(images, generator, params, corner_sigma)
    # the crop's corners seen in the displayed image: the frame step's photo-to-image map applied to them
    to_image = homographies(FULL_FRAME.to(torch.float64).expand(len(corners), 4, 2), corners.to(torch.float64))
    in_image = _map_points(to_image, missed.to(torch.float64))
    return crops, (warp_quads(masks, in_image, *masks.shape[-2:]) > 0.5).to(masks.dtype)


def screen_photo_bytes(source: ImageSource, seed: int, params: ScreenPhotoParams = ROBUSTNESS,
                       size: int = 256) -> bytes:
    """One robustness-set image: ``source`` photographed off a screen at ``size`` px, as a JPEG file."""
    return screen_photo(source, seed, params, size)[0]


def screen_photo(source: ImageSource, seed: int, params: ScreenPhotoParams = ROBUSTNESS,
                 size: int = 256) -> tuple[bytes, np.ndarray]:
    """:func:`screen_photo_bytes`, and the displayed image's corners in the photo (4, 2; see ``_frame``)."""
    generator = torch.Generator().manual_seed(seed)
    pixels = torch.from_numpy(to_tensor_array(load_image(source), size, 3))[None]
    photos, corners = photograph_with_corners(pixels, generator, params)
    low, high = params.jpeg_quality
    quality = int(torch.randint(low, high + 1, (1,), generator=generator)) if high else 95
    array = (photos[0].permute(1, 2, 0).numpy() * 255.0).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array, mode="RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue(), corners[0].numpy()


ROBUSTNESS_SEED = 20261202


def robustness_set(sources: Sequence[ImageSource]) -> list[bytes]:
    """The robustness test set of ``sources`` (``val`` images): each photographed once, reproducibly."""
    return [screen_photo_bytes(source, ROBUSTNESS_SEED + index)
            for index, source in enumerate(tqdm(sources, desc="screen photos", unit="image", leave=False))]
