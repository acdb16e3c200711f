"""What the words patients type before a question cost the VQA models (issue 17, ``actions.questions.model_question``).

Top-1 accuracy of each committed VQA bundle on the VQA-RAD test questions as written, and with a filler put before
every question ("wait, ", "ok so ", "hmm "), as the assistant would pass them without ``model_question``. A
development check of why the fillers are stripped; nothing is tuned on it. Printed as JSON.

``python bench/question_fillers_report.py --data ../shared/data/vqa_rad`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qaid.settings import load_settings
from vision_models.vqa import VQAModel

FILLERS = ("", "wait, ", "ok so ", "hmm ")
BUNDLES = ("vqa", "vqa_rad_only", "slake_only")


def accuracy(model: VQAModel, images: list[bytes], items: list[dict], prefix: str, batch: int = 32) -> float:
    """Share of ``items`` whose top answer, asked with ``prefix`` before the question, is the reference answer."""
    right = 0
    for first in range(0, len(items), batch):
        chunk = items[first:first + batch]
        results = model.answer_batch(images[first:first + batch], [prefix + item["question"] for item in chunk])
        right += sum(r.answer.lower() == str(item["answer"]).lower() for r, item in zip(results, chunk))
    return right / len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the vqa_rad folder (testset.json, images/)")
    args = parser.parse_args()
    items = json.loads((args.data / "testset.json").read_text())
    images = [(args.data / "images" / item["image_name"]).read_bytes() for item in items]
    settings = load_settings()
    report = {}
    for bundle in BUNDLES:
        model = VQAModel.load(settings.bundle_path(bundle))
        scores = {prefix: accuracy(model, images, items, prefix) for prefix in FILLERS}
        report[bundle] = {"as written": round(scores[""], 3),
                          **{f"points lost with {p!r}": round(100 * (scores[""] - scores[p]), 1) for p in FILLERS[1:]}}
    print(json.dumps({"questions": len(items), "top1_accuracy": report}, indent=2))


if __name__ == "__main__":
    main()
