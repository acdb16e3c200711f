"""``python -m vision_models {train,evaluate,predict} labeller ...``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from vision_models.cli_common import (
    add_evaluation_arguments,
    add_photo_training_arguments,
    add_screen_photo_argument,
    add_training_arguments,
    apply_training_arguments,
    document_training,
    emit,
    friendly_errors,
    parser,
    report_evaluation,
    screen_photo_sources,
)
from vision_models.data import default_eval_split, read_splits, select_split
from vision_models.labeller.config import DEFAULT_BUNDLE, LabellerConfig
from vision_models.labeller.model import Labeller
from vision_models.labeller.train import evaluate_samples
from vision_models.labeller.train import train as train_model

NOTES = Path(__file__).with_name("card_notes.md")
TITLE = "Image-type labeller"
SUMMARY = (
    "Which kind of medical image: a calibrated distribution over the image types below that says \"unsure\" "
    "instead of guessing when its calibrated confidence is under the threshold."
)
DATA_TEXT = (
    "`modality/` (see its README): MedNIST classes (abdomen CT, breast MRI, chest CT, chest X-ray, hand X-ray, head "
    "CT; 64x64), brain MRI from the brain-tumour classification set, mini-MIAS mammograms and DRIVE/STARE/CHASE_DB1/"
    "HRF fundus photographs, with a seeded per-class 80/20 `splits.csv`. The network is fitted on 85% of `train`; "
    "the remaining 15% (seeded, per class) is the calibration split that chooses the temperature and the "
    "\"unsure\" threshold. `val` is never used for training, calibration or model selection and gives the metrics "
    "below; the confusion matrix is `confusion_matrix.png` in this folder."
)


@friendly_errors
def train(argv: list[str]) -> int:
    """Train and calibrate the labeller; write the bundle, the card and the confusion matrix."""
    p = parser("train labeller", "Train the image-type labeller.")
    add_training_arguments(p, DEFAULT_BUNDLE, LabellerConfig().settings.epochs, LabellerConfig().settings.seed)
    p.add_argument("--architecture", choices=["compact_cnn", "densenet121"], default=LabellerConfig().architecture)
    add_photo_training_arguments(p, LabellerConfig().cropped_photo_share, LabellerConfig().photo_size)
    args = p.parse_args(argv)
    config = LabellerConfig(architecture=args.architecture, cropped_photo_share=args.cropped_photo_share,
                            photo_size=args.photo_size)
    apply_training_arguments(config.settings, args)
    bundle = train_model(args.data, args.out, config)
    return document_training("labeller", argv, args, bundle.config, TITLE, SUMMARY, DATA_TEXT, NOTES)


@friendly_errors
def evaluate(argv: list[str]) -> int:
    """Score a bundle on one split of a ``modality``-style folder."""
    p = parser("evaluate labeller", "Accuracy, per-class recall and calibration of the labeller.")
    add_evaluation_arguments(p, DEFAULT_BUNDLE)
    p.add_argument("--figure", type=Path, default=None, help="write the confusion matrix PNG here")
    add_screen_photo_argument(p)
    args = p.parse_args(argv)
    samples = read_splits(args.data)
    split = args.split or default_eval_split([s.split for s in samples])
    chosen = select_split(samples, split)
    sources, photographed = screen_photo_sources([s.path for s in chosen], args)
    metrics = evaluate_samples(Labeller.load(args.bundle), chosen, args.figure, sources=sources)
    return report_evaluation("labeller", split + photographed, metrics,
                             args.json)


@friendly_errors
def predict(argv: list[str]) -> int:
    """Label one image."""
    p = parser("predict labeller", "Which kind of medical image is this?")
    p.add_argument("image", type=Path)
    p.add_argument("--bundle", default=str(DEFAULT_BUNDLE))
    args = p.parse_args(argv)
    emit(asdict(Labeller.load(args.bundle).predict(args.image)), as_json=True)
    return 0
