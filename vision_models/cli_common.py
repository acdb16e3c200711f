"""Helpers shared by the per-model command lines (argument parsing, JSON output, error handling)."""

from __future__ import annotations

import argparse
import functools
import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qaid.images import ImageError
from vision_models.bundle import BundleConfig, BundleError
from vision_models.cards import write_card
from vision_models.data import DataError
from vision_models.engine import TrainSettings
from vision_models.imaging import ImageSource
from vision_models.screen_crop.model import cropped_photos
from vision_models.screen_photos import ROBUSTNESS, ROBUSTNESS_SEED, robustness_set


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An ``argparse`` parser named after the full ``python -m vision_models ...`` command."""
    return argparse.ArgumentParser(prog=f"python -m vision_models {prog}", description=description)


def add_training_arguments(p: argparse.ArgumentParser, default_out: Path, epochs: int, seed: int) -> None:
    """--data/--out and the optimisation overrides common to every ``train`` command."""
    p.add_argument("--data", type=Path, required=True, help="data folder")
    p.add_argument("--out", type=Path, default=default_out, help=f"bundle folder (default {default_out})")
    p.add_argument("--epochs", type=int, default=epochs, help=f"training epochs (default {epochs})")
    p.add_argument("--seed", type=int, default=seed, help=f"random seed (default {seed})")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1; more threads slow down on a shared CPU)")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many optimisation steps")


def add_evaluation_arguments(p: argparse.ArgumentParser, default_bundle: Path) -> None:
    """--data/--split/--bundle/--json common to every ``evaluate`` command."""
    p.add_argument("--data", type=Path, required=True, help="data folder with the same layout as the shared one")
    p.add_argument("--split", default=None, help="split to score (default: test if present, else val)")
    p.add_argument("--bundle", default=str(default_bundle), help="bundle folder or URL")
    p.add_argument("--json", action="store_true", help="print one JSON line")


def add_screen_photo_argument(p: argparse.ArgumentParser) -> None:
    """--screen-photos: score the robustness set (``vision_models.screen_photos``) built from the split;
    --cropped: the same photos, each cropped by the committed screen finder first, as the live intake does."""
    p.add_argument("--screen-photos", action="store_true",
                   help="score each image photographed off a screen (the robustness set), not the file itself")
    p.add_argument("--cropped", action="store_true",
                   help="score the screen finder's crop of each robustness photo (what the bot uses)")


def screen_photo_sources(paths: list[ImageSource], args: argparse.Namespace) -> tuple[list[Any] | None, str]:
    """What ``evaluate`` scores instead of the files, per --screen-photos/--cropped (None: the files), and the
    words that say so after the split's name."""
    if args.cropped:
        crops = cropped_photos(paths, ROBUSTNESS_SEED, ROBUSTNESS)
        return crops, " photographed off a screen, cropped by the screen finder"
    if args.screen_photos:
        return robustness_set(paths), " photographed off a screen"
    return None, ""


def add_photo_training_arguments(p: argparse.ArgumentParser, cropped_photo_share: float, photo_size: int) -> None:
    """--cropped-photo-share/--photo-size of the classifiers' screen-photo augmentation
    (:func:`vision_models.classifier.train_classifier`), with these defaults."""
    p.add_argument("--cropped-photo-share", type=float, default=cropped_photo_share,
                   help="share of the training photos seen as the screen finder crops them")
    p.add_argument("--photo-size", type=int, default=photo_size,
                   help="side at which training images are photographed, then resized to the network's input")


def apply_training_arguments(settings: TrainSettings, args: argparse.Namespace) -> None:
    """Copy --epochs/--seed/--threads/--max-steps into ``settings``."""
    settings.epochs, settings.seed = args.epochs, args.seed
    settings.threads, settings.max_steps = args.threads, args.max_steps


def report_evaluation(model: str, split: str, metrics: dict[str, Any], as_json: bool) -> int:
    """Print an evaluation as ``{"model", "split", "n", "metrics"}`` and return exit code 0."""
    metrics = dict(metrics)
    n = metrics.pop("n")
    emit({"model": model, "split": split, "n": n, "metrics": metrics}, as_json)
    return 0


def document_training(model: str, argv: list[str], args: argparse.Namespace, config: BundleConfig, title: str,
                      summary: str, data_text: str, notes: Path) -> int:
    """Write the model card of a freshly trained bundle and print its metrics as one JSON line."""
    evaluate = f"python -m vision_models evaluate {model} --data {args.data} --split val --bundle {args.out} --json"
    write_card(args.out, config, title, summary, data_text, command_line(model, "train", argv), evaluate, notes)
    emit({"bundle": str(args.out), "metrics": config.metrics}, as_json=True)
    return 0


def command_line(model: str, command: str, argv: list[str]) -> str:
    """The reproducible command that was run."""
    return " ".join(["python -m vision_models", command, model, *map(shlex.quote, argv)])


def emit(result: dict[str, Any], as_json: bool) -> None:
    """Print ``result`` as one JSON line, or as indented JSON for people."""
    print(json.dumps(result, sort_keys=True) if as_json else json.dumps(result, indent=2, sort_keys=True))


def friendly_errors(func: Callable[[list[str]], int]) -> Callable[[list[str]], int]:
    """Turn expected failures (bad image, data folder, bundle) into a message and exit code 1."""
    @functools.wraps(func)
    def wrapper(argv: list[str]) -> int:
        try:
            return func(argv)
        except ImageError as exc:
            print(f"error ({exc.code}): {exc.reason}", file=sys.stderr)
        except (DataError, BundleError) as exc:
            print(f"error: {exc}", file=sys.stderr)
        return 1
    return wrapper
