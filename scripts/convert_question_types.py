"""Convert VQA-RAD and SLAKE *training* questions into Rasa NLU data for question-type classification.

Usage (from the repository root)::

    python scripts/convert_question_types.py --data ../shared/data --out nlu_data/question_types

Sources (only training splits; the VQA-RAD test questions are never read here, they are the benchmark):

* ``vqa_rad/trainset.json`` carries a ``question_type`` label per question.
  Rule for the few multi-labelled questions ("POS, PRES"): the *first* listed type is kept, because the
  annotators list the dominant type first and the classifier needs one target per example. Misspelt labels
  in the release are normalised (``ATRIB`` -> ``ATTRIB``, ``PRSE`` -> ``PRES``, ``Other`` -> ``OTHER``).
* ``slake/train.json`` (English) has no content-type field in the shared copy, so its types are *derived*
  by the ordered keyword rules in :data:`SLAKE_RULES` (first match wins), written to follow the VQA-RAD
  annotation guide (e.g. "Does the picture contain X?" is PRES, "Which lobe is abnormal?" is POS, knowledge
  questions about function/treatment/causes are OTHER). Questions that no rule matches are dropped and counted.

Each distinct question text (case- and whitespace-insensitive) is written once, under its majority type
(ties: the type seen first); a SLAKE question that also occurs in VQA-RAD keeps the VQA-RAD type.
The output is Rasa 3.x NLU YAML with retrieval intents ``question_type/<TYPE>``, one file per source.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from qaid.question_types import LABEL_TYPOS, QUESTION_TYPES

RETRIEVAL_INTENT = "question_type"

# Ordered (type, pattern) rules for SLAKE questions; the first pattern that matches the lower-cased question wins.
SLAKE_RULES: tuple[tuple[str, str], ...] = (
    ("OTHER", r"\b(function|effect of|role|used for|treat|prevent|cause[sd]?|symptoms?|damage)\b"),
    ("COUNT", r"^how many\b"),
    ("COLOR", r"\bwhat colou?r\b|\bthe colou?r of\b|\b(hyper|hypo|iso)(dense|intense)\b|\bdensity\b|white or gr[ae]y"),
    ("MODALITY", r"modality|\bmri?\b|\bct\b|x-?ray|weight(ed|ing)|\bt[12]\b|how was this image taken|"
                 r"type of medical image|taken via"),
    ("PLANE", r"\bplane\b|\bsection\b|sagittal|coronal|transverse|axial"),
    ("SIZE", r"\b(bigger|smaller|biggest|smallest|larger|largest|size)\b"),
    ("ATTRIB", r"\bshape\b|\benhancing\?"),
    ("ORGAN", r"^where does the (image|picture)|\bwhat does the .* represent\b|part of the (human )?body|"
              r"which part do the organs|organ system|"
              r"study of the|exist in the \w+|belong to|part of the \w+ system|appear in pairs|white outline"),
    ("POS", r"^where\b|\bwhich (side|lobe|hemisphere|place)\b|\b(what|which) part of (the )?(chest|lung)\b|"
            r"\blocated\b|\blocate\b|^which is (the )?[a-z ]+?( in this image)?\?$"),
    ("ORGAN", r"\b(what|which) (organs?|tissue)\b|\bwhat (are|is) the white\b|"
              r"\bwhat is the .*organ\b"),
    ("ABN", r"\babnormalit(y|ies)\b"),
    ("PRES", r"^(does|do|is|are|is/are|are/is|can)\b.*\b(contain|exist|appear|observed|there|have|evidence)\b"),
    ("ABN", r"\b(abnormal(ities|ity)?|normal|healthy|unhealthy|diseases?)\b"),
)
_COMPILED_RULES = tuple((label, re.compile(pattern)) for label, pattern in SLAKE_RULES)


def normalise_text(question: str) -> str:
    """Collapse whitespace and remove characters that Rasa's YAML reader would parse as entity markup."""
    question = question.replace("[", "(").replace("]", ")").replace("{", "(").replace("}", ")")
    return re.sub(r"\s+", " ", question).strip()


def vqa_rad_type(raw_label: str) -> str:
    """Map a VQA-RAD ``question_type`` value (possibly multi-label, possibly misspelt) to one type."""
    first = raw_label.split(",")[0].strip().upper()
    label = LABEL_TYPOS.get(first, first)
    if label not in QUESTION_TYPES:
        raise ValueError(f"unknown VQA-RAD question type {raw_label!r}")
    return label


