"""Training, calibration and evaluation of the labeller on a ``modality``-style folder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from vision_models.bundle import Bundle, BundleConfig, save_bundle
from vision_models.calibration import choose_threshold, fit_temperature, softmax
from vision_models.classifier import ClassifierRuntime, train_classifier
from vision_models.data import (
    DataError,
    Sample,
    carve_holdout,
    load_arrays,
    read_splits,
    select_split,
)
from vision_models.engine import seed_everything
from vision_models.imaging import ImageSource, load_image
from vision_models.labeller.config import BUNDLE_NAME, LabellerConfig, create_network
from vision_models.labeller.model import Labeller
from vision_models.metrics import (
    accuracy,
    confusion_matrix,
    expected_calibration_error,
    per_class_recall,
)
from vision_models.networks import count_parameters
from vision_models.plots import save_confusion_matrix
from vision_models.screen_crop.model import cropped_photos
from vision_models.screen_photos import TRAINING

VERSION = "1.0.0"
CONFUSION_PNG = "confusion_matrix.png"


def _logits(runtime: ClassifierRuntime, paths: Sequence[ImageSource], batch_size: int = 128) -> np.ndarray:
    chunks = [runtime.logits([load_image(p) for p in paths[i:i + batch_size]])
              for i in tqdm(range(0, len(paths), batch_size), desc="scoring", unit="batch", leave=False)]
    return np.concatenate(chunks) if chunks else np.zeros((0, len(runtime.config.classes)))


def evaluate_samples(labeller: Labeller, samples: Sequence[Sample], figure: Path | None = None,
                     sources: Sequence[ImageSource] | None = None) -> dict[str, Any]:
    """Accuracy, per-class recall, calibration and abstention figures; optional confusion-matrix PNG;
    ``sources`` replaces the samples' files (the screen-photo robustness set)."""
    classes = labeller.classes
    unknown = sorted({s.label for s in samples} - set(classes))
    if unknown:
        raise DataError(f"Labels {unknown} are not classes of this labeller ({classes}).")
    truth = np.asarray([classes.index(s.label) for s in samples])
    sources = [s.path for s in samples] if sources is None else sources
    probabilities = softmax(_logits(labeller.runtime, sources), labeller.temperature)
    predicted = probabilities.argmax(axis=1)
    cm = confusion_matrix(truth, predicted, len(classes))
    accepted = probabilities.max(axis=1) >= labeller.threshold
    if figure is not None:
        save_confusion_matrix(cm, classes, figure, f"Labeller, n = {len(samples)}")
    return {
        "accuracy": accuracy(truth, predicted),
        "per_class_recall": per_class_recall(cm, classes),
        "confusion_matrix": {"classes": classes, "counts": cm.tolist()},
        "expected_calibration_error": expected_calibration_error(probabilities, truth),
        "threshold": labeller.threshold,
        "coverage": float(accepted.mean()),
        "accepted_accuracy": accuracy(truth[accepted], predicted[accepted]) if accepted.any() else 0.0,
        "n": len(samples),
    }


def train(data_dir: Path, out_dir: Path, config: LabellerConfig, eval_split: str | None = "val") -> Bundle:
    """Train on ``train`` minus a calibration part, calibrate on it, evaluate on ``eval_split``, save."""
    settings = config.settings
    generator = seed_everything(settings.seed, settings.threads)
    samples = read_splits(data_dir)
    train_samples = select_split(samples, "train")
    classes = sorted({s.label for s in train_samples})
    is_calibration = carve_holdout([s.label for s in train_samples], config.calibration_fraction, settings.seed)
    fit_samples = [s for s, cal in zip(train_samples, is_calibration) if not cal]
    calibration = [s for s, cal in zip(train_samples, is_calibration) if cal]
    images = load_arrays([s.path for s in fit_samples], config.photo_size, config.channels, desc="train images")
    labels = np.asarray([classes.index(s.label) for s in fit_samples], dtype=np.int64)
    mean, std = 0.5, 0.25
    network = create_network(config, len(classes))
    history = train_classifier(network, images, labels, len(classes), settings, generator, mean, std,
                               screen_photo_probability=config.screen_photo_probability,
                               cropped_photo_share=config.cropped_photo_share, input_size=config.input_size,
                               desc="labeller")
    bundle_config = BundleConfig(
        name=BUNDLE_NAME, architecture=config.architecture, params=config.network_params(len(classes)),
        input_size=config.input_size, channels=config.channels, classes=classes, mean=mean, std=std, version=VERSION,
    )
    bundle = Bundle(config=bundle_config, network=network, path=Path(out_dir))
    runtime = ClassifierRuntime(bundle)
    cal_truth = np.asarray([classes.index(s.label) for s in calibration])
    cal_sources: list[ImageSource] = [s.path for s in calibration]
    if config.screen_photo_probability > 0:  # calibrated on what the live intake hands on: files, and photos of
        # a screen cropped by the committed screen finder
        cal_sources += cropped_photos([s.path for s in calibration], settings.seed, TRAINING)
        cal_truth = np.concatenate([cal_truth, cal_truth])
    cal_logits = _logits(runtime, cal_sources)
    cal_right = cal_logits.argmax(axis=1) == cal_truth
    temperature = fit_temperature(cal_logits, cal_truth)
    threshold = choose_threshold(softmax(cal_logits, temperature), cal_truth, config.target_accepted_accuracy,
                                 config.threshold_floor)
    bundle_config.extra = {
        "temperature": temperature,
        "threshold": threshold,
        "parameters": count_parameters(network),
        "training": {
            "fit_images": len(fit_samples), "calibration_images": len(calibration),
            "calibration_photos": len(cal_sources) - len(calibration),
            "screen_photo_probability": config.screen_photo_probability,
            "cropped_photo_share": config.cropped_photo_share,
            "photo_size": config.photo_size,
            "calibration_file_accuracy": float(cal_right[:len(calibration)].mean()),
            "calibration_photo_accuracy": float(cal_right[len(calibration):].mean()) if len(cal_right) > len(
                calibration) else None,
            "calibration_ece_before": expected_calibration_error(softmax(cal_logits), cal_truth),
            "calibration_ece_after": expected_calibration_error(softmax(cal_logits, temperature), cal_truth),
            "target_accepted_accuracy": config.target_accepted_accuracy,
            "seconds": round(history.seconds, 1), "steps": history.steps,
            "epoch_losses": [round(v, 4) for v in history.losses], "settings": asdict(settings),
            "torch": torch.__version__,
        },
    }
    save_bundle(network, bundle_config, out_dir)
    if eval_split is not None:
        labeller = Labeller(runtime)
        metrics = evaluate_samples(labeller, select_split(samples, eval_split), Path(out_dir) / CONFUSION_PNG)
        bundle_config.metrics = {"split": eval_split, **metrics}
    bundle_config.extra["weights_bytes"] = (Path(out_dir) / bundle_config.weights).stat().st_size
    save_bundle(network, bundle_config, out_dir)
    return bundle
