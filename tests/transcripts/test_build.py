"""Building transcripts from Rasa tracker events and slots; the published JSON Schema."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from qaid.state import REPO_ROOT
from transcripts.build import transcript_from_events
from transcripts.model import QAEntry, Transcript

SCHEMA = json.loads((REPO_ROOT / "schemas" / "transcript.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


def test_schema_itself_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_transcript_holds_the_conversation(transcript: Transcript) -> None:
    assert transcript.conversation_id == "conv-42"
    facts = transcript.patient
    assert facts.complaint == "persistent headaches" and facts.duration == "2 weeks"
    assert facts.age_band == "40-49" and facts.location == "Paris" and facts.latitude == pytest.approx(48.8566)
    assert [(s.name, s.negated) for s in facts.symptoms] == [("headache", False), ("fever", True)]
    assert transcript.consent.given and transcript.consent.time == "2025-11-22T02:53:32+00:00"
    [image] = transcript.images
    assert image.label == "brain_mri" and image.path == f"media/{'a' * 64}.png" and image.findings
    assert image.display_name == "brain MRI"  # the doctor reads the name, not the class id (found chatting)
    [qa] = transcript.questions
    assert (qa.question, qa.answer, qa.confidence, qa.answered, qa.asked) == ("Is there a tumour?", "yes", 0.72, 3, 3)
    assert transcript.segmentations[0].lesion_pixels == 120
    assert transcript.urgent and transcript.chosen_hospitals == ["Lariboisiere General"]
    assert transcript.started_at == "2025-11-22T02:53:20+00:00" and transcript.ended_at == "2025-11-22T02:54:31+00:00"


def test_dialogue_keeps_messages_and_notes_images(transcript: Transcript) -> None:
    texts = [(turn.speaker, turn.text) for turn in transcript.dialogue]
    assert texts[0] == ("patient", "hi")
    assert ("patient", "[sent an image]") in texts
    assert all(text != "/affirm" for _, text in texts)  # button payloads are not dialogue
    assert any(speaker == "assistant" and text.endswith("[image]") for speaker, text in texts)


def test_json_validates_against_the_published_schema(transcript: Transcript) -> None:
    transcript.questions.append(QAEntry("should I be worried?", None, 0.0, abstained=True, referred=True))
    document = transcript.to_dict()
    VALIDATOR.validate(document)
    assert Transcript.from_dict(json.loads(json.dumps(document))) == transcript


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("conversation_id"),
        lambda d: d["patient"].update(ssn="123-45-6789"),
        lambda d: d["questions"][0].update(confidence=1.7),
        lambda d: d["images"][0].update(sha256="not-a-hash"),
        lambda d: d["dialogue"][0].update(speaker="doctor"),
    ],
)
def test_schema_rejects_invalid_documents(transcript: Transcript, mutate: Any) -> None:
    document = copy.deepcopy(transcript.to_dict())
    mutate(document)
    assert list(VALIDATOR.iter_errors(document))


def test_slots_take_precedence_over_replayed_events(tracker: dict[str, Any]) -> None:
    built = transcript_from_events("conv-42", tracker["events"], {"age_band": "skipped", "location": "Lyon"})
    assert built.patient.age_band is None and built.patient.location == "Lyon"
    assert built.patient.duration == "2 weeks"  # from events only


def test_restart_starts_a_new_transcript(tracker: dict[str, Any]) -> None:
    events = tracker["events"] + [
        {"event": "restart", "timestamp": 1763780100.0},
        {"event": "user", "timestamp": 1763780101.0, "text": "hello again", "parse_data": {}, "metadata": {}},
    ]
    built = transcript_from_events("conv-42", events, {})
    assert built.questions == [] and built.images == [] and not built.consent.given
    assert [t.text for t in built.dialogue] == ["hello again"]


def test_transcript_id_depends_on_content_only(tracker: dict[str, Any]) -> None:
    first = transcript_from_events("conv-42", tracker["events"], {})
    again = transcript_from_events("conv-42", tracker["events"], {})
    changed = transcript_from_events("conv-42", tracker["events"], {"callback_requested": True})
    assert first.transcript_id == again.transcript_id != changed.transcript_id
