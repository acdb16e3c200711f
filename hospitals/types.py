"""Data exchanged with hospitals and returned to the actions.

The ``*Outcome`` classes are one hospital's answer (the JSON bodies of the hospital
service, see ``schemas/hospital.openapi.json``); the other classes are what
:class:`hospitals.network.HospitalNetwork` returns after combining hospitals.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


class HospitalError(RuntimeError):
    """A hospital could not serve a request; ``code`` is machine-readable, ``message`` human-readable."""

    def __init__(self, code: str, message: str, status: int = 502) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build dataclass ``cls`` from ``data``, ignoring unknown keys (forward compatible)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


def to_dict(value: Any) -> dict[str, Any]:
    """JSON-ready dict of a dataclass."""
    return dataclasses.asdict(value)


@dataclass
class PrefilterOutcome:
    """Is this a medical image? ``reason`` is patient-safe text when it is not."""

    is_medical: bool
    probability: float
    code: str | None = None
    reason: str | None = None


@dataclass
class LabelOutcome:
    """The image type (``label`` is None when the labeller is unsure)."""

    label: str | None
    display_name: str
    confidence: float
    probabilities: dict[str, float] = field(default_factory=dict)
    unsure: bool = False


@dataclass
class VQAOutcome:
    """One hospital's answer to a question about an image."""

    answer: str
    confidence: float
    top3: list[list[Any]] = field(default_factory=list)
    question_type: str = "OTHER"
    question_type_source: str = "model"
    abstained: bool = False


@dataclass
class FindingOutcome:
    """One automatic finding (abnormal, organ, modality, plane) from a VQA model."""

    key: str
    question: str
    answer: str
    confidence: float
    abstained: bool = False


@dataclass
class SegmentationOutcome:
    """Lesion segmentation of a brain MRI; ``overlay_png`` is the rendered overlay."""

    lesion_pixels: int
    brain_pixels: int
    lesion_fraction: float
    overlay_png: bytes = b""
    lesion_side: str | None = None  # half of the image holding the lesion; None: the hospital does not say


@dataclass
class CapabilityInfo:
    """What a hospital offers for one capability."""

    name: str
    bundle: str
    version: str
    image_types: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    trained_on: list[str] = field(default_factory=list)

    def accuracy_for(self, question_type: str, default: float) -> float:
        """Validation accuracy (0..1) of this capability's model for ``question_type``.

        Reads ``metrics["val_accuracy_by_type"]``, falling back to the overall validation accuracy
        (``val_accuracy`` or ``val.overall``) and then to ``default``; percentages are converted.
        """
        by_type = self.metrics.get("val_accuracy_by_type") or {}
        overall = self.metrics.get("val_accuracy")
        if overall is None and isinstance(self.metrics.get("val"), dict):
            overall = self.metrics["val"].get("overall")
        for value in (by_type.get(question_type), overall):
            try:
                number = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            return round(min(1.0, max(0.0, number / 100.0 if number > 1.0 else number)), 4)
        return default


@dataclass
class HospitalInfo:
    """A hospital as shown to the patient, with its distance when a location is known."""

    name: str
    city: str
    distance_km: float | None
    capabilities: list[str]


@dataclass
class ImageScreening:
    """Prefilter and image-type label of one image."""

    is_medical: bool
    probability: float
    code: str | None
    reason: str | None
    label: LabelOutcome | None
    hospital: str


@dataclass
class HospitalAnswer:
    """One hospital's contribution to an aggregated answer (``error`` set when it failed or was late)."""

    hospital: str
    answer: str | None = None
    confidence: float = 0.0
    accuracy: float = 0.0
    weight: float = 0.0
    abstained: bool = False
    latency_ms: float = 0.0
    error: str | None = None


@dataclass
class AggregatedAnswer:
    """Answers from several hospitals combined by confidence × validation accuracy."""

    answer: str | None
    confidence: float
    agreement: float
    disagreement: bool
    answered: int
    asked: int
    question_type: str
    abstained: bool
    alternatives: list[list[Any]] = field(default_factory=list)
    contributions: list[HospitalAnswer] = field(default_factory=list)


@dataclass
class AggregatedFinding:
    """One insight key (abnormal, organ, modality, plane) combined across hospitals."""

    key: str
    question: str
    result: AggregatedAnswer


@dataclass
class SegmentationReport:
    """A segmentation with its overlay stored in the media store (``var/media/<sha256>.png``)."""

    hospital: str
    lesion_pixels: int
    brain_pixels: int
    lesion_fraction: float
    overlay_sha256: str | None
    overlay_path: str | None
    lesion_side: str | None = None
