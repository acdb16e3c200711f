"""What the actions may call on the hospitals: :class:`hospitals.network.HospitalNetwork` implements it, and so
does the recording test double (``tests/support/actions.py``), which ``make lint`` type-checks against it."""

from __future__ import annotations

from typing import Protocol

from hospitals.network import PatientLocation
from hospitals.types import AggregatedAnswer, AggregatedFinding, HospitalInfo, ImageScreening, SegmentationReport


class HospitalsAPI(Protocol):
    """The hospital network as the action server uses it."""

    async def start(self) -> None:
        """Load or connect every hospital."""

    async def close(self) -> None:
        """Release models and HTTP sessions."""

    async def nearest(self, location: PatientLocation, capability: str | None = None,
                      image_type: str | None = None) -> list[HospitalInfo]:
        """The hospitals, nearest first, that offer ``capability`` for ``image_type``."""

    async def screen(self, image_bytes: bytes, patient_location: PatientLocation = None) -> ImageScreening:
        """Medical or not, and the image's type."""

    async def ask(self, image_bytes: bytes, question: str, question_types: dict[str, float] | None = None,
                  image_type: str | None = None, patient_location: PatientLocation = None) -> AggregatedAnswer:
        """The combined answer of the nearest VQA hospitals."""

    async def insights(self, image_bytes: bytes, image_type: str | None = None,
                       patient_location: PatientLocation = None) -> list[AggregatedFinding]:
        """The first look: abnormality, organ, modality and plane."""

    async def segment(self, image_bytes: bytes, image_type: str | None = "brain_mri",
                      patient_location: PatientLocation = None) -> SegmentationReport:
        """A lesion outline and its size."""
