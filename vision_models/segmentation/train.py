"""Training, post-processing tuning and evaluation of the segmenter on an ``lgg_mri``-style folder.

Training holds out a few seeded train patients (the tuning split) on which the probability threshold
and the post-processing are chosen; the reported split (``val``) takes no part in either.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.losses import DiceCELoss
from torch import nn
from tqdm import tqdm

from vision_models.bundle import Bundle, BundleConfig, save_bundle
from vision_models.data import Slice, load_mask, load_segmentation_arrays, read_slices
from vision_models.engine import fit, seed_everything
from vision_models.imaging import load_image
from vision_models.metrics import dice, distribution, per_volume_dice
from vision_models.networks import count_parameters
from vision_models.screen_photos import photograph_cropped_with_masks
from vision_models.segmentation.config import BUNDLE_NAME, SegmentationConfig, create_network
from vision_models.segmentation.model import Segmenter
from vision_models.segmentation.postprocess import PostProcessing, filter_components_3d
from vision_models.transforms import augment_segmentation, normalise, to_float

VERSION = "2.2.0"
# Post-processing search on the tuning split: probability threshold, smallest 2-D blob kept (fraction of the
# slice's pixels; 1/1024 = 64 pixels of a 256x256 slice) and smallest 3-D component kept (fraction of the largest).
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
BLOB_AREAS = (0.0, 1 / 4096, 1 / 2048, 1 / 1024, 1 / 512, 1 / 256)
COMPONENT_FRACTIONS = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0)


@dataclass
class Volume:
    """Probability maps and true masks of one patient's slices, in slice order, at full resolution."""

    patient: str
    probabilities: list[np.ndarray]
    truths: list[np.ndarray]


class BF16Autocast(nn.Module):
    """Runs ``network`` under CPU bfloat16 autocast and returns float32 outputs (training speed-up)."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return self.network(x).float()


def split_tuning_patients(slices: Sequence[Slice], count: int, seed: int) -> tuple[list[Slice], list[Slice]]:
    """(fit, tuning) slices: a seeded choice of ``count`` patients forms the tuning split."""
    patients = sorted({s.patient for s in slices})
    if count >= len(patients):
        raise ValueError(f"Cannot hold out {count} tuning patients of {len(patients)}.")
    chosen = set(np.random.default_rng(seed).permutation(patients)[:count].tolist())
    return [s for s in slices if s.patient not in chosen], [s for s in slices if s.patient in chosen]


def random_crops(images: torch.Tensor, masks: torch.Tensor, size: int, lesion_probability: float,
                 generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One ``size`` x ``size`` crop per sample; with ``lesion_probability`` (when the sample has lesion) the
    crop contains a random lesion pixel at a random place, otherwise its position is uniform."""
    height, width = images.shape[-2:]
    if size >= min(height, width):
        return images, masks
    crops_x, crops_y = [], []
    for image, mask in zip(images, masks):
        draw = torch.rand(3, generator=generator)
        lesion = torch.nonzero(mask[0])
        if len(lesion) and float(draw[0]) < lesion_probability:
            y, x = lesion[int(float(draw[1]) * len(lesion))].tolist()
            offset = torch.randint(0, size, (2,), generator=generator).tolist()
            top = min(max(y - offset[0], 0), height - size)
            left = min(max(x - offset[1], 0), width - size)
        else:
            top = int(torch.randint(0, height - size + 1, (1,), generator=generator))
            left = int(torch.randint(0, width - size + 1, (1,), generator=generator))
        crops_x.append(image[:, top:top + size, left:left + size])
        crops_y.append(mask[:, top:top + size, left:left + size])
    return torch.stack(crops_x), torch.stack(crops_y)


def predict_volumes(segmenter: Segmenter, slices: Sequence[Slice], batch_size: int = 16) -> list[Volume]:
    """Probability maps (at each slice's resolution) and true masks, grouped by patient in slice order."""
    ordered = sorted(slices, key=lambda s: (s.patient, s.index))
    volumes: dict[str, Volume] = {}
    for begin in tqdm(range(0, len(ordered), batch_size), desc="predicting", unit="batch", leave=False):
        chunk = ordered[begin:begin + batch_size]
        maps = segmenter.probabilities([load_image(s.image) for s in chunk])
        for item, prob in zip(chunk, maps):
            truth = load_mask(item.mask)
            if truth.shape != prob.shape:
                raise ValueError(f"Mask {item.mask} is {truth.shape}, image is {prob.shape}.")
            volume = volumes.setdefault(item.patient, Volume(item.patient, [], []))
            volume.probabilities.append(prob)
            volume.truths.append(truth)
    return list(volumes.values())


