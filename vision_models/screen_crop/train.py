"""Training and evaluation of the screen finder on a data root holding ``modality/`` and ``nonmedical/``.

Training photographs the ``train`` images off a simulated screen (:data:`vision_models.screen_photos.TRAINING`)
and learns where each displayed image's corners went; the rest of each batch are the files themselves (no
screen, corners = the whole frame). Evaluation uses ``val`` with the other distortions
(:data:`vision_models.screen_photos.ROBUSTNESS`, JPEG included) and scores the whole front of the pipeline: the
prefilter's and the labeller's results on each photo as it is and as cropped, and on each file as it is and as
passed through the finder (a file must come out unchanged).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

from vision_models.bundle import Bundle, BundleConfig, save_bundle
from vision_models.data import load_arrays
from vision_models.engine import fit, seed_everything
from vision_models.imaging import load_image
from vision_models.labeller.model import Labeller
from vision_models.networks import count_parameters
from vision_models.prefilter.model import Prefilter
from vision_models.prefilter.train import LabelledImage, read_items
from vision_models.screen_crop.config import BUNDLE_NAME, OUTPUTS, ScreenCropConfig, create_network
from vision_models.screen_crop.model import ScreenCropper, with_coordinates
from vision_models.screen_photos import (
    FULL_FRAME,
    ROBUSTNESS,
    ROBUSTNESS_SEED,
    TRAINING,
    photograph_with_corners,
    screen_photo,
)
from vision_models.transforms import normalise, to_float

VERSION = "1.0.0"
MEAN, STD = 0.5, 0.25


def split_items(data_root: Path, split: str) -> list[LabelledImage]:
    """Medical and everyday images of one split (the finder must handle both)."""
    return [item for item in read_items(data_root) if item.split == split and item.group != "brain_mri_lgg"]


def batch_maker(images: np.ndarray, config: ScreenCropConfig) -> Callable[[np.ndarray, torch.Generator],
                                                                          tuple[torch.Tensor, torch.Tensor]]:
    """``make_batch`` for :func:`vision_models.engine.fit`: inputs with coordinates, targets (N, 9)."""
    def make_batch(indices: np.ndarray, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        batch = to_float(images[indices])
        n = batch.shape[0]
        photographed = torch.rand(n, generator=generator) < config.photo_probability
        targets = torch.zeros(n, len(OUTPUTS))
        targets[:, :8] = FULL_FRAME.flatten()
        if photographed.any():
            photos, corners = photograph_with_corners(batch[photographed], generator, TRAINING)
            batch[photographed] = photos
            targets[photographed, :8] = corners.reshape(-1, 8).to(targets.dtype)
            targets[photographed, 8] = 1.0
        return with_coordinates(normalise(batch, MEAN, STD)), targets
    return make_batch


def loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Corner error (smooth L1, in photo half-widths) plus the is-it-a-screen cross-entropy."""
    corners = F.smooth_l1_loss(outputs[:, :8], targets[:, :8], beta=0.05)
    return 4.0 * corners + F.binary_cross_entropy_with_logits(outputs[:, 8], targets[:, 8])


