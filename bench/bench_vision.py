"""CPU inference benchmark of the vision models (batch 1, median of 50 runs after warm-up).

    PYTHONPATH=. .venv-models/bin/python bench/bench_vision.py [--threads 1] [--runs 50] [--image PATH]
    PYTHONPATH=. .venv-models/bin/python bench/bench_vision.py --architectures
    PYTHONPATH=. .venv-models/bin/python bench/bench_vision.py --segmentation-training

Times, from encoded PNG bytes to the typed result: prefilter + labeller together on one image,
and segmentation of one 256x256 slice (overlay PNG included). Prints one JSON line with the
medians, the 90th percentiles and whether each target (60 ms, 150 ms) is met.
``--architectures`` instead times the classifier candidates (compact CNN, MONAI DenseNet121) on a
64x64 input, network forward only, for the architecture comparison in the model cards.
``--segmentation-training`` instead times one training step of the segmentation network (batch 16 of
128x128, or ``--input-size 256`` for the network with the full-resolution refinement head, Dice +
cross-entropy, AdamW) in float32, under bfloat16 autocast, and under bfloat16 autocast in
channels-last memory format (as the training command runs it), as wall clock and as the process's CPU time
(which another job on a shared CPU disturbs less).
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from vision_models.labeller import Labeller
from vision_models.networks import build_network, count_parameters
from vision_models.prefilter import Prefilter
from vision_models.segmentation import Segmenter
from vision_models.segmentation.config import SegmentationConfig, create_network
from vision_models.segmentation.train import BF16Autocast

TARGET_CLASSIFIERS_MS = 60.0
TARGET_SEGMENTATION_MS = 150.0


def synthetic_slice(size: int = 256) -> bytes:
    """A deterministic brain-MRI-like RGB slice (bright ellipse with texture) as PNG bytes."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    head = ((yy - size / 2) / (0.42 * size)) ** 2 + ((xx - size / 2) / (0.35 * size)) ** 2 < 1
    lesion = ((yy - 0.4 * size) ** 2 + (xx - 0.6 * size) ** 2) < (0.08 * size) ** 2
    base = head * (0.35 + 0.1 * rng.random((size, size))) + lesion * 0.4
    rgb = np.stack([base * 0.8, base, base * 0.9], axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8), mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def time_ms(func: Callable[[], object], runs: int, warmup: int = 5) -> dict[str, float]:
    """Median and 90th percentile wall-clock milliseconds of ``func``."""
    for _ in range(warmup):
        func()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000.0)
    samples.sort()
    return {"median": round(statistics.median(samples), 2), "p90": round(samples[int(0.9 * (runs - 1))], 2)}


def training_step(network: torch.nn.Module, optimiser: torch.optim.Optimizer, x: torch.Tensor,
                  y: torch.Tensor) -> None:
    """One optimisation step of ``network`` on (x, y) with cross-entropy."""
    optimiser.zero_grad()
    torch.nn.functional.cross_entropy(network(x), y).backward()
    optimiser.step()


def compare_architectures(runs: int, train_runs: int = 3) -> dict[str, dict[str, object]]:
    """Per classifier candidate at 64x64: parameters, batch-1 forward latency, batch-64 training-step time."""
    candidates = {"compact_cnn": {"features": [16, 32, 64, 128]}, "densenet121": {}}
    x = torch.rand(1, 1, 64, 64)
    batch, labels = torch.rand(64, 1, 64, 64), torch.arange(64) % 9
    out: dict[str, dict[str, object]] = {}
    for name, extra in candidates.items():
        network = build_network(name, {"in_channels": 1, "num_classes": 9, **extra}).eval()
        with torch.inference_mode():
            out[name] = {"parameters": count_parameters(network),
                         "forward_ms": time_ms(functools.partial(network, x), runs)}
        network.train()
        step = functools.partial(training_step, network, torch.optim.AdamW(network.parameters()), batch, labels)
        out[name]["train_step_batch64_ms"] = time_ms(step, train_runs, warmup=1)
    return out


def segmentation_training_step(runs: int, bf16: bool, channels_last: bool = False, batch: int = 16,
                               input_size: int = 128) -> dict[str, dict[str, float]]:
    """Wall-clock and CPU milliseconds of one training step of the default segmentation network
    (``channels_last``: network and batch in channels-last memory format, as the training command runs it;
    ``input_size`` above the UNet's: the network with the full-resolution refinement head)."""
    from monai.losses import DiceCELoss

    torch.manual_seed(0)
    config = SegmentationConfig(input_size=input_size)
    network = create_network(config)
    trained = BF16Autocast(network) if bf16 else network
    optimiser = torch.optim.AdamW(network.parameters())
    loss = DiceCELoss(sigmoid=True, batch=True)
    x = torch.rand(batch, config.channels, config.input_size, config.input_size)
    y = (torch.rand(batch, 1, config.input_size, config.input_size) > 0.9).float()
    if channels_last:
        network.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)

    def step() -> None:
        optimiser.zero_grad()
        loss(trained(x), y).backward()
        optimiser.step()

    cpu_start = time.process_time()
    wall = time_ms(step, runs, warmup=1)
    cpu_ms = (time.process_time() - cpu_start) * 1000.0 / (runs + 1)
    return {"wall_ms": wall, "cpu_ms_mean": round(cpu_ms, 1)}


def main(argv: list[str]) -> int:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: on a shared CPU more threads are slower)")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--image", type=Path, default=None, help="image to time (default: a synthetic 256x256 slice)")
    parser.add_argument("--architectures", action="store_true", help="compare classifier architectures instead")
    parser.add_argument("--segmentation-training", action="store_true",
                        help="time segmentation training steps (float32 vs bfloat16 autocast) instead")
    parser.add_argument("--input-size", type=int, default=128,
                        help="segmentation training input size (default 128; 256: with the refinement head)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.segmentation_training:
        step = functools.partial(segmentation_training_step, args.runs, input_size=args.input_size)
        print(json.dumps({"runs": args.runs, "threads": args.threads, "batch": 16,
                          "input": f"3x{args.input_size}x{args.input_size}",
                          "float32": step(bf16=False), "bfloat16_autocast": step(bf16=True),
                          "bfloat16_autocast_channels_last": step(bf16=True, channels_last=True)}))
        return 0
    if args.architectures:
        print(json.dumps({"runs": args.runs, "threads": args.threads, "batch": 1, "input": "1x64x64",
                          "architectures": compare_architectures(args.runs)}))
        return 0
    data = args.image.read_bytes() if args.image else synthetic_slice()
    prefilter, labeller, segmenter = Prefilter.load(), Labeller.load(), Segmenter.load()

    def classify() -> None:
        prefilter.predict(data)
        labeller.predict(data)

    classifiers = time_ms(classify, args.runs)
    segmentation = time_ms(lambda: segmenter.predict(data), args.runs)
    print(json.dumps({
        "runs": args.runs, "threads": args.threads, "batch": 1,
        "input": str(args.image) if args.image else "synthetic 256x256 RGB PNG",
        "prefilter_plus_labeller_ms": classifiers,
        "segmentation_ms": segmentation,
        "targets_ms": {"prefilter_plus_labeller": TARGET_CLASSIFIERS_MS, "segmentation": TARGET_SEGMENTATION_MS},
        "meets_targets": classifiers["median"] <= TARGET_CLASSIFIERS_MS
        and segmentation["median"] <= TARGET_SEGMENTATION_MS,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