def slake_type(question: str) -> str | None:
    """Derive the VQA-RAD question type of a SLAKE question with :data:`SLAKE_RULES`; None when no rule matches."""
    text = normalise_text(question).lower()
    for label, pattern in _COMPILED_RULES:
        if pattern.search(text):
            return label
    return None


def majority_labels(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Group (question, type) pairs by case-insensitive text -> {key: (first spelling, majority type)}."""
    votes: dict[str, Counter] = defaultdict(Counter)
    first_seen: dict[str, str] = {}
    order: dict[str, list[str]] = defaultdict(list)
    for question, label in pairs:
        text = normalise_text(question)
        key = text.lower()
        first_seen.setdefault(key, text)
        votes[key][label] += 1
        if label not in order[key]:
            order[key].append(label)
    result = {}
    for key, counter in votes.items():
        best = max(counter.values())
        label = next(candidate for candidate in order[key] if counter[candidate] == best)
        result[key] = (first_seen[key], label)
    return result


def load_vqa_rad(data_dir: Path) -> list[tuple[str, str]]:
    """(question, type) pairs from VQA-RAD's training split."""
    records = _read_json(data_dir / "vqa_rad" / "trainset.json")
    return [(record["question"], vqa_rad_type(record["question_type"])) for record in records]


def load_slake(data_dir: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """(question, derived type) pairs from SLAKE's English training split, plus the questions no rule matched."""
    images = _read_json(data_dir / "slake" / "train.json")
    pairs, unmatched = [], []
    for image in images:
        for item in image["questions"]:
            label = slake_type(item["question"])
            if label is None:
                unmatched.append(item["question"])
            else:
                pairs.append((item["question"], label))
    return pairs, unmatched


def _read_json(path: Path) -> list:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: pass --data pointing at the folder holding vqa_rad/ and slake/")
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def render_rasa_yaml(examples: dict[str, tuple[str, str]], header: str) -> str:
    """Render {key: (text, type)} as Rasa 3.x NLU YAML with retrieval intents question_type/<TYPE>."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for text, label in examples.values():
        by_type[label].append(text)
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += ['version: "3.1"', "nlu:"]
    for label in QUESTION_TYPES:
        if not by_type[label]:
            continue
        lines.append(f"- intent: {RETRIEVAL_INTENT}/{label}")
        lines.append("  examples: |")
        lines += [f"    - {text}" for text in sorted(by_type[label], key=str.lower)]
    return "\n".join(lines) + "\n"


def convert(data_dir: Path, out_dir: Path) -> dict[str, dict[str, int]]:
    """Write vqa_rad.yml and slake.yml under ``out_dir``; returns per-file counts per type."""
    vqa_examples = majority_labels(load_vqa_rad(data_dir))
    slake_pairs, unmatched = load_slake(data_dir)
    slake_examples = {key: value for key, value in majority_labels(slake_pairs).items() if key not in vqa_examples}
    out_dir.mkdir(parents=True, exist_ok=True)
    generated = "Generated by scripts/convert_question_types.py - do not edit by hand."
    files = {
        "vqa_rad.yml": (vqa_examples, f"{generated}\nSource: VQA-RAD trainset.json, labels as annotated "
                                      "(first listed type for multi-labels)."),
        "slake.yml": (slake_examples, f"{generated}\nSource: SLAKE train.json (English); types DERIVED by keyword "
                                      "rules (SLAKE_RULES in the script),\nnot annotated. Texts already in "
                                      "VQA-RAD are omitted."),
    }
    summary = {}
    for name, (examples, header) in files.items():
        (out_dir / name).write_text(render_rasa_yaml(examples, header), encoding="utf-8")
        summary[name] = dict(Counter(label for _, label in examples.values()))
    summary["slake_unmatched"] = {"questions": len(unmatched), "distinct": len(set(map(str.lower, unmatched)))}
    return summary


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"),
                        help="folder containing vqa_rad/trainset.json and slake/train.json")
    parser.add_argument("--out", type=Path, default=Path("nlu_data/question_types"), help="output folder")
    args = parser.parse_args(argv)
    try:
        summary = convert(args.data, args.out)
    except (FileNotFoundError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
