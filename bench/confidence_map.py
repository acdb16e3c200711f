"""A candidate re-calibration of the confidence the bot shows, measured by ``bench/consistency_report.py``.

:class:`ConfidenceMap` holds, per question type, an increasing step function fitted by isotonic regression
from shown confidence to the share of right answers; types with too few answers share one pooled curve, and
the map is capped below 100%. ``cross_validated`` scores it on images it was not fitted on (5 folds of whole
images over VQA-RAD test and SLAKE validation). Measured there, it made the calibration worse on VQA-RAD and
better on SLAKE (``bench/README.md``), so the bot does not use it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

POOLED = "*"
MIN_ANSWERS = 60  # a question type with fewer fitted answers uses the pooled curve
CAP = 0.99


@dataclass(frozen=True)
class ConfidenceMap:
    """Per group (a question type or the pooled ``*``): breakpoints (x, y) of the map."""

    curves: dict[str, tuple[tuple[float, ...], tuple[float, ...]]]

    def calibrate(self, question_type: str | None, confidence: float) -> float:
        """The measured accuracy of answers shown with ``confidence`` (unchanged when the map is empty)."""
        curve = self.curves.get(question_type or POOLED) or self.curves.get(POOLED)
        if curve is None:
            return confidence
        return float(min(CAP, np.interp(confidence, curve[0], curve[1])))



def _isotonic(confidence: np.ndarray, correct: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    from sklearn.isotonic import IsotonicRegression

    model = IsotonicRegression(y_min=0.0, y_max=CAP, increasing=True, out_of_bounds="clip")
    model.fit(confidence, correct.astype(float))
    return tuple(float(v) for v in model.X_thresholds_), tuple(float(v) for v in model.y_thresholds_)


def fit_map(rows: Sequence[dict[str, Any]], min_answers: int = MIN_ANSWERS) -> ConfidenceMap:
    """Fit the map on stated answers: rows with ``confidence``, ``correct`` and ``question_type``."""
    confidence = np.asarray([r["confidence"] for r in rows], dtype=float)
    correct = np.asarray([r["correct"] for r in rows], dtype=bool)
    curves = {POOLED: _isotonic(confidence, correct)} if len(rows) else {}
    groups = np.asarray([str(r["question_type"]) for r in rows])
    for group in sorted(set(groups.tolist())):
        mask = groups == group
        if mask.sum() >= min_answers:
            curves[group] = _isotonic(confidence[mask], correct[mask])
    return ConfidenceMap(curves)


def cross_validated(rows: Sequence[dict[str, Any]], folds: int = 5, seed: int = 0,
                    fit: Callable[[list[dict[str, Any]]], ConfidenceMap] = fit_map) -> np.ndarray:
    """Each row's calibrated confidence from a map ``fit`` on the other folds (folds of whole images)."""
    images = sorted({r["image"] for r in rows})
    order = np.random.default_rng(seed).permutation(len(images))
    fold_of = {images[i]: rank % folds for rank, i in enumerate(order)}
    out = np.zeros(len(rows))
    for fold in range(folds):
        train = [r for r in rows if fold_of[r["image"]] != fold]
        fitted = fit(train)
        for index, row in enumerate(rows):
            if fold_of[row["image"]] == fold:
                out[index] = fitted.calibrate(row["question_type"], row["confidence"])
    return out