def score(volumes: Sequence[Volume], post: PostProcessing) -> dict[str, Any]:
    """Dice of ``post``'s masks: per volume (patient), pixel-wise and per tumour slice; empty-slice specificity."""
    return score_masks(volumes, [post.volume_masks(v.probabilities) for v in volumes])


def score_masks(volumes: Sequence[Volume], predictions: Sequence[Sequence[np.ndarray]]) -> dict[str, Any]:
    """Scores of predicted ``predictions[i]`` (one mask per slice) against ``volumes[i]``'s true masks."""
    inter: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    tumour_slice_dice, empty_slices, empty_clean = [], 0, 0
    for volume, masks in zip(volumes, predictions):
        for pred, truth in zip(masks, volume.truths):
            inter[volume.patient] += int(np.logical_and(pred, truth).sum())
            total[volume.patient] += int(pred.sum()) + int(truth.sum())
            if truth.any():
                tumour_slice_dice.append(dice(pred, truth))
            else:
                empty_slices += 1
                empty_clean += int(not pred.any())
    volumes_dice = per_volume_dice(inter, total)
    all_inter, all_total = sum(inter.values()), sum(total.values())
    return {
        "per_volume_dice": float(np.mean(list(volumes_dice.values()))),
        "per_volume_dice_distribution": distribution(list(volumes_dice.values())),
        "pixel_dice": 2.0 * all_inter / all_total if all_total else 1.0,
        "tumour_slice_dice_mean": float(np.mean(tumour_slice_dice)) if tumour_slice_dice else 1.0,
        "empty_slice_specificity": empty_clean / empty_slices if empty_slices else 1.0,
        "per_volume": volumes_dice,
        "patients": len(volumes_dice),
    }


def ablation(volumes: Sequence[Volume], post: PostProcessing) -> dict[str, dict[str, float]]:
    """Per-volume Dice, pixel Dice and empty-slice specificity with each part of ``post`` switched on in turn."""
    variants = {
        "none (threshold 0.5)": PostProcessing(),
        "threshold": PostProcessing(post.threshold),
        "threshold + 2-D blobs (per-slice API)": replace(post, min_component_fraction=0.0),
        "threshold + 3-D components": replace(post, min_blob_area=0.0),
        "threshold + 2-D blobs + 3-D components": post,
    }
    keys = ("per_volume_dice", "pixel_dice", "empty_slice_specificity")
    return {name: {k: score(volumes, p)[k] for k in keys} for name, p in variants.items()}


def tune_post_processing(volumes: Sequence[Volume]) -> tuple[PostProcessing, float]:
    """The settings with the best mean per-volume Dice on ``volumes`` (ties: the earlier, milder ones)."""
    best, best_dice = PostProcessing(), -1.0
    grid = list(itertools.product(THRESHOLDS, BLOB_AREAS))
    for threshold, area in tqdm(grid, desc="tuning post-processing", unit="setting", leave=False):
        slice_post = PostProcessing(threshold, area)
        slice_masks = [[slice_post.slice_mask(p) for p in v.probabilities] for v in volumes]
        for fraction in COMPONENT_FRACTIONS:
            masks = slice_masks if fraction <= 0.0 else [
                list(filter_components_3d(np.stack(m), fraction)) for m in slice_masks]
            value = score_masks(volumes, masks)["per_volume_dice"]
            if value > best_dice + 1e-9:
                best, best_dice = PostProcessing(threshold, area, fraction), value
    return best, best_dice


def evaluate_slices(segmenter: Segmenter, slices: Sequence[Slice], batch_size: int = 16) -> dict[str, Any]:
    """Scores of the segmenter with its post-processing (3-D components per patient volume included),
    plus the post-processing ablation and the slice count ``n``."""
    volumes = predict_volumes(segmenter, slices, batch_size)
    return {**score(volumes, segmenter.post), "post_processing": segmenter.post.as_dict(),
            "post_processing_ablation": ablation(volumes, segmenter.post), "n": len(slices)}