def train(data_root: Path, out_dir: Path, config: ScreenCropConfig, eval_split: str | None = "val") -> Bundle:
    """Train from scratch on the ``train`` images, evaluate on ``eval_split``, save the bundle."""
    settings = config.settings
    generator = seed_everything(settings.seed, settings.threads)
    items = split_items(data_root, "train")
    images = load_arrays([i.source for i in items], config.input_size, config.channels, desc="train images")
    network = create_network(config)
    history = fit(network, len(items), batch_maker(images, config), loss, settings, generator, desc="screen finder")
    bundle_config = BundleConfig(
        name=BUNDLE_NAME, architecture=config.architecture, params=config.network_params(),
        input_size=config.input_size, channels=config.channels, classes=list(OUTPUTS), mean=MEAN, std=STD,
        version=VERSION,
        extra={
            "screen_threshold": config.screen_threshold,
            "parameters": count_parameters(network),
            "training": {
                "train_images": len(items), "photo_probability": config.photo_probability,
                "seconds": round(history.seconds, 1), "steps": history.steps,
                "epoch_losses": [round(v, 4) for v in history.losses], "settings": asdict(settings),
                "torch": torch.__version__,
            },
        },
    )
    save_bundle(network, bundle_config, out_dir)
    bundle = Bundle(config=bundle_config, network=network, path=Path(out_dir))
    if eval_split is not None:
        bundle_config.metrics = {"split": eval_split, **evaluate(ScreenCropper(bundle), data_root, eval_split)}
    bundle_config.extra["weights_bytes"] = (Path(out_dir) / bundle_config.weights).stat().st_size
    save_bundle(network, bundle_config, out_dir)
    return bundle


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def evaluate(cropper: ScreenCropper, data_root: Path, split: str = "val", batch_size: int = 32,
             prefilter: Prefilter | None = None, labeller: Labeller | None = None) -> dict[str, Any]:
    """Screen detection, corner error and the prefilter's and labeller's results with and without the finder."""
    prefilter = prefilter or Prefilter.load()
    labeller = labeller or Labeller.load()
    items = split_items(data_root, split)
    screened: dict[str, list[bool]] = {}
    labelled: dict[str, list[bool]] = {}
    corner_errors: list[float] = []
    found: dict[str, list[bool]] = {"photos": [], "files": []}
    for begin in tqdm(range(0, len(items), batch_size), desc="evaluating", unit="batch", leave=False):
        chunk = items[begin:begin + batch_size]
        files = [load_image(i.source).convert("RGB") for i in chunk]
        shots = [screen_photo(i.source, ROBUSTNESS_SEED + begin + k, ROBUSTNESS) for k, i in enumerate(chunk)]
        photos = [Image.open(io.BytesIO(data)).convert("RGB") for data, _ in shots]
        photo_crops = [cropper.crop(p) for p in photos]
        file_crops = [cropper.crop(f) for f in files]
        for (_, finding), (_, truth) in zip(photo_crops, shots):
            corner_errors.append(float(np.linalg.norm(np.asarray(finding.corners) - truth, axis=1).mean() / 2))
        found["photos"].extend(finding.screen for _, finding in photo_crops)
        found["files"].extend(finding.screen for _, finding in file_crops)
        runs: dict[str, Sequence[Any]] = {
            "photos_as_sent": photos, "photos_cropped": [_jpeg(c) for c, _ in photo_crops],
            "files_as_sent": files, "files_through_finder": [c for c, _ in file_crops]}
        medical = [k for k, item in enumerate(chunk) if item.target == 1]
        for run, images in runs.items():
            screened.setdefault(run, []).extend(r.is_medical == bool(item.target)
                                                for r, item in zip(prefilter.predict_batch(images), chunk))
            labels = labeller.predict_batch([images[k] for k in medical])
            labelled.setdefault(run, []).extend(r.label == chunk[k].group for r, k in zip(labels, medical))
    is_medical = np.asarray([item.target == 1 for item in items])
    pipeline = {}
    for run in screened:
        right = np.asarray(screened[run])
        pipeline[run] = {"medical_recall": round(float(right[is_medical].mean()), 4),
                         "non_medical_refused": round(float(right[~is_medical].mean()), 4),
                         "labeller_accuracy": round(float(np.mean(labelled[run])), 4)}
    return {
        "screen_found_on_photos": float(np.mean(found["photos"])),
        "screen_found_on_files": float(np.mean(found["files"])),
        "corner_error_mean": float(np.mean(corner_errors)),  # fraction of the photo's width
        "corner_error_p90": float(np.quantile(corner_errors, 0.9)),
        "pipeline": pipeline,
        "n": len(items),
        "n_medical": int(is_medical.sum()),
    }
