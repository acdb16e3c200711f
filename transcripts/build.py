"""Building a :class:`Transcript` from a Rasa tracker (its event dicts and current slots).

Slots are the primary source (``qa_log``, ``images``, ``segmentations``, ``symptoms``, ``urgent``,
``consent_given``/``consent_time``, ``chosen_hospitals``, ``callback_requested``, intake-form
slots); slot values replayed from the events fill in any slot not passed. The dialogue and the
start/end times come from the ``user`` and ``bot`` events since the last restart.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from qaid.image_types import display_name
from transcripts.model import (
    Consent,
    DialogueTurn,
    ImageRecord,
    PatientFacts,
    QAEntry,
    SegmentationRecord,
    Symptom,
    Transcript,
)

SKIPPED = {"skipped", ""}
_NAMESPACE = uuid.UUID("5f6c3a52-8c1e-4d57-9a3e-2d3b1c0f7a10")


def iso(timestamp: float | None) -> str | None:
    """Epoch seconds -> ISO 8601 UTC."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(float(timestamp), tz=UTC).isoformat(timespec="seconds")


def _since_restart(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    start = 0
    for index, event in enumerate(events):
        if event.get("event") == "restart":
            start = index + 1
    return events[start:]


def replay_slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Slot values after replaying ``slot`` and ``reset_slots`` events."""
    slots: dict[str, Any] = {}
    for event in events:
        kind = event.get("event")
        if kind == "slot" and event.get("name"):
            slots[event["name"]] = event.get("value")
        elif kind == "reset_slots":
            slots.clear()
    return slots


def _user_text(event: dict[str, Any]) -> str | None:
    text = (event.get("text") or "").strip()
    has_image = bool((event.get("metadata") or {}).get("image"))
    if text.startswith("/"):
        return "[sent an image]" if has_image or text.startswith("/send_image") else None
    if has_image:
        return f"[sent an image] {text}".strip()
    return text or None


def dialogue(events: list[dict[str, Any]]) -> list[DialogueTurn]:
    """Patient and assistant messages in order (button payloads left out, images noted)."""
    turns = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            text = _user_text(event)
            speaker = "patient"
        elif kind == "bot":
            text = (event.get("text") or "").strip()
            if (event.get("data") or {}).get("image"):
                text = f"{text} [image]".strip()
            speaker = "assistant"
        else:
            continue
        if text:
            turns.append(DialogueTurn(speaker, text, iso(event.get("timestamp"))))
    return turns


def _text(value: Any) -> str | None:
    if value is None or str(value).strip().lower() in SKIPPED:
        return None
    return str(value).strip()


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _pick(cls: Any, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _patient(slots: dict[str, Any]) -> PatientFacts:
    symptoms = []
    for item in slots.get("symptoms") or []:
        if isinstance(item, str):
            symptoms.append(Symptom(item))
        elif isinstance(item, dict) and item.get("name"):
            symptoms.append(Symptom(str(item["name"]), bool(item.get("negated")), _text(item.get("duration"))))
    return PatientFacts(
        complaint=_text(slots.get("chief_complaint")),
        symptoms=symptoms,
        history=[str(item) for item in slots.get("history") or []],
        medications=[str(item) for item in slots.get("medications") or []],
        duration=_text(slots.get("duration")),
        age_band=_text(slots.get("age_band")),
        location=_text(slots.get("location")),
        latitude=_number(slots.get("latitude")),
        longitude=_number(slots.get("longitude")),
    )


def _images(slots: dict[str, Any]) -> list[ImageRecord]:
    records = []
    for item in slots.get("images") or []:
        if isinstance(item, dict) and item.get("sha256"):
            record = ImageRecord(**_pick(ImageRecord, item))
            if record.label and not record.display_name:
                record.display_name = display_name(record.label)  # what the doctor reads, not "brain_mri"
            record.findings = [dict(f) for f in item.get("findings") or []]
            records.append(record)
    return records


def _questions(slots: dict[str, Any]) -> list[QAEntry]:
    entries = []
    for item in slots.get("qa_log") or []:
        if isinstance(item, dict) and item.get("question"):
            values = _pick(QAEntry, item)
            values["confidence"] = float(values.get("confidence") or 0.0)
            values.setdefault("answer", None)
            entries.append(QAEntry(**values))
    return entries


def _segmentations(slots: dict[str, Any]) -> list[SegmentationRecord]:
    return [
        SegmentationRecord(**_pick(SegmentationRecord, item))
        for item in slots.get("segmentations") or []
        if isinstance(item, dict) and {"hospital", "lesion_pixels", "brain_pixels", "lesion_fraction"} <= set(item)
    ]


def transcript_from_events(sender_id: str, events: list[dict[str, Any]], slots: dict[str, Any]) -> Transcript:
    """Build the transcript of conversation ``sender_id`` from tracker ``events`` and current ``slots``.

    The transcript id is derived from the content, so building the same conversation state twice
    yields the same id (and queueing it twice delivers it once).
    """
    current = _since_restart(events)
    merged = replay_slots(current) | {k: v for k, v in slots.items() if v is not None}
    times = [float(e["timestamp"]) for e in current if isinstance(e.get("timestamp"), (int, float))]
    transcript = Transcript(
        transcript_id="",
        conversation_id=str(sender_id),
        created_at=iso(datetime.now(UTC).timestamp()) or "",
        started_at=iso(min(times)) if times else None,
        ended_at=iso(max(times)) if times else None,
        patient=_patient(merged),
        consent=Consent(given=merged.get("consent_given") is True, time=_text(merged.get("consent_time"))),
        images=_images(merged),
        questions=_questions(merged),
        segmentations=_segmentations(merged),
        dialogue=dialogue(current),
        urgent=bool(merged.get("urgent")),
        urgent_reason=_text(merged.get("urgent_reason")),
        callback_requested=bool(merged.get("callback_requested")),
        chosen_hospitals=[str(h) for h in merged.get("chosen_hospitals") or []],
    )
    content = transcript.to_dict()
    content.pop("created_at")
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    transcript.transcript_id = str(uuid.uuid5(_NAMESPACE, f"{sender_id}:{digest}"))
    return transcript
