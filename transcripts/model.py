"""The transcript of one consultation: what a doctor at the chosen hospital receives.

Its JSON form (``Transcript.to_dict``) follows ``schemas/transcript.schema.json``. Images are
kept by reference (content-addressed ``media/<sha256>.<ext>`` under the var folder), never as bytes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = "1.0"


@dataclass
class Symptom:
    """A symptom the patient mentioned; ``negated`` when they said they do not have it."""

    name: str
    negated: bool = False
    duration: str | None = None

    def label(self) -> str:
        """'cough (3 weeks)', 'fever (absent)': the symptom as a doctor reads it in the transcript."""
        return self.name + (" (absent)" if self.negated else f" ({self.duration})" if self.duration else "")


@dataclass
class PatientFacts:
    """What the patient told us, without direct identifiers (no name, no contact details)."""

    complaint: str | None = None
    symptoms: list[Symptom] = field(default_factory=list)
    history: list[str] = field(default_factory=list)  # past conditions, in the patient's words
    medications: list[str] = field(default_factory=list)  # medicines and allergies, in the patient's words
    duration: str | None = None
    age_band: str | None = None
    location: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class ImageRecord:
    """An image by reference, with the labeller's verdict."""

    sha256: str
    path: str | None = None
    media_type: str | None = None
    label: str | None = None
    display_name: str | None = None
    confidence: float | None = None
    received_at: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class QAEntry:
    """One question and the hospitals' combined answer."""

    question: str
    answer: str | None
    confidence: float
    question_type: str | None = None
    answered: int = 0
    asked: int = 0
    agreement: float | None = None
    disagreement: bool = False
    abstained: bool = False
    image_sha256: str | None = None
    timestamp: str | None = None
    referred: bool = False  # a question for the doctor (worry, diagnosis, treatment): the models were not asked


@dataclass
class SegmentationRecord:
    """A lesion segmentation and where its overlay is stored."""

    hospital: str
    lesion_pixels: int
    brain_pixels: int
    lesion_fraction: float
    image_sha256: str | None = None
    overlay_path: str | None = None
    timestamp: str | None = None
    lesion_side: str | None = None  # half of the image, as displayed, holding the lesion (none/left/right/both)


@dataclass
class Consent:
    """The patient's consent to process and share the consultation."""

    given: bool
    time: str | None = None


@dataclass
class DialogueTurn:
    """One message of the conversation."""

    speaker: str  # "patient" | "assistant"
    text: str
    timestamp: str | None = None


@dataclass
class Transcript:
    """A consultation ready to be sent to hospitals."""

    transcript_id: str
    conversation_id: str
    created_at: str
    started_at: str | None
    ended_at: str | None
    patient: PatientFacts
    consent: Consent
    images: list[ImageRecord] = field(default_factory=list)
    questions: list[QAEntry] = field(default_factory=list)
    segmentations: list[SegmentationRecord] = field(default_factory=list)
    dialogue: list[DialogueTurn] = field(default_factory=list)
    urgent: bool = False
    urgent_reason: str | None = None
    callback_requested: bool = False
    chosen_hospitals: list[str] = field(default_factory=list)
    schema_version: str = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (see ``schemas/transcript.schema.json``)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        """Rebuild a transcript from :meth:`to_dict` output."""
        patient = dict(data["patient"])
        patient["symptoms"] = [Symptom(**s) for s in patient.get("symptoms", [])]
        return cls(
            **{
                **data,
                "patient": PatientFacts(**patient),
                "consent": Consent(**data["consent"]),
                "images": [ImageRecord(**i) for i in data.get("images", [])],
                "questions": [QAEntry(**q) for q in data.get("questions", [])],
                "segmentations": [SegmentationRecord(**s) for s in data.get("segmentations", [])],
                "dialogue": [DialogueTurn(**d) for d in data.get("dialogue", [])],
            }
        )
