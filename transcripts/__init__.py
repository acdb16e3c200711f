"""Consultation transcripts: model, renderings (JSON, FHIR R4, HTML), durable outbox, delivery and inbox.

The actions use :func:`transcript_from_events` and :class:`TranscriptService` only.
"""

from transcripts.build import transcript_from_events
from transcripts.model import Transcript
from transcripts.service import TranscriptError, TranscriptService

__all__ = ["Transcript", "TranscriptError", "TranscriptService", "transcript_from_events"]
