"""What batching concurrent uploads saves per model (issue 20, ``hospitals/batching.py``).

For each committed bundle an upload meets (prefilter, labeller, the three VQA first looks, the segmenter), the CPU
milliseconds per image of N calls one at a time against the same images in batches of ``--batch``, with one torch
thread as the action server runs it. Images are the head phantom with noise seeded per image, so no cache serves one
image from another's work (each VQA model's encoding cache is cleared first). Printed as JSON; take the best of
``--repeats`` runs (the machine is noisy).

``python bench/bench_batching.py --batch 8`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from qaid.settings import load_settings
from tests.support.phantoms import head_phantom, png_bytes
from vision_models.labeller import Labeller
from vision_models.prefilter import Prefilter
from vision_models.segmentation import Segmenter
from vision_models.vqa import VQAModel


def scans(count: int) -> list[bytes]:
    """``count`` different PNG files of the head phantom."""
    images = []
    for seed in range(count):
        noise = np.random.default_rng(seed).integers(-3, 4, size=(256, 256))
        images.append(png_bytes(np.clip(head_phantom(256).astype(np.int16) + noise, 0, 255).astype(np.uint8)))
    return images


def cpu_ms_per_image(batch_call: Callable[[Sequence[bytes]], Any], images: list[bytes], size: int,
                     before: Callable[[], None]) -> float:
    """CPU milliseconds per image of ``batch_call`` over ``images`` in chunks of ``size``."""
    before()
    start = time.process_time()
    for first in range(0, len(images), size):
        batch_call(images[first:first + size])
    return 1000 * (time.process_time() - start) / len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    settings = load_settings()
    images = scans(args.images + 1)
    models: dict[str, tuple[Callable[[Sequence[bytes]], Any], Callable[[], None]]] = {}
    nothing: Callable[[], None] = lambda: None  # noqa: E731
    for name, cls in (("prefilter", Prefilter), ("labeller", Labeller), ("segmentation", Segmenter)):
        model = cls.load(settings.bundle_path(name))
        models[name] = (model.predict_batch, nothing)
    for bundle in ("vqa", "vqa_rad_only", "slake_only"):
        vqa = VQAModel.load(settings.bundle_path(bundle))
        models[f"{bundle} first look"] = (vqa.insights_batch, vqa._encoded.clear)
    report = {}
    for name, (call, before) in models.items():
        call(images[-1:])  # warm up
        alone = min(cpu_ms_per_image(call, images[:-1], 1, before) for _ in range(args.repeats))
        batched = min(cpu_ms_per_image(call, images[:-1], args.batch, before) for _ in range(args.repeats))
        report[name] = {"alone_ms": round(alone, 2), f"batch_{args.batch}_ms": round(batched, 2),
                        "ratio": round(alone / batched, 2)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
