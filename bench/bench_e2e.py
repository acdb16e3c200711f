"""End-to-end figures of the running assistant: start-up time and REST latency of one image question.

Starts the real stack (``bot.cli run``) on free ports with a fresh state folder, opens a
consultation over the ``qaid_rest`` channel, sends one image, then asks the same question
``--runs`` times and reports the median and p95 round-trip latency. Prints one JSON line.

    .venv-models/bin/python bench/bench_e2e.py --runs 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.support.phantoms import head_phantom, png_bytes
from tests.support.stack import start_stack


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--question", default="is there an abnormality in the brain?")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qaid-bench-") as folder:
        stack = start_stack(Path(folder))
        try:
            stack.say("bench", "hello")
            stack.say("bench", "yes")
            started = time.perf_counter()
            stack.send_image("bench", png_bytes(head_phantom(256)), "head.png")
            image_ms = (time.perf_counter() - started) * 1000
            latencies = []
            for _ in range(args.runs):
                started = time.perf_counter()
                reply = stack.say("bench", args.question)
                latencies.append((time.perf_counter() - started) * 1000)
            result = {
                "startup_s": round(stack.startup_s, 1),
                "image_upload_ms": round(image_ms, 1),
                "question_ms_median": round(statistics.median(latencies), 1),
                "question_ms_p95": round(percentile(latencies, 0.95), 1),
                "runs": args.runs,
                "last_reply": " ".join(m.get("text", "") for m in reply)[:200],
            }
        finally:
            stack.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
