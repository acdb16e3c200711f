"""The learned half of the red-flag detector: logistic regression on the MiniLM sentence embedding.

The patterns of :mod:`qaid.red_flags` name a red flag when a message says it in words someone wrote down; this
classifier catches emergencies described otherwise ("feels like an elephant on me", "he's gone grey and won't
answer"). ``bot.red_flags.RedFlagDetector`` asks it only when no pattern matched, and only about what the message
reports now (:func:`qaid.red_flags.reported_text`: no part that denies, dates in the past, asks, imagines,
worries about the future or jokes, and no message that calls itself mild). When every part reports something
now, it reads the embedding the ``MiniLMFeaturizer`` already computed; otherwise the kept parts are embedded.

Training (``PYTHONPATH=. .venv-rasa/bin/python -m bot.red_flag_classifier``, about 15 s): current emergencies
are ``nlu_data/red_flags/train_red_flags.yml``, the ``emergency`` examples of ``nlu_data/nlu.yml`` and
``tests/red_flags/dev*_red_flags.yml``; everything else is ``nlu_data/red_flags/train_ordinary.yml``,
``tests/red_flags/dev*_ordinary.yml`` and every other intent's examples, each embedded as the classifier would
read it. ``C`` and the decision threshold are chosen by stratified 5-fold cross-validation on those examples
only (see :func:`choose`); the ``heldout*`` files are never read here. The weights, the choice and its
cross-validated figures are written to ``bot/patterns/red_flag_classifier.json``.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from qaid.red_flags import DESCRIBED_EMERGENCY, red_flag, reported_text

REPO = Path(__file__).resolve().parents[1]
MODEL_FILE = Path(__file__).resolve().with_name("patterns") / "red_flag_classifier.json"
DEV_SETS = ("dev", "dev2", "dev3", "dev4", "dev5", "dev6", "dev7")
POSITIVE_FILES = ("nlu_data/red_flags/train_red_flags.yml",
                  *(f"tests/red_flags/{name}_red_flags.yml" for name in DEV_SETS))
NEGATIVE_FILES = ("nlu_data/red_flags/train_ordinary.yml",
                  *(f"tests/red_flags/{name}_ordinary.yml" for name in DEV_SETS))
NLU_FILE = "nlu_data/nlu.yml"
EMERGENCY_INTENT = "emergency"
MAX_FALSE_ALARMS = 0.01  # cross-validated, on the ordinary messages the classifier is asked about
C_GRID = (1.0, 4.0, 16.0, 64.0)
FOLDS, SEED = 5, 20261202
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")


@dataclass(frozen=True)
class RedFlagClassifier:
    """A linear model over a unit-length sentence embedding, with its decision threshold."""

    weights: np.ndarray
    bias: float
    threshold: float

    def probability(self, embedding: np.ndarray) -> float:
        """Probability that the message behind ``embedding`` reports a current emergency."""
        score = float(np.dot(self.weights, np.asarray(embedding, dtype=np.float64).reshape(-1)) + self.bias)
        return 1.0 / (1.0 + np.exp(-score))

    def flags(self, embedding: np.ndarray) -> bool:
        """Whether the probability reaches the threshold chosen by cross-validation."""
        return self.probability(embedding) >= self.threshold


def detect(text: str, embedding: np.ndarray | None, classifier: RedFlagClassifier | None,
           encode: Callable[[str], np.ndarray] | None = None) -> str | None:
    """The red flag ``text`` reports now: a pattern's name, else :data:`qaid.red_flags.DESCRIBED_EMERGENCY`
    when ``classifier`` flags what the message reports now (:func:`qaid.red_flags.reported_text`), else None.

    ``embedding`` is the whole message's; when only some parts report something now, ``encode`` embeds those
    (without it, such a message is not asked)."""
    flag = red_flag(text)
    if flag is not None or classifier is None or embedding is None:
        return flag
    kept = reported_text(text)
    if kept != text:
        if not kept or encode is None:
            return None
        embedding = encode(kept)
    return DESCRIBED_EMERGENCY if classifier.flags(embedding) else None


@functools.cache
def load_classifier(path: Path = MODEL_FILE) -> RedFlagClassifier:
    """The trained classifier written by :func:`main` (read once per process)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return RedFlagClassifier(np.asarray(data["weights"], dtype=np.float64), float(data["bias"]),
                             float(data["threshold"]))


