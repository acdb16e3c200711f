"""Consistency and calibration report: what the bot states about VQA-RAD test and SLAKE validation images.

Every image goes through the action server's own path, in process, on the default ``services.yml`` hospitals:
the hospital network screens and labels it, the VQA hospitals' first look is combined and reconciled with the
label (:func:`actions.image_facts.consistent_findings`), then each of the image's questions is asked in the
file's order and the image record's rules decide what is stated (:func:`actions.image_facts.stated_answer`).
The question type is the hospitals' own type head (Rasa NLU's distribution is not used here). Run::

    PYTHONPATH=. .venv-models/bin/python bench/consistency_report.py [--data ../shared/data] [--limit N]

Figures per split (JSON in ``results/consistency/``, summary on stdout):

* ``label_agreement``: on modality and organ questions about images the labeller is confident about, the
  share of stated open answers (not yes/no) that agree with the label (target >= 99%), beside the same share
  for the hospitals' raw answers, and the share of questions answered at all; ``plane`` has no label fact
  and is reported as the VQA's own accuracy only.
* ``accuracy``: exact-match accuracy (the VQA card's normalisation) of the raw and the stated answers on those
  questions, so the choice "answer from the label" is measured, not assumed.
* ``contradictions``: share of images where a later answer contradicts the first look or an earlier answer of
  the same question type (target <= 1%), raw and as stated.
* ``calibration``: ECE of the shown confidence over stated answers (all, and per question type), the measured
  accuracy of each confidence word ("very confident" ...), and the highest confidence shown; ``calibrated``:
  the same for the candidate re-calibration of ``bench.confidence_map`` (fitted on other folds of images);
  the reliability diagram of both goes to ``--figure``, and each word's measured accuracy per split to
  ``--words-out`` (``actions/confidence_words.json``: what the bot says a word means when asked "how sure are
  you?").

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

from actions.image_facts import (
    CONFIDENT_LABEL,
    FINDING_OF_TYPE,
    agrees,
    answers_agree,
    consistent_findings,
    earlier_answer,
    fits_label,
    label_fact,
    stated_answer,
    stated_findings,
)
from actions.wording import MAX_SHOWN_CONFIDENCE, MEASURED_WORDS_FILE, confidence_words
from bench.confidence_map import cross_validated, fit_map
from hospitals.network import HospitalNetwork
from qaid.settings import load_settings
from qaid.state import REPO_ROOT
from vision_models.metrics import calibration_error, reliability_bins
from vision_models.plots import save_reliability_diagram
from vision_models.vqa.data import VQARecord, read_split
from vision_models.vqa.text import normalise_answer

SPLITS = (("vqa_rad", "test"), ("slake", "val"))
WORDS = ("very confident", "fairly confident", "somewhat confident", "not confident")
POLICIES = ("label", "specific", "restrict")
CLOSED = ("yes", "no")
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
        stated = stated_answer(image, log, result.question_type, result.answer, result.confidence, result.abstained,
                               record.question)
        shown_earlier = earlier_answer(image, log, result.question_type)
        rows.append({
            "image": str(path), "question": record.question, "truth": record.answer,
            "question_type": result.question_type, "key": key, "label": image["label"],
            "label_confidence": image["confidence"], "label_fact": label_fact(image, key or ""),
            "raw_answer": None if result.abstained else result.answer, "raw_confidence": result.confidence,
            "ranked": [] if result.abstained else [result.answer, *(a for a, _ in result.alternatives)],
            "stated_answer": stated.answer, "stated_confidence": stated.confidence, "source": stated.source,
            "raw_contradicts": bool(key and raw_first and result.answer and not result.abstained
                                    and not answers_agree(key, (raw_first, None), (result.answer, record.question))),
            "stated_contradicts": bool(key and shown_earlier and stated.answer
                                       and not answers_agree(key, shown_earlier, (stated.answer, record.question))),
        })
        log.append({"question": record.question, "question_type": result.question_type, "answer": stated.answer,
                    "image_sha256": image["sha256"]})
    return rows


def _correct(answer: str | None, truth: str) -> bool:
    return answer is not None and normalise_answer(answer) == normalise_answer(truth)


def policy_answer(row: dict[str, Any], policy: str) -> str | None:
    """What a policy would state for a modality or organ question about a confidently labelled image.

    The alternatives to the bot's rule (``stated_answer``): ``label``, the label's fact whatever the question
    (the rule before this report); ``specific``: the hospitals' answer when it agrees with the label (it may be
    more precise: "t2" for "mri"), else the label's fact; ``restrict``: the best-ranked of the hospitals'
    answers that agrees with the label, else nothing.
    """
    key, fact, raw = row["key"], row["label_fact"], row["raw_answer"]
    if policy == "label":
        return fact
    if policy == "specific":
        return raw if raw and agrees(key, fact, raw) else fact
    if policy == "restrict":
        return next((a for a in row["ranked"] if agrees(key, fact, a)), None)
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
                                    for r in chosen if r["stated_answer"] and r["stated_answer"] not in CLOSED]),
            "raw_agree": _share([agrees(key, r["label_fact"], r["raw_answer"])
                                 for r in chosen if r["raw_answer"] and r["raw_answer"] not in CLOSED]),
            "stated_coverage": _share([r["stated_answer"] is not None for r in chosen]),
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
    correct = np.asarray([_correct(r["stated_answer"], r["truth"]) for r in stated], dtype=bool)
    types = [r["question_type"] for r in stated]
    shown = np.asarray([min(r["stated_confidence"], MAX_SHOWN_CONFIDENCE) for r in stated])
    calibrated = np.asarray([r.get("calibrated_confidence", np.nan) for r in stated], dtype=float)
    return {
        "images": len(by_image),
        "questions": len(rows),
        "labelled_confidently": _share([(group[0]["label_confidence"] or 0.0) >= CONFIDENT_LABEL
                                        for group in by_image.values()]),
        "label_agreement": agreement,
        "plane": {
            "questions": len(plane),
            "raw_accuracy": _share([_correct(r["raw_answer"], r["truth"]) for r in plane]),
            "stated_accuracy": _share([_correct(r["stated_answer"], r["truth"]) for r in plane]),
            "stated_coverage": _share([r["stated_answer"] is not None for r in plane]),
            "stated_fit": _share([fits_label(r["label"], "plane", r["stated_answer"]) for r in plane
                                  if r["stated_answer"] and (r["label_confidence"] or 0.0) >= CONFIDENT_LABEL]),
            "raw_fit": _share([fits_label(r["label"], "plane", r["raw_answer"]) for r in plane
                               if r["raw_answer"] and (r["label_confidence"] or 0.0) >= CONFIDENT_LABEL]),
        },
        "contradictions": {
            "raw_images": _share([any(r["raw_contradicts"] for r in group) for group in by_image.values()]),
            "stated_images": _share([any(r["stated_contradicts"] for r in group) for group in by_image.values()]),
            "stated_answers": _share([r["stated_contradicts"] for r in rows]),
        },
        "stated_answers": len(stated),
        "coverage": _share([bool(r["stated_answer"]) for r in rows]),
        "accuracy": round(float(correct.mean()), 4) if len(stated) else None,
        "calibration": calibration_figures(shown, correct, types),
        "calibrated": calibration_figures(calibrated, correct, types) if not np.isnan(calibrated).any() else None,
    }


def calibration_figures(confidence: np.ndarray, correct: np.ndarray, types: Sequence[str]) -> dict[str, Any]:
    """ECE (all, per question type), each confidence word's measured accuracy, the highest value, the bins."""
    per_type = {}
    for question_type in sorted(set(types)):
        mask = np.asarray([t == question_type for t in types])
        per_type[question_type] = {"answers": int(mask.sum()),
                                   "ece": round(calibration_error(confidence[mask], correct[mask]), 4),
                                   "accuracy": round(float(correct[mask].mean()), 4)}
    words = {}
    for word in WORDS:
        mask = np.asarray([confidence_words(c) == word for c in confidence], dtype=bool)
        words[word] = {"answers": int(mask.sum()),
                       "accuracy": round(float(correct[mask].mean()), 4) if mask.any() else None}
    return {
        "ece": round(calibration_error(confidence, correct), 4),
        "highest": round(float(confidence.max()), 4) if len(confidence) else None,
        "per_type": per_type,
        "words": words,
        "bins": reliability_bins(confidence, correct, bins=10),
    }


