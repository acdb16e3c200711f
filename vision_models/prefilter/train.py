"""Training and evaluation of the prefilter on a data root holding ``modality/`` and ``nonmedical/``."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from vision_models.bundle import Bundle, BundleConfig, save_bundle
from vision_models.classifier import ClassifierRuntime, train_classifier
from vision_models.data import DataError, carve_holdout, load_arrays, read_slices, read_splits
from vision_models.documents import document_set
from vision_models.engine import seed_everything
from vision_models.imaging import ImageSource
from vision_models.metrics import accuracy, confusion_matrix
from vision_models.networks import count_parameters
from vision_models.prefilter.config import (
    BUNDLE_NAME,
    CLASSES,
    PrefilterConfig,
    create_network,
)
from vision_models.prefilter.model import Prefilter
from vision_models.screen_crop.model import cropped_photos
from vision_models.screen_photos import TRAINING

VERSION = "1.0.0"
MEDICAL_FOLDER, NON_MEDICAL_FOLDER, LGG_FOLDER = "modality", "nonmedical", "lgg_mri"
LGG_GROUP = "brain_mri_lgg"
DOCUMENT_GROUP = "non_medical/document"


@dataclass(frozen=True)
class LabelledImage:
    """An image with its prefilter target (1 = medical) and the group it is reported under."""

    source: ImageSource
    target: int
    group: str
    split: str


def read_items(root: Path | str) -> list[LabelledImage]:
    """Every image listed in ``root/modality/splits.csv`` (medical) and ``root/nonmedical/splits.csv``.

    When ``root/lgg_mri/slices.csv`` exists, its slices that show a lesion are added as medical
    (group ``brain_mri_lgg``): the three-sequence colour composites the segmenter works on.
    """
    base = Path(root)
    medical = [LabelledImage(s.path, 1, s.label, s.split) for s in read_splits(base / MEDICAL_FOLDER)]
    other = [LabelledImage(s.path, 0, f"non_medical/{s.label}", s.split)
             for s in read_splits(base / NON_MEDICAL_FOLDER)]
    lgg = []
    if (base / LGG_FOLDER / "slices.csv").is_file():
        slices = read_slices(base / LGG_FOLDER)
        lgg = [LabelledImage(s.image, 1, LGG_GROUP, s.split) for s in slices if s.tumour_pixels]
    return medical + other + lgg


def limit_group(items: Sequence[LabelledImage], group: str, limit: int, seed: int) -> list[LabelledImage]:
    """Keep at most ``limit`` items of ``group`` (a seeded draw), and every other item."""
    members = [i for i, item in enumerate(items) if item.group == group]
    keep = set(members)
    if len(members) > limit:
        keep = set(np.random.default_rng(seed).permutation(members)[:limit].tolist())
    return [item for i, item in enumerate(items) if item.group != group or i in keep]


def items_of_split(items: Sequence[LabelledImage], split: str, documents: int = 0) -> list[LabelledImage]:
    """Items of one split (both folders must contribute), plus ``documents`` generated documents and
    screenshots of that split (:func:`vision_models.documents.document_set`, group ``non_medical/document``)."""
    chosen = [i for i in items if i.split == split]
    if not any(i.target == 1 for i in chosen) or not any(i.target == 0 for i in chosen):
        raise DataError(f"Split {split!r} needs images in both {MEDICAL_FOLDER}/ and {NON_MEDICAL_FOLDER}/.")
    generated = document_set(split, documents) if documents else []
    return chosen + [LabelledImage(image, 0, DOCUMENT_GROUP, split) for image in generated]


def class_index(item: LabelledImage) -> int:
    """The training class of ``item`` in :data:`CLASSES` (documents are a class of their own)."""
    return CLASSES.index("document") if item.group == DOCUMENT_GROUP else item.target


def evaluate_items(prefilter: Prefilter, items: Sequence[LabelledImage], batch_size: int = 64,
                   sources: Sequence[ImageSource] | None = None) -> dict[str, Any]:
    """Accuracy, confusion matrix, recall per group (each medical class, each non-medical collection);
    ``sources`` replaces the items' files (the screen-photo robustness set)."""
    sources = [i.source for i in items] if sources is None else sources
    predicted: list[int] = []
    rejected: Counter[str] = Counter()
    for begin in tqdm(range(0, len(items), batch_size), desc="evaluating", unit="batch", leave=False):
        for result in prefilter.predict_batch(sources[begin:begin + batch_size]):
            predicted.append(int(result.is_medical))
            if result.code:
                rejected[result.code] += 1
    truth = [i.target for i in items]
    correct_by_group: dict[str, list[int]] = defaultdict(list)
    for item, pred in zip(items, predicted):
        correct_by_group[item.group].append(int(pred == item.target))
    recall = {group: float(np.mean(v)) for group, v in sorted(correct_by_group.items())}
    medical = [v for g, v in recall.items() if not g.startswith("non_medical/")]
    cm = confusion_matrix(truth, predicted, 2)
    return {
        "accuracy": accuracy(truth, predicted),
        "medical_recall": float(cm[1, 1] / max(cm[1].sum(), 1)),
        "non_medical_recall": float(cm[0, 0] / max(cm[0].sum(), 1)),
        "min_medical_class_recall": float(min(medical)) if medical else 0.0,
        "recall_by_group": recall,
        "confusion_matrix": {"rows_true_cols_pred": ["non_medical", "medical"], "counts": cm.tolist()},
        "refusals_by_code": dict(sorted(rejected.items())),
        "n": len(items),
    }


