"""Evaluation metrics for classifiers and segmentation, pure NumPy."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

Labels = Sequence[int] | np.ndarray  # class indices


def confusion_matrix(y_true: Labels, y_pred: Labels, num_classes: int) -> np.ndarray:
    """Counts with rows = true class, columns = predicted class."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


def accuracy(y_true: Labels, y_pred: Labels) -> float:
    """Fraction of exact matches (0.0 for empty input)."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    return float((t == p).mean()) if t.size else 0.0


def per_class_recall(cm: np.ndarray, classes: Sequence[str]) -> dict[str, float]:
    """Recall of each class that has at least one true sample."""
    support = cm.sum(axis=1)
    return {name: float(cm[i, i] / support[i]) for i, name in enumerate(classes) if support[i] > 0}


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> list[dict[str, float]]:
    """Per equal-width confidence bin with samples: its edges, sample count, mean confidence and accuracy."""
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=bool)
    rows = []
    for low, high in itertools.pairwise(np.linspace(0.0, 1.0, bins + 1)):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            rows.append({"low": float(low), "high": float(high), "count": int(in_bin.sum()),
                         "confidence": float(confidence[in_bin].mean()), "accuracy": float(correct[in_bin].mean())})
    return rows


def calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """ECE: the sample-weighted gap between confidence and accuracy over equal-width confidence bins."""
    total = len(np.asarray(confidence))
    return float(sum(row["count"] / total * abs(row["accuracy"] - row["confidence"])
                     for row in reliability_bins(confidence, correct, bins))) if total else 0.0


def expected_calibration_error(probabilities: np.ndarray, labels: Labels, bins: int = 15) -> float:
    """ECE of the top-1 confidence of class ``probabilities`` against ``labels``."""
    return calibration_error(probabilities.max(axis=1), probabilities.argmax(axis=1) == np.asarray(labels), bins)


def dice(prediction: np.ndarray, target: np.ndarray) -> float:
    """Dice coefficient of two boolean masks; 1.0 when both are empty."""
    pred, truth = np.asarray(prediction, dtype=bool), np.asarray(target, dtype=bool)
    total = int(pred.sum()) + int(truth.sum())
    if total == 0:
        return 1.0
    return 2.0 * int(np.logical_and(pred, truth).sum()) / total


def per_volume_dice(intersections: Mapping[str, int], totals: Mapping[str, int]) -> dict[str, float]:
    """Dice per volume from summed slice intersections and summed |pred| + |truth| per volume."""
    return {key: (2.0 * intersections[key] / totals[key]) if totals[key] else 1.0 for key in sorted(totals)}


def distribution(values: Sequence[float]) -> dict[str, float]:
    """Mean, standard deviation, min, quartiles and max of ``values``."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return {}
    q1, median, q3 = np.percentile(arr, [25, 50, 75])
    return {"mean": float(arr.mean()), "std": float(arr.std()), "min": float(arr.min()), "q1": float(q1),
            "median": float(median), "q3": float(q3), "max": float(arr.max())}
