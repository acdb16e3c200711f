"""Action-server test doubles: trackers from real tracker JSON, and services with a recording hospital network.

The JSON files in ``tests/actions/data/`` were exported from real conversations with
``scripts/export_tracker.py`` (the same JSON the action server receives); tests change only the slots
they are about.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker

import actions.runtime as runtime
from actions.intake import ImageIntake
from hospitals.network import PatientLocation
from hospitals.types import (
    AggregatedAnswer,
    AggregatedFinding,
    HospitalInfo,
    ImageScreening,
    LabelOutcome,
    SegmentationReport,
)
from qaid.settings import load_settings
from transcripts.service import TranscriptService

DATA = Path(__file__).resolve().parents[1] / "actions" / "data"


def load_tracker(name: str, **slots: Any) -> Tracker:
    """A tracker from ``data/<name>.json`` with ``slots`` overriding the recorded ones."""
    state = json.loads((DATA / f"{name}.json").read_text())
    state["slots"].update(slots)
    return Tracker.from_dict(state)


@dataclass
class RecordingNetwork:
    """Stands in for HospitalNetwork in action tests and records what the actions ask."""

    label: str = "brain_mri"
    medical: bool = True
    answer: AggregatedAnswer = field(
        default_factory=lambda: AggregatedAnswer(
            answer="yes",
            confidence=0.82,
            agreement=1.0,
            disagreement=False,
            answered=2,
            asked=2,
            question_type="PRES",
            abstained=False,
        )
    )
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def start(self) -> None:
        """Nothing to load (the real network loads its models)."""

    async def close(self) -> None:
        """Nothing to release (the real network closes its HTTP sessions)."""

    async def screen(self, image_bytes: bytes, patient_location: PatientLocation = None) -> ImageScreening:
        self.calls.append(("screen", {"size": len(image_bytes)}))
        if not self.medical:
            return ImageScreening(False, 0.02, "not_medical", "This doesn't look like a medical image.", None,
                                  "Test Hospital")
        label = LabelOutcome(self.label, self.label, 0.97, {self.label: 0.97}, False)
        return ImageScreening(True, 0.99, None, None, label, "Test Hospital")

    async def insights(self, image_bytes: bytes, image_type: str | None = None,
                       patient_location: PatientLocation = None) -> list[AggregatedFinding]:
        self.calls.append(("insights", {"image_type": image_type}))
        return [AggregatedFinding("organ", "Which organ is shown?", self.answer)]

    async def ask(self, image_bytes: bytes, question: str, question_types: dict[str, float] | None = None,
                  image_type: str | None = None, patient_location: PatientLocation = None) -> AggregatedAnswer:
        self.calls.append(("ask", {"question": question, "question_types": question_types, "image_type": image_type}))
        return self.answer

    async def segment(self, image_bytes: bytes, image_type: str | None = "brain_mri",
                      patient_location: PatientLocation = None) -> SegmentationReport:
        self.calls.append(("segment", {"image_type": image_type}))
        return SegmentationReport("Test Hospital", 120, 4000, 0.03, "ab" * 32, "media/" + "ab" * 32 + ".png")

    async def nearest(self, location: PatientLocation, capability: str | None = None,
                      image_type: str | None = None) -> list[HospitalInfo]:
        self.calls.append(("nearest", {"location": location, "image_type": image_type}))
        return [
            HospitalInfo("St Thomas Radiology", "London", 2.0, ["label", "vqa"]),
            HospitalInfo("Charite Imaging", "Berlin", 930.0, ["label", "vqa"]),
        ]


def install_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> runtime.Services:
    """Real intake and transcript outbox in ``tmp_path`` (the var folder); a recording hospital network."""
    monkeypatch.setenv("QAID_VAR_DIR", str(tmp_path))
    settings = load_settings()
    built = runtime.Services(
        settings=settings,
        intake=ImageIntake(settings.var_dir, settings.max_image_bytes),
        hospitals=RecordingNetwork(),
        transcripts=TranscriptService.from_settings(settings),
    )
    monkeypatch.setattr(runtime, "_services", built)
    return built
