"""Readers for the data folders (layouts described in each folder's README).

- Classification folders (``modality/``, ``nonmedical/``): ``splits.csv`` with ``path,label,split``,
  paths relative to the folder.
- Segmentation folder (``lgg_mri/``): ``slices.csv`` with ``split,patient,slice,image,mask,tumour_pixels``.

Images are decoded with :func:`vision_models.imaging.load_image` and normalised with
:func:`vision_models.imaging.to_tensor_array`, exactly as at inference time, and kept in memory
as uint8 to stay small.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from vision_models.imaging import ImageSource, load_image, to_tensor_array


class DataError(ValueError):
    """A data folder that does not have the expected layout."""


@dataclass(frozen=True)
class Sample:
    """One classification sample: an image path and its label from ``splits.csv``."""

    path: Path
    label: str
    split: str


def _read_csv(path: Path, required: Sequence[str]) -> list[dict[str, str]]:
    if not path.is_file():
        raise DataError(f"{path} is missing; expected a CSV with columns {', '.join(required)}.")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = [c for c in required if rows and c not in rows[0]]
    if not rows or missing:
        raise DataError(f"{path} has no rows or lacks columns {missing}.")
    return rows


def read_splits(folder: Path | str) -> list[Sample]:
    """All samples listed in ``folder/splits.csv``."""
    root = Path(folder)
    rows = _read_csv(root / "splits.csv", ("path", "label", "split"))
    return [Sample(root / r["path"], r["label"], r["split"]) for r in rows]


def select_split(samples: Sequence[Sample], split: str) -> list[Sample]:
    """Samples of one split; raises :class:`DataError` when there are none."""
    chosen = [s for s in samples if s.split == split]
    if not chosen:
        present = sorted({s.split for s in samples})
        raise DataError(f"No samples in split {split!r}; splits present: {present}.")
    return chosen


def default_eval_split(splits: Sequence[str]) -> str:
    """``test`` when a folder has one (a held-out folder), otherwise ``val``."""
    return "test" if "test" in set(splits) else "val"


def load_arrays(sources: Sequence[ImageSource], size: int, channels: int, desc: str = "loading") -> np.ndarray:
    """Decode and normalise images (files, bytes or PIL images) into a uint8 array (N, channels, size, size)."""
    out = np.empty((len(sources), channels, size, size), dtype=np.uint8)
    for i, source in enumerate(tqdm(sources, desc=desc, unit="img", leave=False)):
        out[i] = np.round(to_tensor_array(load_image(source), size, channels) * 255.0).astype(np.uint8)
    return out


def carve_holdout(labels: Sequence[str], fraction: float, seed: int) -> np.ndarray:
    """Boolean mask picking a seeded, per-label ``fraction`` of the indices (at least one per label)."""
    rng = np.random.default_rng(seed)
    labels_arr = np.asarray(labels)
    mask = np.zeros(len(labels_arr), dtype=bool)
    for label in sorted(set(labels_arr.tolist())):
        idx = np.flatnonzero(labels_arr == label)
        take = max(1, round(fraction * len(idx)))
        mask[rng.permutation(idx)[:take]] = True
    return mask


@dataclass(frozen=True)
class Slice:
    """One brain-MRI slice with its mask, from ``slices.csv``."""

    patient: str
    index: int
    image: Path
    mask: Path
    tumour_pixels: int
    split: str


def read_slices(folder: Path | str, split: str | None = None) -> list[Slice]:
    """Slices listed in ``folder/slices.csv`` (optionally one split), sorted by patient and slice."""
    root = Path(folder)
    rows = _read_csv(root / "slices.csv", ("split", "patient", "slice", "image", "mask", "tumour_pixels"))
    slices = [
        Slice(r["patient"], int(r["slice"]), root / r["image"], root / r["mask"], int(r["tumour_pixels"]), r["split"])
        for r in rows
    ]
    if split is not None:
        slices = [s for s in slices if s.split == split]
        if not slices:
            raise DataError(f"No slices in split {split!r} of {root / 'slices.csv'}.")
    return sorted(slices, key=lambda s: (s.patient, s.index))


def load_mask(path: Path, size: int | None = None) -> np.ndarray:
    """Binary mask (bool, H x W); resized with nearest neighbour when ``size`` is given."""
    mask = Image.open(path).convert("L")
    if size is not None and mask.size != (size, size):
        mask = mask.resize((size, size), Image.Resampling.NEAREST)
    return np.asarray(mask) > 127


def load_segmentation_arrays(slices: Sequence[Slice], size: int, channels: int,
                             desc: str = "loading") -> tuple[np.ndarray, np.ndarray]:
    """Images (uint8, N x C x size x size) and masks (bool, N x size x size) of ``slices``."""
    images = np.empty((len(slices), channels, size, size), dtype=np.uint8)
    masks = np.empty((len(slices), size, size), dtype=bool)
    for i, item in enumerate(tqdm(slices, desc=desc, unit="slice", leave=False)):
        images[i] = np.round(to_tensor_array(load_image(item.image), size, channels) * 255.0).astype(np.uint8)
        masks[i] = load_mask(item.mask, size)
    return images, masks
