"""Combining answers by confidence × validation accuracy; haversine distances."""

from __future__ import annotations

import pytest

from hospitals.aggregate import combine_answers, haversine_km
from hospitals.types import CapabilityInfo, HospitalAnswer
from qaid.settings import Location


def test_haversine_matches_known_distances() -> None:
    london, paris = Location(51.5074, -0.1278), Location(48.8566, 2.3522)
    assert haversine_km(london, paris) == pytest.approx(343.5, abs=1.0)
    assert haversine_km(london, london) == 0.0
    assert haversine_km(Location(0, 0), Location(0, 180)) == pytest.approx(20015.1, abs=1.0)


def test_accuracy_outweighs_head_count() -> None:
    contributions = [
        HospitalAnswer("A", answer="Yes", confidence=0.9, accuracy=0.9),
        HospitalAnswer("B", answer="no", confidence=0.5, accuracy=0.4),
        HospitalAnswer("C", answer="No.", confidence=0.5, accuracy=0.4),
    ]
    result = combine_answers(contributions, asked=3, question_type="PRES", disagreement_threshold=0.6)
    assert result.answer == "yes"
    assert result.agreement == pytest.approx(0.81 / (0.81 + 0.4), abs=1e-3)
    assert result.confidence == pytest.approx(0.81 / 1.7, abs=1e-3)
    assert result.alternatives == [["no", pytest.approx(0.4 / 1.21, abs=1e-3)]]
    assert result.answered == 3 and result.asked == 3 and not result.disagreement
    assert [c.weight for c in contributions] == pytest.approx([0.81, 0.2, 0.2])


def test_strong_disagreement_is_flagged_and_failures_are_counted() -> None:
    contributions = [
        HospitalAnswer("A", answer="left", confidence=0.6, accuracy=0.7),
        HospitalAnswer("B", answer="right", confidence=0.6, accuracy=0.7),
        HospitalAnswer("C", error="no answer within 2s"),
    ]
    result = combine_answers(contributions, asked=3, question_type="POS", disagreement_threshold=0.6)
    assert result.disagreement is True
    assert result.agreement == pytest.approx(0.5)
    assert (result.answered, result.asked) == (2, 3)


def test_all_abstaining_or_failing_gives_no_answer() -> None:
    contributions = [HospitalAnswer("A", answer="yes", confidence=0.2, accuracy=0.7, abstained=True),
                     HospitalAnswer("B", error="down")]
    result = combine_answers(contributions, asked=2, question_type="PRES", disagreement_threshold=0.6)
    assert result.answer is None and result.abstained is True
    assert (result.answered, result.asked) == (1, 2)


def test_accuracy_per_question_type_falls_back_to_overall_then_default() -> None:
    info = CapabilityInfo("vqa", "b", "1", metrics={"val_accuracy": 0.6, "val_accuracy_by_type": {"PRES": 0.9}})
    assert info.accuracy_for("PRES", 0.5) == 0.9
    assert info.accuracy_for("COLOR", 0.5) == 0.6
    assert CapabilityInfo("vqa", "b", "1").accuracy_for("PRES", 0.5) == 0.5


def test_percent_metrics_from_the_vqa_trainer_are_read() -> None:
    metrics = {"val": {"overall": 61.5, "by_type": {"PRES": 80.0}}, "val_accuracy_by_type": {"PRES": 80.0}}
    info = CapabilityInfo("vqa", "b", "1", metrics=metrics)
    assert info.accuracy_for("PRES", 0.5) == 0.8
    assert info.accuracy_for("COUNT", 0.5) == 0.615
