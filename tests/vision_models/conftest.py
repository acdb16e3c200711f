"""Tiny generated data folders and settings for the vision-model tests (never ../shared)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

torch.set_num_threads(1)

SPLITS = {"train": 6, "val": 3}


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _stripes(rng: np.random.Generator, size: int = 40) -> Image.Image:
    period = int(rng.integers(4, 8))
    arr = ((np.arange(size)[:, None] // period) % 2 * 180 + rng.integers(0, 40, (size, size))).astype(np.uint8)
    return Image.fromarray(np.broadcast_to(arr, (size, size)).copy(), mode="L")


def _disc(rng: np.random.Generator, size: int = 40) -> Image.Image:
    image = Image.new("L", (size, size), int(rng.integers(0, 30)))
    r = int(rng.integers(8, 16))
    ImageDraw.Draw(image).ellipse([size // 2 - r, size // 2 - r, size // 2 + r, size // 2 + r], fill=220)
    return image


def _colour_noise(rng: np.random.Generator, size: int = 40) -> Image.Image:
    return Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8), mode="RGB")


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with ``modality/`` (classes ``stripes`` and ``disc``) and ``nonmedical/`` (``noise``)."""
    root = tmp_path_factory.mktemp("vision_data")
    rng = np.random.default_rng(0)
    folders = {"modality": {"stripes": _stripes, "disc": _disc}, "nonmedical": {"noise": _colour_noise}}
    for folder, makers in folders.items():
        rows = []
        for label, make in makers.items():
            (root / folder / label).mkdir(parents=True)
            for split, count in SPLITS.items():
                for i in range(count):
                    rel = f"{label}/{split}_{i}.png"
                    make(rng).save(root / folder / rel)
                    rows.append([rel, label, split])
        _write_csv(root / folder / "splits.csv", ["path", "label", "split"], rows)
    return root


@pytest.fixture(scope="session")
def lgg_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ``lgg_mri``-style folder: two patients per split, four 48x48 RGB slices each, a bright 'lesion'."""
    root = tmp_path_factory.mktemp("lgg")
    rng = np.random.default_rng(1)
    rows = []
    for split in ("train", "val"):
        for p in range(2):
            patient = f"P{split}{p}"
            (root / split / patient).mkdir(parents=True)
            for s in range(1, 5):
                image = np.zeros((48, 48, 3), dtype=np.uint8)
                image[8:40, 8:40] = 90
                mask = np.zeros((48, 48), dtype=np.uint8)
                if s % 2:
                    y, x = (int(v) for v in rng.integers(12, 28, 2))
                    image[y:y + 8, x:x + 8] = 230
                    mask[y:y + 8, x:x + 8] = 255
                stem = f"{split}/{patient}/{patient}_{s}"
                Image.fromarray(image, mode="RGB").save(root / f"{stem}.png")
                Image.fromarray(mask, mode="L").save(root / f"{stem}_mask.png")
                rows.append([split, patient, s, f"{stem}.png", f"{stem}_mask.png", int((mask > 0).sum())])
    _write_csv(root / "slices.csv", ["split", "patient", "slice", "image", "mask", "tumour_pixels"], rows)
    return root


@pytest.fixture(scope="session")
def prefilter_bundle(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prefilter bundle trained for two steps on the tiny data."""
    from vision_models.prefilter.config import PrefilterConfig
    from vision_models.prefilter.train import train

    config = PrefilterConfig(input_size=32, features=(4, 8), documents={"train": 5, "val": 2}, dev_fraction=0.2,
                             cropped_photo_share=0.5, photo_size=48)
    config.settings.epochs, config.settings.batch_size, config.settings.max_steps = 1, 8, 2
    out = tmp_path_factory.mktemp("prefilter_bundle")
    train(data_root, out, config)
    return out


@pytest.fixture(scope="session")
def labeller_bundle(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A labeller bundle trained for two steps and calibrated on the tiny data."""
    from vision_models.labeller.config import LabellerConfig
    from vision_models.labeller.train import train

    config = LabellerConfig(input_size=32, features=(4, 8), calibration_fraction=0.34)
    config.settings.epochs, config.settings.batch_size, config.settings.max_steps = 1, 8, 2
    out = tmp_path_factory.mktemp("labeller_bundle")
    train(data_root / "modality", out, config)
    return out


@pytest.fixture(scope="session")
def segmentation_bundle(lgg_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A segmentation bundle trained for one step on the tiny slices."""
    from vision_models.segmentation.config import SegmentationConfig
    from vision_models.segmentation.train import train

    config = SegmentationConfig(input_size=32, features=(4, 4, 8, 8, 16, 4), empty_slices_per_epoch=2, crop_size=24,
                                tuning_patients=1)
    config.settings.epochs, config.settings.batch_size, config.settings.max_steps = 1, 4, 1
    out = tmp_path_factory.mktemp("segmentation_bundle")
    train(lgg_root, out, config)
    return out
