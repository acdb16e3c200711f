"""``python -m vision_models {train,evaluate,predict} vqa ...``."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from qaid.images import ImageError
from vision_models.bundle import BundleError
from vision_models.vqa.config import DEFAULT_BUNDLE, VQAConfig
from vision_models.vqa.data import DatasetError, read_split
from vision_models.vqa.evaluation import accuracy_report, image_pixels, predict_records
from vision_models.vqa.model import QuestionError, VQAModel
from vision_models.vqa.network import MECHANISMS
from vision_models.vqa.qtypes import keyword_question_types
from vision_models.vqa.sentence import EncoderError
from vision_models.vqa.training import recalibrate
from vision_models.vqa.training import train as run_training

DEFAULTS = VQAConfig()


def train(argv: list[str]) -> int:
    """Train from scratch and write a bundle."""
    parser = argparse.ArgumentParser(prog="python -m vision_models train vqa", description=train.__doc__)
    parser.add_argument("--vqa-rad", type=Path, help="VQA-RAD folder (trainset.json, images/)")
    parser.add_argument("--slake", type=Path, help="SLAKE folder (train.json, validate.json, imgs/)")
    parser.add_argument("--pretrain", type=Path, nargs="*", default=[],
                        help="folders of unlabelled medical images for the auto-encoder (searched recursively)")
    parser.add_argument("--out", type=Path, default=DEFAULTS.out)
    parser.add_argument("--name", default=DEFAULTS.name)
    parser.add_argument("--cache-dir", type=Path, default=Path("var/cache/vqa"))
    parser.add_argument("--image-size", type=int, default=DEFAULTS.image_size)
    parser.add_argument("--epochs", type=int, default=DEFAULTS.epochs)
    parser.add_argument("--pretrain-epochs", type=int, default=DEFAULTS.pretrain_epochs)
    parser.add_argument("--batch-questions", type=int, default=DEFAULTS.batch_questions)
    parser.add_argument("--lr", type=float, default=DEFAULTS.lr)
    parser.add_argument("--rad-repeat", type=int, default=DEFAULTS.rad_repeat,
                        help="show each VQA-RAD image this many times per epoch")
    parser.add_argument("--mechanisms", nargs="+", default=list(DEFAULTS.mechanisms), choices=list(MECHANISMS))
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed)
    parser.add_argument("--threads", type=int, default=DEFAULTS.threads)
    parser.add_argument("--recalibrate", type=Path, metavar="BUNDLE",
                        help="do not train: re-fit prior strength, memory, temperature and threshold of BUNDLE "
                             "(same data; its network weights are kept)")
    parser.add_argument("--no-memory", dest="memory", action="store_false",
                        help="no case memory of training questions (see vision_models/vqa/memory.py)")
    parser.add_argument("--sentence-encoder", default=DEFAULTS.sentence_encoder,
                        help="sentence encoder of the case memory: package:<module> or a model folder")
    args = parser.parse_args(argv)
    opts = VQAConfig(
        out=args.out, name=args.name, vqa_rad=args.vqa_rad, slake=args.slake, pretrain_dirs=args.pretrain,
        cache_dir=args.cache_dir, image_size=args.image_size, epochs=args.epochs, pretrain_epochs=args.pretrain_epochs,
        batch_questions=args.batch_questions, lr=args.lr, rad_repeat=args.rad_repeat,
        mechanisms=tuple(args.mechanisms), seed=args.seed, threads=args.threads,
        memory=args.memory, sentence_encoder=args.sentence_encoder,
    )
    try:
        folder = recalibrate(opts, args.recalibrate) if args.recalibrate else run_training(opts)
    except (DatasetError, BundleError, EncoderError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"bundle": str(folder)}))
    return 0


def _type_rules_report(data: Path, split: str) -> dict[str, object]:
    records = read_split(data, split)
    hits = [keyword_question_types(r.question)[0] in r.types for r in records]
    accuracy = round(100.0 * sum(hits) / len(hits), 2)
    return {"split": split, "questions": len(records), "keyword_rules_accuracy": accuracy}


def evaluate(argv: list[str]) -> int:
    """Exact-match accuracy (overall, open, closed) of a bundle on a VQA-RAD or SLAKE folder."""
    parser = argparse.ArgumentParser(prog="python -m vision_models evaluate vqa", description=evaluate.__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--bundle", default=str(DEFAULT_BUNDLE))
    parser.add_argument("--prior", choices=["model", "true", "none"], default="model",
                        help="question-type prior from the model's head (default), the labelled type, or none")
    parser.add_argument("--prior-power", type=float, default=None,
                        help="override the bundle's prior strength β (1 = the plain prior, 0 = its support only)")
    parser.add_argument("--mechanism", choices=["mix", "ban", "san"], default="mix")
    parser.add_argument("--memory", choices=["on", "off"], default="on",
                        help="mix in the bundle's case memory (default) or leave it out")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--type-rules", action="store_true",
                        help="instead: accuracy of the SLAKE keyword type rules against the folder's type labels")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)
    try:
        if args.type_rules:
            report = _type_rules_report(args.data, args.split)
        else:
            torch.set_num_threads(2)
            model = VQAModel.load(args.bundle)
            mechanisms = list(model.net.cfg.mechanisms)
            if args.mechanism != "mix" and args.mechanism not in mechanisms:
                raise ValueError(f"The bundle has no {args.mechanism} mechanism (it has {', '.join(mechanisms)}).")
            only = None if args.mechanism == "mix" else mechanisms.index(args.mechanism)
            if args.prior_power is not None:
                model.priors.power = args.prior_power
            records = read_split(args.data, args.split)
            pixels, index = image_pixels(records, model.image_size, args.cache_dir)
            probs = predict_records(model, records, pixels, index, prior=args.prior, only_mechanism=only,
                                    progress=not args.json, use_memory=args.memory == "on")
            report = accuracy_report(records, model.answers, probs, model.threshold)
            report.update({"split": args.split, "data": str(args.data), "prior": args.prior,
                           "mechanism": args.mechanism, "prior_power": model.priors.power,
                           "memory": args.memory if model.uses_memory else "absent"})
            if model.uses_memory and args.memory == "on" and records and records[0].source == "vqa_rad" \
                    and args.split == "val" and model.config.extra["memory"].get("includes_vqa_rad_val"):
                report["note"] = ("the case memory holds VQA-RAD's validation carve-out (stored after calibration): "
                                  "these are not held-out figures; see the model card's calibration metrics")
    except (DatasetError, BundleError, EncoderError, ImageError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report))
    else:
        print(json.dumps(report, indent=2))
    return 0


def predict(argv: list[str]) -> int:
    """Answer a question about an image (or list the upload insights with --insights)."""
    parser = argparse.ArgumentParser(prog="python -m vision_models predict vqa", description=predict.__doc__)
    parser.add_argument("image", type=Path)
    parser.add_argument("question", nargs="?")
    parser.add_argument("--bundle", default=str(DEFAULT_BUNDLE))
    parser.add_argument("--types", help='caller question-type distribution as JSON, e.g. \'{"PRES": 0.9, "ABN": 0.1}\'')
    parser.add_argument("--insights", action="store_true")
    args = parser.parse_args(argv)
    try:
        model = VQAModel.load(args.bundle)
        if args.insights:
            print(json.dumps([asdict(f) for f in model.insights(args.image)], indent=2))
            return 0
        if args.question is None:
            raise QuestionError("Give a question (or --insights).")
        types = json.loads(args.types) if args.types else None
        print(json.dumps(asdict(model.answer(args.image, args.question, types)), indent=2))
    except json.JSONDecodeError as exc:
        print(f"error: --types is not valid JSON: {exc}", file=sys.stderr)
        return 2
    except (BundleError, EncoderError, ImageError, QuestionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