def dev_figures(prefilter: Prefilter, items: Sequence[LabelledImage], seed: int) -> dict[str, float]:
    """Figures on the dev carve-out of ``train``, to compare training recipes without ``val``: accuracy on the
    files, and on photos of them (``TRAINING`` ranges) cropped by the committed screen finder."""
    photos = cropped_photos([item.source for item in items], seed, TRAINING)
    files, shot = evaluate_items(prefilter, items), evaluate_items(prefilter, items, sources=photos)
    return {"dev_images": len(items), "dev_file_accuracy": files["accuracy"], "dev_photo_accuracy": shot["accuracy"],
            "dev_photo_medical_recall": shot["medical_recall"],
            "dev_photo_non_medical_recall": shot["non_medical_recall"]}


def train(data_root: Path, out_dir: Path, config: PrefilterConfig, eval_split: str | None = "val") -> Bundle:
    """Train from scratch on the ``train`` split of both folders (less the dev carve-out, when configured),
    evaluate on ``eval_split``, save."""
    settings = config.settings
    generator = seed_everything(settings.seed, settings.threads)
    items = limit_group(items_of_split(read_items(data_root), "train", config.documents.get("train", 0)),
                        LGG_GROUP, config.lgg_train_slices, settings.seed)
    is_dev = (carve_holdout([i.group for i in items], config.dev_fraction, settings.seed) if config.dev_fraction
              else np.zeros(len(items), dtype=bool))
    dev = [i for i, held in zip(items, is_dev) if held]
    items = [i for i, held in zip(items, is_dev) if not held]
    images = load_arrays([i.source for i in items], config.photo_size, config.channels, desc="train images")
    labels = np.asarray([class_index(i) for i in items], dtype=np.int64)
    grey = np.where(labels != 1, config.grey_probability_non_medical, 0.0)
    mean, std = 0.5, 0.25
    network = create_network(config)
    history = train_classifier(network, images, labels, len(CLASSES), settings, generator, mean, std,
                               grey_probability=grey, screen_photo_probability=config.screen_photo_probability,
                               cropped_photo_share=config.cropped_photo_share, input_size=config.input_size,
                               desc="prefilter")
    bundle_config = BundleConfig(
        name=BUNDLE_NAME, architecture=config.architecture, params=config.network_params(),
        input_size=config.input_size, channels=config.channels, classes=list(CLASSES), mean=mean, std=std,
        version=VERSION,
        extra={
            "threshold": config.threshold,
            "parameters": count_parameters(network),
            "training": {
                "train_images": len(items), "medical": int((labels == 1).sum()),
                "non_medical": int((labels == 0).sum()), "documents": int((labels == CLASSES.index("document")).sum()),
                "lgg_slices": sum(i.group == LGG_GROUP for i in items),
                "seconds": round(history.seconds, 1), "steps": history.steps,
                "epoch_losses": [round(v, 4) for v in history.losses], "settings": asdict(settings),
                "screen_photo_probability": config.screen_photo_probability,
                "cropped_photo_share": config.cropped_photo_share, "photo_size": config.photo_size,
                "torch": torch.__version__,
            },
        },
    )
    save_bundle(network, bundle_config, out_dir)
    bundle = Bundle(config=bundle_config, network=network, path=Path(out_dir))
    prefilter = Prefilter(ClassifierRuntime(bundle))
    if dev:
        bundle_config.extra["training"].update(dev_figures(prefilter, dev, settings.seed))
    if eval_split is not None:
        evaluation_items = items_of_split(read_items(data_root), eval_split, config.documents.get(eval_split, 0))
        metrics = evaluate_items(prefilter, evaluation_items)
        bundle_config.metrics = {"split": eval_split, **metrics}
    bundle_config.extra["weights_bytes"] = (Path(out_dir) / bundle_config.weights).stat().st_size
    save_bundle(network, bundle_config, out_dir)
    return bundle
