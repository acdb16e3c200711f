"""``python -m vision_models {train,evaluate,predict} segmentation ...``."""

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
from vision_models.data import default_eval_split, read_slices
from vision_models.segmentation.config import DEFAULT_BUNDLE, SegmentationConfig
from vision_models.segmentation.model import Segmenter
from vision_models.segmentation.train import evaluate_slices
from vision_models.segmentation.train import train as train_model

NOTES = Path(__file__).with_name("card_notes.md")
TITLE = "Brain-MRI FLAIR-abnormality segmentation"
SUMMARY = (
    "2-D MONAI BasicUNet that outlines FLAIR abnormality (lower-grade glioma) on brain-MRI slices and measures "
    "its area in pixels and as a fraction of the brain."
)
DATA_TEXT = (
    "`lgg_mri/` (see its README): 110 TCGA lower-grade-glioma patients with manual FLAIR-abnormality masks "
    "(Buda et al. 2019, Kaggle `mateuszbuda/lgg-mri-segmentation` via github.com/hua2980/brain-tumor-segmentation). "
    "256x256 slices, 3 channels (pre-contrast, FLAIR, post-contrast). Split by patient: 77 train, 16 validation; "
    "the 17 test patients are held out of the shared folder. A seeded choice of train patients (listed under "
    "`tuning` in config.json) is held out of training to choose the probability threshold and the post-processing; "
    "training uses every tumour slice of the other train patients plus a fresh seeded sample of empty slices each "
    "epoch. Metrics are measured on every slice of the validation patients (never used for training, tuning or "
    "model selection) at the original 256x256 resolution."
)


@friendly_errors
def train(argv: list[str]) -> int:
    """Train the segmenter and write the bundle and its model card."""
    config = SegmentationConfig()
    p = parser("train segmentation", "Train the brain-MRI FLAIR-abnormality segmenter.")
    add_training_arguments(p, DEFAULT_BUNDLE, config.settings.epochs, config.settings.seed)
    p.add_argument("--empty-slices", type=int, default=config.empty_slices_per_epoch,
                   help=f"empty slices drawn per epoch (default {config.empty_slices_per_epoch})")
    p.add_argument("--learning-rate", type=float, default=config.settings.learning_rate,
                   help=f"peak learning rate (default {config.settings.learning_rate})")
    p.add_argument("--crop-size", type=int, default=config.crop_size,
                   help=f"training crop size in network pixels (default {config.crop_size}; >= input size: no crop)")
    p.add_argument("--input-size", type=int, default=config.input_size,
                   help=f"resolution the slices are loaded at (default {config.input_size}); above the UNet's "
                        f"{config.unet_size}, a full-resolution head refines the UNet's output")
    p.add_argument("--tuning-patients", type=int, default=config.tuning_patients,
                   help=f"train patients held out to tune the post-processing (default {config.tuning_patients})")
    p.add_argument("--no-bf16", dest="bf16", action="store_false", help="train in float32 (default: bfloat16 autocast)")
    p.add_argument("--no-flip-tta", dest="flip_tta", action="store_false",
                   help="predict without the left-right mirror average (default: average both)")
    p.add_argument("--ema-decay", type=float, default=config.settings.ema_decay,
                   help="keep an exponential moving average of the weights with this decay, e.g. 0.999 "
                        f"(default {config.settings.ema_decay})")
    p.add_argument("--init", default=None, help="start from this bundle's weights (fine-tuning)")
    p.add_argument("--screen-photo-probability", type=float, default=config.screen_photo_probability,
                   help="share of training slices seen as the screen finder's crop of a photo of a screen "
                        f"(default {config.screen_photo_probability})")
    args = p.parse_args(argv)
    apply_training_arguments(config.settings, args)
    config.empty_slices_per_epoch, config.settings.learning_rate = args.empty_slices, args.learning_rate
    config.crop_size, config.tuning_patients, config.bf16 = args.crop_size, args.tuning_patients, args.bf16
    config.flip_tta, config.settings.ema_decay, config.input_size = args.flip_tta, args.ema_decay, args.input_size
    config.screen_photo_probability = args.screen_photo_probability
    splits = {s.split for s in read_slices(args.data)}
    bundle = train_model(args.data, args.out, config, eval_split="val" if "val" in splits else None, init=args.init)
    return document_training("segmentation", argv, args, bundle.config, TITLE, SUMMARY, DATA_TEXT, NOTES)


@friendly_errors
def evaluate(argv: list[str]) -> int:
    """Score a bundle on one split of an ``lgg_mri``-style folder."""
    p = parser("evaluate segmentation", "Per-volume and pixel Dice of the segmenter.")
    add_evaluation_arguments(p, DEFAULT_BUNDLE)
    p.add_argument("--batch-size", type=int, default=16)
    args = p.parse_args(argv)
    split = args.split or default_eval_split([s.split for s in read_slices(args.data)])
    metrics = evaluate_slices(Segmenter.load(args.bundle), read_slices(args.data, split), args.batch_size)
    return report_evaluation("segmentation", split, metrics, args.json)


@friendly_errors
def predict(argv: list[str]) -> int:
    """Segment one image; optionally write the overlay PNG."""
    p = parser("predict segmentation", "Segment FLAIR abnormality on one brain-MRI slice.")
    p.add_argument("image", type=Path)
    p.add_argument("--bundle", default=str(DEFAULT_BUNDLE))
    p.add_argument("--overlay", type=Path, default=None, help="write the outline overlay PNG here")
    args = p.parse_args(argv)
    result = Segmenter.load(args.bundle).predict(args.image)
    if args.overlay is not None:
        args.overlay.write_bytes(result.overlay_png)
    emit({"lesion_pixels": result.lesion_pixels, "brain_pixels": result.brain_pixels,
          "lesion_fraction": round(result.lesion_fraction, 4), "lesion_side": result.lesion_side,
          "overlay": str(args.overlay or "")}, as_json=True)
    return 0