def _messages(relative: str) -> list[str]:
    return [m["text"] for m in yaml.safe_load((REPO / relative).read_text(encoding="utf-8"))["messages"]]


def _nlu_examples() -> tuple[list[str], list[str]]:
    """(emergency examples, every other intent's examples) of ``nlu_data/nlu.yml``, annotations removed."""
    positive: list[str] = []
    negative: list[str] = []
    for block in yaml.safe_load((REPO / NLU_FILE).read_text(encoding="utf-8"))["nlu"]:
        if "intent" not in block:
            continue
        examples = [_ANNOTATION.sub(lambda m: m.group(1) or m.group(2), line.strip()[2:])
                    for line in block["examples"].splitlines() if line.strip().startswith("- ")]
        (positive if block["intent"] == EMERGENCY_INTENT else negative).extend(examples)
    return positive, negative


def training_examples() -> tuple[list[str], np.ndarray]:
    """Texts and labels (1 = current emergency) of every training source named in the module docstring."""
    nlu_positive, nlu_negative = _nlu_examples()
    positive = [text for name in POSITIVE_FILES for text in _messages(name)] + nlu_positive
    negative = [text for name in NEGATIVE_FILES for text in _messages(name)] + nlu_negative
    return positive + negative, np.asarray([1] * len(positive) + [0] * len(negative), dtype=np.int64)


def choose(features: np.ndarray, labels: np.ndarray, asked: np.ndarray) -> dict[str, float]:
    """``C`` and threshold by cross-validation: the highest recall on every training emergency, as if the
    classifier were alone (the patterns catch nearly all of them, and which ones they miss on new data is
    unknown), with false alarms at most
    :data:`MAX_FALSE_ALARMS` on the ordinary messages it is ``asked`` about (no pattern matched, something is
    reported now)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    best: dict[str, float] = {"recall": -1.0}
    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(features, labels))
    for c in C_GRID:
        probabilities = np.zeros(len(labels))
        for train, test in folds:
            model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
            probabilities[test] = model.fit(features[train], labels[train]).predict_proba(features[test])[:, 1]
        positives = probabilities[labels == 1]
        negatives = probabilities[(labels == 0) & asked]
        for threshold in np.round(np.arange(0.5, 0.99, 0.01), 2):
            false_alarms = float((negatives >= threshold).mean())
            recall = float((positives >= threshold).mean())
            if false_alarms <= MAX_FALSE_ALARMS and recall > best["recall"]:
                best = {"c": c, "threshold": float(threshold), "recall": recall, "false_alarms": false_alarms}
    return best


def main() -> None:
    """Fit, choose by cross-validation, write :data:`MODEL_FILE`, print the record."""
    from sklearn.linear_model import LogisticRegression

    from bot.minilm import shared_encoder

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    args = parser.parse_args()
    texts, labels = training_examples()
    kept = [reported_text(text) for text in texts]
    features = shared_encoder().encode([part or text for part, text in zip(kept, texts)])
    asked = np.asarray([red_flag(text) is None and bool(part) for text, part in zip(texts, kept)])
    chosen = choose(features, labels, asked)
    model = LogisticRegression(C=chosen["c"], max_iter=5000, class_weight="balanced").fit(features, labels)
    record = {
        "trained": datetime.date.today().isoformat(),
        "examples": {"emergencies": int(labels.sum()), "ordinary": int((labels == 0).sum())},
        "c": chosen["c"], "threshold": chosen["threshold"],
        "cross_validated": {"recall_on_emergencies_alone": round(chosen["recall"], 4),
                            "false_alarms_on_ordinary_messages_it_is_asked_about": round(chosen["false_alarms"], 4),
                            "folds": FOLDS},
        "bias": float(model.intercept_[0]),
        "weights": [round(float(w), 6) for w in model.coef_[0]],
    }
    args.out.write_text(json.dumps(record) + "\n", encoding="utf-8")
    print(json.dumps({key: value for key, value in record.items() if key != "weights"}, indent=2))


if __name__ == "__main__":
    main()
