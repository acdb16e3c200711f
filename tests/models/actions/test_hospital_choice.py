"""The hospital step accepts what people type (issue 17: no dead ends at the most important step)."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.hospital_choice import choose_hospitals
from actions.questions import ActionAnswerQuestion
from actions.runtime import Services
from tests.support.actions import load_tracker

NAMES = ["St Thomas Radiology", "Charite Imaging", "Karolinska Neuroimaging"]


@pytest.mark.parametrize(("text", "entity", "affirmed", "expected"), [
    ("yes", "", True, ["St Thomas Radiology"]),
    ("ok", "", False, ["St Thomas Radiology"]),
    ("the nearest one", "", False, ["St Thomas Radiology"]),
    ("2", "", False, ["Charite Imaging"]),
    ("number 3 please", "", False, ["Karolinska Neuroimaging"]),
    ("St Thomas Radiology (London)", "", False, ["St Thomas Radiology"]),
    ("st tomas", "", False, ["St Thomas Radiology"]),
    ("karolinska", "", False, ["Karolinska Neuroimaging"]),
    ("all of them", "", False, NAMES),
    ("/choose_hospital", "all", False, NAMES),
    ("/choose_hospital", "Charite Imaging", False, ["Charite Imaging"]),
    ("what organ is this?", "", False, []),
    ("7", "", False, []),
])
def test_choices_people_type(text: str, entity: str, affirmed: bool, expected: list[str]) -> None:
    assert choose_hospitals(text, entity, NAMES, affirmed=affirmed) == expected


def _after_summary(text: str, **slots):
    tracker = load_tracker("question", consent_given=True, **slots)
    tracker.latest_message["text"] = text
    tracker.events.extend([{"event": "action", "name": "action_show_summary"},
                           {"event": "action", "name": "action_listen"},
                           {"event": "user", "text": text, "parse_data": tracker.latest_message}])
    return tracker


async def test_a_hospital_name_read_as_a_question_still_chooses_it(services: Services, stored_image: dict) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerQuestion().run(dispatcher, _after_summary("Charite Imaging (Berlin)",
                                                                         images=[stored_image]), {})
    assert {"event": "slot", "name": "chosen_hospitals", "value": ["Charite Imaging"], "timestamp": None} in events
    assert "Send your transcript to Charite Imaging now?" in dispatcher.messages[0]["text"]
    assert not [c for c in services.hospitals.calls if c[0] == "ask"]


async def test_a_real_question_after_the_summary_is_still_answered(services: Services, stored_image: dict) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuestion().run(dispatcher, _after_summary("is there a tumour?", images=[stored_image]), {})
    assert [c for c in services.hospitals.calls if c[0] == "ask"]
