"""Combining several hospitals' answers, and choosing hospitals by distance.

Each answering hospital ``i`` gets the weight ``w_i = confidence_i × accuracy_i`` where
``accuracy_i`` is its model's validation accuracy for the question type. The answer with
the largest total weight wins; ``agreement`` is its share of the total weight and the
combined ``confidence`` is ``Σ_{i agrees} accuracy_i·confidence_i / Σ_i accuracy_i``, so
dissenting hospitals lower it. Hospitals that abstained count as answered but carry no weight.
"""

from __future__ import annotations

import math
from collections import defaultdict

from hospitals.types import AggregatedAnswer, HospitalAnswer
from qaid.settings import Location

EARTH_RADIUS_KM = 6371.0088


def haversine_km(a: Location, b: Location) -> float:
    """Great-circle distance between two points in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def normalise_answer(answer: str) -> str:
    """Canonical form used to compare answers from different hospitals."""
    return " ".join(answer.strip().lower().rstrip(".").split())


def combine_answers(
    contributions: list[HospitalAnswer],
    asked: int,
    question_type: str,
    disagreement_threshold: float,
) -> AggregatedAnswer:
    """Combine hospital answers (see the module docstring for the formula)."""
    answered = [c for c in contributions if c.error is None and c.answer is not None]
    voting = [c for c in answered if not c.abstained]
    support: dict[str, float] = defaultdict(float)
    for contribution in voting:
        contribution.weight = round(contribution.confidence * contribution.accuracy, 4)
        support[normalise_answer(contribution.answer or "")] += contribution.weight
    total = sum(support.values())
    if not voting or total <= 0.0:
        return AggregatedAnswer(
            answer=None,
            confidence=0.0,
            agreement=0.0,
            disagreement=False,
            answered=len(answered),
            asked=asked,
            question_type=question_type,
            abstained=True,
            contributions=contributions,
        )
    ranked = sorted(support.items(), key=lambda item: (-item[1], item[0]))
    best, best_weight = ranked[0]
    agreement = best_weight / total
    accuracy_total = sum(c.accuracy for c in voting)
    agreeing = sum(c.accuracy * c.confidence for c in voting if normalise_answer(c.answer or "") == best)
    return AggregatedAnswer(
        answer=best,
        confidence=round(agreeing / accuracy_total, 4) if accuracy_total > 0 else 0.0,
        agreement=round(agreement, 4),
        disagreement=len(voting) >= 2 and agreement < disagreement_threshold,
        answered=len(answered),
        asked=asked,
        question_type=question_type,
        abstained=False,
        alternatives=[[answer, round(weight / total, 4)] for answer, weight in ranked[1:4]],
        contributions=contributions,
    )


def dominant_type(question_types: dict[str, float] | None) -> str | None:
    """The most likely question type of an NLU distribution, or None when there is none."""
    if not question_types:
        return None
    return max(question_types.items(), key=lambda item: item[1])[0]
