"""Consistency and calibration report: what the bot states about VQA-RAD test and SLAKE validation images.

Every image goes through the action server's own path, in process, on the default ``services.yml`` hospitals:
the hospital network screens and labels it, the VQA hospitals' first look is combined and reconciled with the
label (:func:`actions.image_facts.consistent_findings`), then each of the image's questions is asked in the
file's order and the image record's rules decide what is stated (:func:`actions.image_facts.stated_answer`).
The question type is the hospitals' own type head (Rasa NLU's distribution is not used here). Run::

    PYTHONPATH=. .venv-models/bin/python bench/consistency_report.py [--data ../shared/data] [--limit N]

Figures per split (JSON in ``results/consistency/``, summary on stdout):

* ``label_agreement``: on modality and organ questions about images the labeller is confident about, the
  share of stated answers that agree with the label (target >= 99%), beside the same share for the hospitals'
  raw answer; ``plane`` has no label fact and is reported as the VQA's own accuracy only.
* ``accuracy``: exact-match accuracy (the VQA card's normalisation) of the raw and the stated answers on those
  questions, so the choice "answer from the label" is measured, not assumed.
* ``contradictions``: share of images where a later answer contradicts the first look or an earlier answer of
  the same question type (target <= 1%), raw and as stated.
* ``calibration``: ECE of the shown confidence over stated answers (all, and per question type), the measured
  accuracy of each confidence word ("very confident" ...), and the highest confidence shown; the reliability
  diagram goes to ``--figure``.

Data provenance: VQA-RAD (CC0) and SLAKE (CC BY 4.0) as prepared in ``../shared/data`` (see its README). The
default hospitals' VQA bundles saw VQA-RAD training images (all VQA-RAD test images also occur in its training
file) and the ``vqa`` bundle chose its temperature on SLAKE validation, so neither split is fully held out for
every hospital: the VQA card says which bundle saw which split.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from actions.hospitals.network import HospitalNetwork
from actions.image_facts import (
    CONFIDENT_LABEL,
    FINDING_OF_TYPE,
    agrees,
    consistent_findings,
    earlier_answer,
    label_fact,
    stated_answer,
    stated_findings,
)
from actions.settings import load_settings
from actions.wording import MAX_SHOWN_CONFIDENCE, confidence_words
from vision_models.metrics import calibration_error, reliability_bins
from vision_models.plots import save_reliability_diagram
from vision_models.vqa.data import VQARecord, read_split
from vision_models.vqa.text import normalise_answer

REPO = Path(__file__).resolve().parents[1]
SPLITS = (("vqa_rad", "test"), ("slake", "val"))
WORDS = ("very confident", "fairly confident", "somewhat confident", "not confident")
POLICIES = ("label", "specific", "restrict", "unsure")
TARGET_AGREEMENT = 0.99
TARGET_CONTRADICTIONS = 0.01
TARGET_ECE = 0.05


def _share(hits: Sequence[bool]) -> float | None:
    return round(float(np.mean(hits)), 4) if hits else None


async def consult_image(network: HospitalNetwork, path: Path, records: list[VQARecord]) -> list[dict[str, Any]]:
    """Screen one image, take the first look and ask its questions in order; one row per question."""
    data = path.read_bytes()
    screening = await network.screen(data)
    label = screening.label
    image = {"sha256": str(path), "label": label.label if label else None,
             "confidence": label.confidence if label else None}
    raw_findings = stated_findings(await network.insights(data, image["label"]))
    image["findings"] = consistent_findings(raw_findings, image)
    log: list[dict[str, Any]] = []
    rows = []
    for record in records:
        result = await network.ask(data, record.question, None, image["label"])
        key = FINDING_OF_TYPE.get(result.question_type or "")
        raw_first = next((f["answer"] for f in raw_findings if f["key"] == key), None)
        stated = stated_answer(image, log, result.question_type, result.answer, result.confidence, result.abstained)
        shown_earlier = earlier_answer(image, log, result.question_type)
        rows.append({
            "image": str(path), "question": record.question, "truth": record.answer,
            "question_type": result.question_type, "key": key, "label": image["label"],
            "label_confidence": image["confidence"], "label_fact": label_fact(image, key or ""),
            "raw_answer": None if result.abstained else result.answer, "raw_confidence": result.confidence,
            "ranked": [] if result.abstained else [result.answer, *(a for a, _ in result.alternatives)],
            "stated_answer": stated.answer, "stated_confidence": stated.confidence, "source": stated.source,
            "raw_contradicts": bool(key and raw_first and result.answer and not result.abstained
                                    and not agrees(key, raw_first, result.answer)),
            "stated_contradicts": bool(key and shown_earlier and stated.answer
                                       and not agrees(key, shown_earlier, stated.answer)),
        })
        log.append({"question_type": result.question_type, "answer": stated.answer, "image_sha256": image["sha256"]})
    return rows


def _correct(answer: str | None, truth: str) -> bool:
    return answer is not None and normalise_answer(answer) == normalise_answer(truth)


def policy_answer(row: dict[str, Any], policy: str) -> str | None:
    """What a policy would state for a modality or organ question about a confidently labelled image.

    ``label``: the label's fact; ``specific``: the hospitals' answer when it agrees with the label (it may be
    more precise: "t2" for "mri"), else the label's fact; ``restrict``: the best-ranked of the hospitals' answers
    that agrees with the label, else nothing; ``unsure``: the hospitals' answer when it agrees, else nothing.
    """
    key, fact, raw = row["key"], row["label_fact"], row["raw_answer"]
    if policy == "label":
        return fact
    if policy == "specific":
        return raw if raw and agrees(key, fact, raw) else fact
    if policy == "restrict":
        return next((a for a in row["ranked"] if agrees(key, fact, a)), None)
    if policy == "unsure":
        return raw if raw and agrees(key, fact, raw) else None
    raise ValueError(f"unknown policy {policy!r}")


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures described in the module docstring, for one split's rows."""
    facts = [r for r in rows if r["key"] in ("modality", "organ") and r["label_fact"]]
    agreement = {}
    for key in ("modality", "organ"):
        chosen = [r for r in facts if r["key"] == key]
        agreement[key] = {
            "questions": len(chosen),
            "stated_agree": _share([agrees(key, r["label_fact"], r["stated_answer"])
                                    for r in chosen if r["stated_answer"]]),
            "raw_agree": _share([agrees(key, r["label_fact"], r["raw_answer"]) for r in chosen if r["raw_answer"]]),
            "stated_accuracy": _share([_correct(r["stated_answer"], r["truth"]) for r in chosen]),
            "raw_accuracy": _share([_correct(r["raw_answer"], r["truth"]) for r in chosen]),
            "policy_accuracy": {policy: _share([_correct(policy_answer(r, policy), r["truth"]) for r in chosen])
                                for policy in POLICIES},
            "policy_coverage": {policy: _share([policy_answer(r, policy) is not None for r in chosen])
                                for policy in POLICIES},
        }
    plane = [r for r in rows if r["key"] == "plane"]
    by_image: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_image[row["image"]].append(row)
    stated = [r for r in rows if r["stated_answer"]]
    confidence = np.asarray([min(r["stated_confidence"], MAX_SHOWN_CONFIDENCE) for r in stated])
    correct = np.asarray([_correct(r["stated_answer"], r["truth"]) for r in stated])
    per_type = {}
    for question_type in sorted({r["question_type"] for r in stated}):
        mask = np.asarray([r["question_type"] == question_type for r in stated])
        per_type[question_type] = {"answers": int(mask.sum()),
                                   "ece": round(calibration_error(confidence[mask], correct[mask]), 4),
                                   "accuracy": round(float(correct[mask].mean()), 4)}
    words = {}
    for word in WORDS:
        mask = np.asarray([confidence_words(c) == word for c in confidence], dtype=bool)
        words[word] = {"answers": int(mask.sum()),
                       "accuracy": round(float(correct[mask].mean()), 4) if mask.any() else None}
    return {
        "images": len(by_image),
        "questions": len(rows),
        "labelled_confidently": _share([(group[0]["label_confidence"] or 0.0) >= CONFIDENT_LABEL
                                        for group in by_image.values()]),
        "label_agreement": agreement,
        "plane": {"questions": len(plane), "raw_accuracy": _share([_correct(r["raw_answer"], r["truth"])
                                                                   for r in plane])},
        "contradictions": {
            "raw_images": _share([any(r["raw_contradicts"] for r in group) for group in by_image.values()]),
            "stated_images": _share([any(r["stated_contradicts"] for r in group) for group in by_image.values()]),
            "stated_answers": _share([r["stated_contradicts"] for r in rows]),
        },
        "calibration": {
            "stated_answers": len(stated),
            "coverage": _share([bool(r["stated_answer"]) for r in rows]),
            "accuracy": round(float(correct.mean()), 4) if len(stated) else None,
            "ece": round(calibration_error(confidence, correct), 4),
            "highest_shown": round(float(confidence.max()), 4) if len(stated) else None,
            "per_type": per_type,
            "words": words,
            "bins": reliability_bins(confidence, correct, bins=10),
        },
    }


