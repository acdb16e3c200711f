"""Metrics and calibration on inputs whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from vision_models.calibration import choose_threshold, fit_temperature, softmax
from vision_models.metrics import (
    accuracy,
    calibration_error,
    confusion_matrix,
    dice,
    distribution,
    expected_calibration_error,
    per_class_recall,
    per_volume_dice,
    reliability_bins,
)


def test_confusion_matrix_accuracy_and_recall() -> None:
    truth, pred = [0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0]
    cm = confusion_matrix(truth, pred, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert accuracy(truth, pred) == pytest.approx(4 / 6)
    assert per_class_recall(cm, ["a", "b", "c"]) == {"a": 0.5, "b": 1.0, "c": 0.5}


def test_dice_known_values() -> None:
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    assert dice(a, b) == 1.0
    a[0, :2] = True
    assert dice(a, b) == 0.0
    b[0, 1:3] = True
    assert dice(a, b) == pytest.approx(2 * 1 / 4)


def test_per_volume_dice_aggregates_slices_before_dividing() -> None:
    # Patient p: slices with (intersection, |pred|+|truth|) = (10, 20) and (0, 4) -> 2*10/24.
    scores = per_volume_dice({"p": 10, "q": 0}, {"p": 24, "q": 0})
    assert scores == {"p": pytest.approx(20 / 24), "q": 1.0}


def test_distribution() -> None:
    d = distribution([0.0, 0.5, 1.0])
    assert (d["mean"], d["median"], d["min"], d["max"]) == (0.5, 0.5, 0.0, 1.0)


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    probs = np.array([[0.75, 0.25]] * 4)
    assert expected_calibration_error(probs, [0, 0, 0, 1]) == pytest.approx(0.0)
    assert expected_calibration_error(probs, [1, 1, 1, 1]) == pytest.approx(0.75)


def test_reliability_bins_and_calibration_error_of_confidences() -> None:
    confidence = np.array([0.95, 0.95, 0.55, 0.55])
    correct = np.array([True, True, True, False])
    bins = reliability_bins(confidence, correct, bins=10)
    assert [(b["count"], b["accuracy"]) for b in bins] == [(2, 0.5), (2, 1.0)]
    assert calibration_error(confidence, correct, bins=10) == pytest.approx(0.5 * 0.05 + 0.5 * 0.05)
    assert calibration_error(np.array([]), np.array([], dtype=bool)) == 0.0


def test_temperature_softens_overconfident_logits() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 600)
    logits = rng.normal(0, 1, (600, 3))
    logits[np.arange(600), labels] += 1.0
    wrong = rng.random(600) < 0.3
    logits[wrong] = np.roll(logits[wrong], 1, axis=1)
    scaled = logits * 8.0  # overconfident copy of the same ranking
    t = fit_temperature(scaled, labels)
    assert t > 2.0
    assert expected_calibration_error(softmax(scaled, t), labels) < expected_calibration_error(softmax(scaled), labels)


def test_threshold_reaches_target_accuracy() -> None:
    probs = np.array([[0.95, 0.05], [0.9, 0.1], [0.6, 0.4], [0.55, 0.45]])
    labels = [0, 0, 1, 0]  # the 0.6 prediction is wrong
    assert choose_threshold(probs, labels, target_accuracy=1.0, floor=0.5) == pytest.approx(0.9)
    assert choose_threshold(probs, labels, target_accuracy=0.7, floor=0.5) == pytest.approx(0.5)
    assert choose_threshold(probs, labels, target_accuracy=0.7, floor=0.56) == pytest.approx(0.9)
