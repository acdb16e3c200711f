"""``python -m vision_models {train,evaluate,predict} screen_crop ...``."""

from __future__ import annotations

from pathlib import Path

from vision_models.cli_common import (
    add_evaluation_arguments,
    add_training_arguments,
    apply_training_arguments,
    document_training,
    emit,
    friendly_errors,
    parser,
    report_evaluation,
)
from vision_models.data import default_eval_split
from vision_models.prefilter.train import read_items
from vision_models.screen_crop.config import DEFAULT_BUNDLE, ScreenCropConfig
from vision_models.screen_crop.model import ScreenCropper
from vision_models.screen_crop.train import evaluate as evaluate_bundle
from vision_models.screen_crop.train import train as train_model

NOTES = Path(__file__).with_name("card_notes.md")
TITLE = "Screen finder: the displayed image in a photo of a screen"
SUMMARY = (
    "Small CNN that says whether an image is a photo of a screen, light box or print and where the displayed "
    "image's four corners are; the assistant crops and rectifies that quadrilateral before any other model sees it."
)
DATA_TEXT = (
    "`modality/` and `nonmedical/` (see their READMEs), seeded 80/20 `splits.csv`. Training photographs each "
    "`train` image off a simulated screen with probability 0.6 (`vision_models/screen_photos.py`, TRAINING "
    "distortions; the corners are known from the simulation) and shows the rest as files. `val` is scored once, "
    "with the other distortions (ROBUSTNESS, JPEG included), through the committed prefilter and labeller."
)


@friendly_errors
def train(argv: list[str]) -> int:
    """Train the screen finder and write the bundle and its model card."""
    p = parser("train screen_crop", "Train the screen finder.")
    defaults = ScreenCropConfig()
    add_training_arguments(p, DEFAULT_BUNDLE, defaults.settings.epochs, defaults.settings.seed)
    args = p.parse_args(argv)
    config = ScreenCropConfig()
    apply_training_arguments(config.settings, args)
    bundle = train_model(args.data, args.out, config)
    return document_training("screen_crop", argv, args, bundle.config, TITLE, SUMMARY, DATA_TEXT, NOTES)


@friendly_errors
def evaluate(argv: list[str]) -> int:
    """Score a bundle on one split: detection, corner error, and the prefilter and labeller with and without it."""
    p = parser("evaluate screen_crop", "Screen detection and corner error, and what cropping does downstream.")
    add_evaluation_arguments(p, DEFAULT_BUNDLE)
    args = p.parse_args(argv)
    split = args.split or default_eval_split([item.split for item in read_items(args.data)])
    metrics = evaluate_bundle(ScreenCropper.load(args.bundle), args.data, split)
    return report_evaluation("screen_crop", split, metrics, args.json)


@friendly_errors
def predict(argv: list[str]) -> int:
    """Find the screen in one image; optionally write the cropped image."""
    p = parser("predict screen_crop", "Find the displayed image in a photo of a screen.")
    p.add_argument("image", type=Path)
    p.add_argument("--bundle", default=str(DEFAULT_BUNDLE))
    p.add_argument("--out", type=Path, default=None, help="write the cropped image (PNG) here")
    args = p.parse_args(argv)
    cropped, finding = ScreenCropper.load(args.bundle).crop(args.image)
    if args.out is not None:
        cropped.save(args.out, format="PNG")
    emit({"screen": finding.screen, "probability": round(finding.probability, 4),
          "corners": [[round(x, 4), round(y, 4)] for x, y in finding.corners], "out": str(args.out or "")},
         as_json=True)
    return 0