def calibration_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stated answers as ``hospitals.confidence`` fits them (the image names keep folds whole)."""
    return [{"image": r["image"], "confidence": r["stated_confidence"], "question_type": r["question_type"],
             "correct": _correct(r["stated_answer"], r["truth"])}
            for r in rows if r["stated_answer"]]


def add_calibrated(rows_by_split: dict[str, list[dict[str, Any]]], pooled: bool) -> None:
    """Give every stated answer the confidence a re-calibration map would show, fitted on the other folds
    (``bench.confidence_map``: 5 folds of whole images over both splits; ``pooled``: one curve for all types)."""
    stated = [r for rows in rows_by_split.values() for r in rows if r["stated_answer"]]
    fit_rows = calibration_rows(stated)
    fit = (lambda train: fit_map(train, min_answers=len(fit_rows) + 1)) if pooled else fit_map
    for row, value in zip(stated, cross_validated(fit_rows, fit=fit)):
        row["calibrated_confidence"] = float(value)


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


async def replay(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """Rows of every split from consultations replayed on the default hospitals."""
    with tempfile.TemporaryDirectory(prefix="qaid-consistency-") as var_dir:
        os.environ["QAID_VAR_DIR"] = var_dir
        network = HospitalNetwork.from_settings(load_settings())
        await network.start()
        try:
            return {f"{name}_{split}": await run_split(network, args.data / name, split, args.limit)
                    for name, split in SPLITS}
        finally:
            await network.close()


def report(args: argparse.Namespace, rows_by_split: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Summaries per split, the JSON files, the reliability diagram and (``--fit-map``) the confidence map."""
    add_calibrated(rows_by_split, args.pooled_map)
    summaries, curves = {}, {}
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rows in rows_by_split.items():
        summary = summarise(rows)
        (args.out / f"{name}.json").write_text(json.dumps({"summary": summary, "rows": rows}, indent=1),
                                               encoding="utf-8")
        summaries[name] = summary
        curves[f"{name}, shown (ECE {summary['calibration']['ece']:.3f})"] = summary["calibration"]["bins"]
        curves[f"{name}, re-calibrated (ECE {summary['calibrated']['ece']:.3f})"] = summary["calibrated"]["bins"]
    save_reliability_diagram(curves, args.figure, "Shown confidence vs accuracy")
    write_measured_words(summaries, args.words_out)
    summaries["targets"] = {"label_agreement": TARGET_AGREEMENT, "contradictions": TARGET_CONTRADICTIONS,
                            "ece": TARGET_ECE}
    return summaries


