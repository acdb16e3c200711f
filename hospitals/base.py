"""The one interface every hospital implements, in-process or over HTTP."""

from __future__ import annotations

from abc import ABC, abstractmethod

from hospitals.types import (
    CapabilityInfo,
    FindingOutcome,
    LabelOutcome,
    PrefilterOutcome,
    SegmentationOutcome,
    VQAOutcome,
)
from qaid.settings import HospitalConfig


class Hospital(ABC):
    """A Health Intel Provider: a named set of model capabilities.

    Implementations: :class:`hospitals.local.LocalHospital` (models in this process)
    and :class:`hospitals.remote.RemoteHospital` (the hospital service over HTTP).
    Every method raises :class:`hospitals.types.HospitalError` on failure.
    """

    def __init__(self, config: HospitalConfig) -> None:
        self.config = config

    @property
    def name(self) -> str:
        """The hospital's configured name."""
        return self.config.name

    @abstractmethod
    async def start(self) -> None:
        """Load models or open connections; idempotent."""

    @abstractmethod
    async def close(self) -> None:
        """Release resources."""

    @abstractmethod
    async def capabilities(self) -> dict[str, CapabilityInfo]:
        """Capabilities actually available (a missing bundle removes its capability)."""

    @abstractmethod
    async def health(self) -> dict[str, object]:
        """``{"status": "ok" | "degraded", ...}``."""

    @abstractmethod
    async def prefilter(self, image: bytes) -> PrefilterOutcome:
        """Medical or not."""

    @abstractmethod
    async def label(self, image: bytes) -> LabelOutcome:
        """Image type."""

    @abstractmethod
    async def vqa(self, image: bytes, question: str, question_types: dict[str, float] | None = None) -> VQAOutcome:
        """Answer ``question`` about ``image``; ``question_types`` is the NLU's type distribution."""

    @abstractmethod
    async def insights(self, image: bytes) -> list[FindingOutcome]:
        """Automatic findings (abnormal, organ, modality, plane)."""

    @abstractmethod
    async def segment(self, image: bytes) -> SegmentationOutcome:
        """Lesion segmentation with an overlay PNG."""
