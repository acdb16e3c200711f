"""Command line: ``python -m vision_models {train,evaluate,predict} <model> [options]``.

Each model has a ``vision_models.<package>.cli`` module exposing ``train``, ``evaluate`` and
``predict`` functions that take the remaining arguments and return an exit code.
"""

from __future__ import annotations

import importlib
import sys

MODELS = {
    "prefilter": "vision_models.prefilter.cli",
    "labeller": "vision_models.labeller.cli",
    "segmentation": "vision_models.segmentation.cli",
    "vqa": "vision_models.vqa.cli",
    "screen_crop": "vision_models.screen_crop.cli",
}
COMMANDS = ("train", "evaluate", "predict")
USAGE = f"usage: python -m vision_models {{{','.join(COMMANDS)}}} {{{','.join(MODELS)}}} [options]"


def main(argv: list[str]) -> int:
    """Dispatch ``argv`` to the chosen model's command."""
    if len(argv) < 2 or argv[0] not in COMMANDS or argv[1] not in MODELS:
        print(USAGE, file=sys.stderr)
        return 2
    command, model, rest = argv[0], argv[1], argv[2:]
    module = importlib.import_module(MODELS[model])
    return int(getattr(module, command)(rest) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
