"""Training and evaluation of the segmenter on an ``lgg_mri``-style folder."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.losses import DiceCELoss
from tqdm import tqdm

from vision_models.bundle import Bundle, BundleConfig, load_bundle, save_bundle
from vision_models.data import Slice, load_mask, load_segmentation_arrays, read_slices
from vision_models.engine import fit, seed_everything
from vision_models.metrics import dice, distribution, per_volume_dice
from vision_models.networks import count_parameters, network_from_config
from vision_models.segmentation.config import (
    ARCHITECTURE,
    BUNDLE_NAME,
    SegmentationConfig,
    create_network,
)
from vision_models.segmentation.model import Segmenter
from vision_models.transforms import augment_segmentation, normalise, to_float

VERSION = "1.0.0"


def evaluate_slices(segmenter: Segmenter, slices: Sequence[Slice], batch_size: int = 16) -> dict[str, Any]:
    """Dice at each slice's original resolution: per volume (patient), pixel-wise and per tumour slice."""
    inter: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    tumour_slice_dice, empty_slices, empty_clean = [], 0, 0
    all_inter = all_total = 0
    for begin in tqdm(range(0, len(slices), batch_size), desc="evaluating", unit="batch", leave=False):
        chunk = slices[begin:begin + batch_size]
        predictions = segmenter.predict_masks([s.image for s in chunk])
        for item, pred in zip(chunk, predictions):
            truth = load_mask(item.mask)
            if truth.shape != pred.shape:
                raise ValueError(f"Mask {item.mask} is {truth.shape}, image is {pred.shape}.")
            i, t = int(np.logical_and(pred, truth).sum()), int(pred.sum()) + int(truth.sum())
            inter[item.patient] += i
            total[item.patient] += t
            all_inter += i
            all_total += t
            if truth.any():
                tumour_slice_dice.append(dice(pred, truth))
            else:
                empty_slices += 1
                empty_clean += int(not pred.any())
    volumes = per_volume_dice(inter, total)
    return {
        "per_volume_dice": float(np.mean(list(volumes.values()))),
        "per_volume_dice_distribution": distribution(list(volumes.values())),
        "pixel_dice": 2.0 * all_inter / all_total if all_total else 1.0,
        "tumour_slice_dice_mean": float(np.mean(tumour_slice_dice)) if tumour_slice_dice else 1.0,
        "empty_slice_specificity": empty_clean / empty_slices if empty_slices else 1.0,
        "per_volume": volumes,
        "patients": len(volumes),
        "n": len(slices),
    }


def train(data_dir: Path, out_dir: Path, config: SegmentationConfig, eval_split: str | None = "val",
          init: Path | str | None = None) -> Bundle:
    """Train on the ``train`` split, evaluate on ``eval_split`` and save the bundle.

    Training starts from scratch, or from the weights of the bundle at ``init`` (fine-tuning).
    """
    settings = config.settings
    generator = seed_everything(settings.seed, settings.threads)
    slices = read_slices(data_dir, "train")
    images, masks = load_segmentation_arrays(slices, config.input_size, config.channels, desc="train slices")
    tumour = np.flatnonzero([s.tumour_pixels > 0 for s in slices])
    empty = np.flatnonzero([s.tumour_pixels == 0 for s in slices])
    n_empty = min(config.empty_slices_per_epoch, len(empty))
    network = create_network(config)
    if init is not None:
        network.load_state_dict(load_bundle(init, network_from_config).network.state_dict())
    mean, std = 0.5, 0.5

    def epoch_indices(epoch: int) -> np.ndarray:
        rng = np.random.default_rng(settings.seed + epoch)
        return np.concatenate([tumour, rng.choice(empty, n_empty, replace=False)])

    def make_batch(idx: np.ndarray, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = to_float(images[idx])
        y = torch.from_numpy(masks[idx]).float()[:, None]
        x, y = augment_segmentation(x, y, gen, grey_probability=config.grey_probability)
        return normalise(x, mean, std), y

    loss = DiceCELoss(sigmoid=True, batch=True)
    history = fit(network, len(slices), make_batch, loss, settings, generator, desc="segmentation",
                  epoch_indices=epoch_indices)
    bundle_config = BundleConfig(
        name=BUNDLE_NAME, architecture=ARCHITECTURE, params=config.network_params(), input_size=config.input_size,
        channels=config.channels, classes=["background", "flair_abnormality"], mean=mean, std=std, version=VERSION,
        extra={
            "threshold": config.threshold,
            "brain_threshold": config.brain_threshold,
            "parameters": count_parameters(network),
            "training": {
                "train_slices": len(slices), "tumour_slices": len(tumour), "empty_slices_per_epoch": n_empty,
                "initialised_from": str(init) if init is not None else "scratch",
                "seconds": round(history.seconds, 1), "steps": history.steps,
                "epoch_losses": [round(v, 4) for v in history.losses], "settings": asdict(settings),
                "torch": torch.__version__,
            },
        },
    )
    save_bundle(network, bundle_config, out_dir)
    bundle = Bundle(config=bundle_config, network=network, path=Path(out_dir))
    if eval_split is not None:
        metrics = evaluate_slices(Segmenter(bundle), read_slices(data_dir, eval_split))
        bundle_config.metrics = {"split": eval_split, **metrics}
    bundle_config.extra["weights_bytes"] = (Path(out_dir) / bundle_config.weights).stat().st_size
    save_bundle(network, bundle_config, out_dir)
    return bundle