def train(data_dir: Path, out_dir: Path, config: SegmentationConfig, eval_split: str | None = "val",
          init: Path | str | None = None) -> Bundle:
    """Train on the ``train`` split less the tuning patients, tune post-processing on those, evaluate on
    ``eval_split`` and save the bundle.

    Training starts from scratch, or from the weights of the bundle at ``init`` (fine-tuning).
    """
    settings = config.settings
    generator = seed_everything(settings.seed, settings.threads)
    fit_slices, tuning_slices = split_tuning_patients(read_slices(data_dir, "train"), config.tuning_patients,
                                                      settings.seed)
    images, masks = load_segmentation_arrays(fit_slices, config.input_size, config.channels, desc="train slices")
    tumour = np.flatnonzero([s.tumour_pixels > 0 for s in fit_slices])
    empty = np.flatnonzero([s.tumour_pixels == 0 for s in fit_slices])
    n_empty = min(config.empty_slices_per_epoch, len(empty))
    network = create_network(config)
    if init is not None:
        network.load_state_dict(Segmenter.load(init).bundle.network.state_dict())
    # faster CPU convolutions; the saved weights are unaffected (torch's stubs omit memory_format)
    network.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    mean, std = 0.5, 0.5

    def epoch_indices(epoch: int) -> np.ndarray:
        rng = np.random.default_rng(settings.seed + epoch)
        return np.concatenate([tumour, rng.choice(empty, n_empty, replace=False)])

    def make_batch(idx: np.ndarray, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = to_float(images[idx])
        y = torch.from_numpy(masks[idx]).float()[:, None]
        x, y = augment_segmentation(x, y, gen, grey_probability=config.grey_probability)
        if config.screen_photo_probability > 0:
            shot = torch.rand(len(idx), generator=gen) < config.screen_photo_probability
            if shot.any():
                x[shot], y[shot] = photograph_cropped_with_masks(x[shot], y[shot], gen)
        x, y = random_crops(x, y, config.crop_size * config.downsample, config.lesion_crop_probability, gen)
        return normalise(x, mean, std).contiguous(memory_format=torch.channels_last), y

    loss = DiceCELoss(sigmoid=True, batch=True)
    trained = BF16Autocast(network) if config.bf16 else network
    history = fit(trained, len(fit_slices), make_batch, loss, settings, generator, desc="segmentation",
                  epoch_indices=epoch_indices)
    network.to(memory_format=torch.contiguous_format).eval()  # type: ignore[call-overload]
    bundle_config = BundleConfig(
        name=BUNDLE_NAME, architecture=config.architecture, params=config.network_params(),
        input_size=config.input_size,
        channels=config.channels, classes=["background", "flair_abnormality"], mean=mean, std=std, version=VERSION,
        extra={
            "post_processing": PostProcessing().as_dict(),
            "flip_tta": config.flip_tta,
            "brain_threshold": config.brain_threshold,
            "parameters": count_parameters(network),
            "training": {
                "train_slices": len(fit_slices), "tumour_slices": len(tumour), "empty_slices_per_epoch": n_empty,
                "crop_size": config.crop_size, "lesion_crop_probability": config.lesion_crop_probability,
                "screen_photo_probability": config.screen_photo_probability,
                "bf16_autocast": config.bf16, "channels_last": True,
                "initialised_from": str(init) if init is not None else "scratch",
                "seconds": round(history.seconds, 1), "steps": history.steps,
                "epoch_losses": [round(v, 4) for v in history.losses], "settings": asdict(settings),
                "torch": torch.__version__,
            },
        },
    )
    bundle = Bundle(config=bundle_config, network=network, path=Path(out_dir))
    if tuning_slices:
        tuning = predict_volumes(Segmenter(bundle), tuning_slices)
        post, tuned_dice = tune_post_processing(tuning)
        bundle_config.extra["post_processing"] = post.as_dict()
        bundle_config.extra["tuning"] = {
            "patients": sorted(v.patient for v in tuning), "slices": len(tuning_slices),
            "per_volume_dice_untuned": round(score(tuning, PostProcessing())["per_volume_dice"], 4),
            "per_volume_dice_tuned": round(tuned_dice, 4),
        }
    save_bundle(network, bundle_config, out_dir)
    if eval_split is not None:
        metrics = evaluate_slices(Segmenter(bundle), read_slices(data_dir, eval_split))
        bundle_config.metrics = {"split": eval_split, **metrics}
    bundle_config.extra["weights_bytes"] = (Path(out_dir) / bundle_config.weights).stat().st_size
    save_bundle(network, bundle_config, out_dir)
    return bundle
