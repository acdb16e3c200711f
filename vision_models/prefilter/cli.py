"""``python -m vision_models {train,evaluate,predict} prefilter ...``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from vision_models.cli_common import (
    add_evaluation_arguments,
    add_screen_photo_argument,
    add_training_arguments,
    apply_training_arguments,
    document_training,
    emit,
    friendly_errors,
    parser,
    report_evaluation,
)
from vision_models.data import default_eval_split
from vision_models.prefilter.config import DEFAULT_BUNDLE, PrefilterConfig
from vision_models.prefilter.model import Prefilter
from vision_models.prefilter.train import evaluate_items, items_of_split, read_items
from vision_models.prefilter.train import train as train_model
from vision_models.screen_photos import robustness_set

NOTES = Path(__file__).with_name("card_notes.md")
TITLE = "Medical-image prefilter"
SUMMARY = (
    "Binary classifier (medical image vs everyday photo) with rule checks that refuse blank, tiny and "
    "extreme-aspect-ratio images with a reason the assistant can tell the patient."
)
DATA_TEXT = (
    "Medical: `modality/` (MedNIST classes, brain-tumour MRI set, mini-MIAS mammograms, DRIVE/STARE/CHASE_DB1/HRF "
    "fundus photographs; see its README). Non-medical: `nonmedical/` (CIFAR-10 training images, ImageNet sample "
    "images, scikit-image photographs; see its README). Both folders carry a seeded 80/20 `splits.csv`; the model is "
    "trained on `train` and measured on `val`, which is never used for training or model selection."
)


@friendly_errors
def train(argv: list[str]) -> int:
    """Train the prefilter and write the bundle and its model card."""
    p = parser("train prefilter", "Train the medical / non-medical prefilter.")
    add_training_arguments(p, DEFAULT_BUNDLE, PrefilterConfig().settings.epochs, PrefilterConfig().settings.seed)
    p.add_argument("--architecture", choices=["compact_cnn", "densenet121"], default=PrefilterConfig().architecture)
    args = p.parse_args(argv)
    config = PrefilterConfig(architecture=args.architecture)
    apply_training_arguments(config.settings, args)
    bundle = train_model(args.data, args.out, config)
    return document_training("prefilter", argv, args, bundle.config, TITLE, SUMMARY, DATA_TEXT, NOTES)


@friendly_errors
def evaluate(argv: list[str]) -> int:
    """Score a bundle on one split of a data root holding ``modality/`` and ``nonmedical/``."""
    p = parser("evaluate prefilter", "Accuracy and per-class recall of the prefilter.")
    add_evaluation_arguments(p, DEFAULT_BUNDLE)
    add_screen_photo_argument(p)
    args = p.parse_args(argv)
    items = read_items(args.data)
    split = args.split or default_eval_split([i.split for i in items])
    chosen = items_of_split(items, split)
    sources = robustness_set([i.path for i in chosen]) if args.screen_photos else None
    metrics = evaluate_items(Prefilter.load(args.bundle), chosen, sources=sources)
    return report_evaluation("prefilter", split + (" photographed off a screen" if sources else ""), metrics,
                             args.json)


@friendly_errors
def predict(argv: list[str]) -> int:
    """Judge one image."""
    p = parser("predict prefilter", "Is this a usable medical image?")
    p.add_argument("image", type=Path)
    p.add_argument("--bundle", default=str(DEFAULT_BUNDLE))
    args = p.parse_args(argv)
    emit(asdict(Prefilter.load(args.bundle).predict(args.image)), as_json=True)
    return 0