async def run_split(network: HospitalNetwork, folder: Path, split: str, limit: int | None) -> list[dict[str, Any]]:
    """Rows for every (or the first ``limit``) image of one split."""
    grouped: dict[Path, list[VQARecord]] = defaultdict(list)
    for record in read_split(folder, split):
        grouped[record.image].append(record)
    paths = sorted(grouped)[:limit]
    rows = []
    for path in tqdm(paths, desc=f"{folder.name} {split}", unit="image"):
        rows.extend(await consult_image(network, path, grouped[path]))
    return rows


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    """Run every split and write the JSON files and the reliability diagram."""
    with tempfile.TemporaryDirectory(prefix="qaid-consistency-") as var_dir:
        os.environ["QAID_VAR_DIR"] = var_dir
        network = HospitalNetwork.from_settings(load_settings())
        await network.start()
        try:
            report, curves = {}, {}
            args.out.mkdir(parents=True, exist_ok=True)
            for name, split in SPLITS:
                rows = await run_split(network, args.data / name, split, args.limit)
                summary = summarise(rows)
                (args.out / f"{name}_{split}.json").write_text(json.dumps({"summary": summary, "rows": rows},
                                                                          indent=1), encoding="utf-8")
                report[f"{name}_{split}"] = summary
                curves[f"{name} {split} (ECE {summary['calibration']['ece']:.3f})"] = summary["calibration"]["bins"]
        finally:
            await network.close()
    save_reliability_diagram(curves, args.figure, "Confidence the bot shows vs its accuracy")
    report["targets"] = {"label_agreement": TARGET_AGREEMENT, "contradictions": TARGET_CONTRADICTIONS,
                         "ece": TARGET_ECE}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "consistency")
    parser.add_argument("--figure", type=Path, default=REPO / "vision_models" / "weights" / "vqa" /
                        "reliability_diagram.png")
    parser.add_argument("--limit", type=int, help="images per split (a quick look; the figures need all)")
    args = parser.parse_args(argv)
    report = asyncio.run(main_async(args))
    for name, summary in report.items():
        if name != "targets":
            summary = {k: v for k, v in summary.items() if k != "calibration"} | {
                "calibration": {k: v for k, v in summary["calibration"].items() if k != "bins"}}
        print(json.dumps({name: summary}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