def write_measured_words(summaries: dict[str, dict[str, Any]], path: Path) -> None:
    """Each confidence word's answers and accuracy per split, as ``actions.wording.measured_accuracy`` reads
    them."""
    words = {word: {split: summary["calibration"]["words"][word] for split, summary in summaries.items()}
             for word in WORDS}
    path.write_text(json.dumps({"command": "bench/consistency_report.py", "words": words}, indent=1) + "\n",
                    encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "consistency")
    parser.add_argument("--figure", type=Path, default=REPO_ROOT / "vision_models" / "weights" / "vqa" /
                        "reliability_diagram.png")
    parser.add_argument("--words-out", type=Path, default=MEASURED_WORDS_FILE)
    parser.add_argument("--limit", type=int, help="images per split (a quick look; the figures need all)")
    parser.add_argument("--from-rows", action="store_true",
                        help="recompute the figures from the rows in --out instead of replaying the consultations")
    parser.add_argument("--pooled-map", action="store_true",
                        help="the candidate re-calibration with one curve for every question type")
    args = parser.parse_args(argv)
    if args.from_rows:
        rows_by_split = {f"{name}_{split}": json.loads((args.out / f"{name}_{split}.json").read_text())["rows"]
                         for name, split in SPLITS}
    else:
        rows_by_split = asyncio.run(replay(args))
    for name, summary in report(args, rows_by_split).items():
        if name != "targets":
            summary = summary | {block: {k: v for k, v in summary[block].items() if k != "bins"}
                                 for block in ("calibration", "calibrated")}
        print(json.dumps({name: summary}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
