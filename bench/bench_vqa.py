"""CPU inference benchmark of the VQA bundle (batch 1, median of 50 runs after warm-up; times in ms).

    PYTHONPATH=. .venv-models/bin/python bench/bench_vqa.py [--bundle DIR] [--image PATH] [--threads 1] [--runs 50]

Times, from encoded image bytes to the typed result: one question (``VQAModel.answer``, with the
model's own type head and with a caller's type distribution) and the four upload insights in one
batched call (``VQAModel.insights``). With a case memory, the sentence encoder's cache is cleared
before every run, so each question is encoded afresh (the worst case). Prints one JSON line with the
medians, 90th percentiles, the targets (30 ms, 80 ms) and whether they are met, plus the weights' size in MB.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from bench.bench_vision import time_ms
from vision_models.vqa import VQAModel
from vision_models.vqa.config import DEFAULT_BUNDLE

TARGET_QUESTION_MS = 30.0
TARGET_INSIGHTS_MS = 80.0


def synthetic_image(size: int = 256) -> bytes:
    """A deterministic grayscale radiograph-like PNG (bright ellipse with texture)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    ellipse = ((yy - size / 2) / (size * 0.4)) ** 2 + ((xx - size / 2) / (size * 0.3)) ** 2 < 1
    pixels = (ellipse * 160 + rng.integers(0, 60, (size, size))).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    parser.add_argument("--image", type=Path, help="image file to use (default: a synthetic PNG)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = VQAModel.load(args.bundle)
    image = args.image.read_bytes() if args.image else synthetic_image()
    question = "Is there evidence of a pneumothorax in the left lung?"

    def cold(call: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            if model.sentences is not None:
                model.sentences.clear_cache()
            return call()
        return run

    own = time_ms(cold(lambda: model.answer(image, question)), args.runs)
    caller = time_ms(cold(lambda: model.answer(image, question, {"PRES": 0.9, "POS": 0.1})), args.runs)
    insights = time_ms(cold(lambda: model.insights(image)), args.runs)
    weights_mb = sum(f.stat().st_size for f in Path(args.bundle).iterdir() if f.is_file()) / 1e6
    print(json.dumps({
        "bundle": str(args.bundle), "threads": args.threads, "runs": args.runs, "case_memory": model.uses_memory,
        "question": own, "question_with_caller_types": caller, "insights": insights,
        "targets_ms": {"question": TARGET_QUESTION_MS, "insights": TARGET_INSIGHTS_MS},
        "meets_targets": own["median"] <= TARGET_QUESTION_MS and insights["median"] <= TARGET_INSIGHTS_MS,
        "bundle_mb": round(weights_mb, 2),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
