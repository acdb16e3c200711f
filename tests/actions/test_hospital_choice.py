"""The hospital step accepts what people type (issue 17: no dead ends at the most important step)."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.hospital_choice import choose_hospitals, no_preference
from actions.hospital_step import ActionAskChosenHospitals, ValidateHospitalForm
from actions.runtime import Services
from tests.support.actions import load_tracker

NAMES = ["St Thomas Radiology", "Charite Imaging", "Karolinska Neuroimaging"]


def test_a_city_picks_the_hospital_there() -> None:
    """Found by a helper playing patients: "the one in Berlin please" got "I didn't catch which hospital"."""
    cities = ["London", "Berlin", "Stockholm"]
    assert choose_hospitals("the one in Berlin please", "", NAMES, cities=cities) == ["Charite Imaging"]
    assert choose_hospitals("london and stockholm", "", NAMES, cities=cities) == [NAMES[0], NAMES[2]]


@pytest.mark.parametrize(("text", "entity", "affirmed", "expected"), [
    ("yes", "", True, ["St Thomas Radiology"]),
    ("ok", "", False, ["St Thomas Radiology"]),
    ("the nearest one", "", False, ["St Thomas Radiology"]),
    ("2", "", False, ["Charite Imaging"]),
    ("number 3 please", "", False, ["Karolinska Neuroimaging"]),
    ("St Thomas Radiology (London)", "", False, ["St Thomas Radiology"]),
    ("st tomas", "", False, ["St Thomas Radiology"]),
    ("karolinska", "", False, ["Karolinska Neuroimaging"]),
    ("karolinska and charite", "", False, ["Charite Imaging", "Karolinska Neuroimaging"]),
    ("1 and 3", "", False, ["St Thomas Radiology", "Karolinska Neuroimaging"]),
    ("2 and 7", "", False, []),  # one number not on the list: which was meant is unclear, so ask again
    ("all of them", "", False, NAMES),
    ("/choose_hospital", "all", False, NAMES),
    ("/choose_hospital", "Charite Imaging", False, ["Charite Imaging"]),
    ("what organ is this?", "", False, []),
    ("7", "", False, []),
    ("hmm I'm not sure", "", False, []),
    ("don't send it", "", False, []),
])
def test_choices_people_type(text: str, entity: str, affirmed: bool, expected: list[str]) -> None:
    assert choose_hospitals(text, entity, NAMES, affirmed=affirmed) == expected


def test_no_preference_leaves_the_choice_to_us() -> None:
    """ "skip" at the hospital question got "I didn't catch which hospital"; the consent text promises the nearest."""
    assert all(no_preference(text) for text in ("skip", "I don't mind", "whichever", "you choose", "doesn't matter",
                                                "just send it now please"))
    assert not any(no_preference(text) for text in ("don't send it", "skip the rest and send to Berlin", "no"))


def _in_step(text: str, intent: str, requested: str | None, **slots):
    tracker = load_tracker("question", consent_given=True, requested_slot=requested, **slots)
    tracker.latest_message.update({"text": text, "intent": {"name": intent, "confidence": 0.5}, "entities": []})
    tracker.active_loop = {"name": "hospital_form"}
    return tracker


@pytest.mark.parametrize(("text", "intent", "expected"), [
    ("Charite Imaging (Berlin)", "ask_image_question", ["Charite Imaging"]),  # a name read as a question
    ("2", "deny", ["Charite Imaging"]),  # the NLU read "2" as "deny"; it is still a number from the list
    ("yes", "affirm", ["St Thomas Radiology"]),
    ("All of them", "choose_hospital", ["St Thomas Radiology", "Charite Imaging"]),
])
async def test_the_hospital_step_reads_any_intent_as_an_answer(services: Services, text: str, intent: str,
                                                               expected: list[str]) -> None:
    tracker = _in_step(text, intent, "chosen_hospitals")
    result = await ValidateHospitalForm().validate_chosen_hospitals(text, CollectingDispatcher(), tracker, {})
    assert result == {"chosen_hospitals": expected}


async def test_no_at_the_hospital_question_sends_nothing(services: Services) -> None:
    tracker = _in_step("no thanks", "deny", "chosen_hospitals")
    result = await ValidateHospitalForm().validate_chosen_hospitals("no", CollectingDispatcher(), tracker, {})
    assert result == {"chosen_hospitals": [], "send_confirmed": False}


async def test_an_answer_that_fits_nothing_re_asks_the_step(services: Services) -> None:
    dispatcher = CollectingDispatcher()
    tracker = _in_step("hmm I'm not sure", "ask_image_question", "chosen_hospitals")
    result = await ValidateHospitalForm().validate_chosen_hospitals("hmm", dispatcher, tracker, {})
    assert result == {"chosen_hospitals": None}
    assert "didn't catch which hospital" in dispatcher.messages[0]["text"]
    assert not [c for c in services.hospitals.calls if c[0] == "ask"]


@pytest.mark.parametrize(("text", "intent", "expected"), [
    ("yes", "affirm", True), ("Yes, send it", "choose_hospital", True), ("ok go ahead", "nlu_fallback", True),
    ("no", "deny", False), ("not now", "out_of_scope", False), ("what?", "nlu_fallback", None),
])
async def test_the_send_question_takes_yes_or_no_in_words(services: Services, text: str, intent: str,
                                                          expected: bool | None) -> None:
    dispatcher = CollectingDispatcher()
    tracker = _in_step(text, intent, "send_confirmed", chosen_hospitals=["Charite Imaging"])
    result = await ValidateHospitalForm().validate_send_confirmed(text, dispatcher, tracker, {})
    assert result == {"send_confirmed": expected}
    assert bool(dispatcher.messages) == (expected is None)


async def test_the_message_that_opens_the_step_is_not_re_asked(services: Services) -> None:
    """Found chatting: "skip" at the city question got "I didn't catch which hospital. Please answer yes or no"
    before the hospital question was asked; "all" (which opens the step) still picks every hospital."""
    form, dispatcher = ValidateHospitalForm(), CollectingDispatcher()
    opening = _in_step("skip", "skip", None)
    assert await form.validate_chosen_hospitals("skip", dispatcher, opening, {}) == {"chosen_hospitals": None}
    assert await form.validate_send_confirmed("skip", dispatcher, opening, {}) == {"send_confirmed": None}
    assert dispatcher.messages == []
    everyone = _in_step("all", "choose_hospital", None)
    result = await form.validate_chosen_hospitals("all", dispatcher, everyone, {})
    assert result == {"chosen_hospitals": ["St Thomas Radiology", "Charite Imaging"]}


@pytest.mark.parametrize("requested", ["chosen_hospitals", "send_confirmed"])
async def test_an_image_question_inside_the_step_is_answered_and_the_step_asks_again(
        services: Services, stored_image: dict, requested: str) -> None:
    """Found chatting: "wait, is the heart enlarged?" at the hospital question was read as "no", nothing was
    answered and the step ended."""
    dispatcher = CollectingDispatcher()
    tracker = _in_step("wait, is the heart enlarged?", "ask_image_question", requested, images=[stored_image],
                       qa_log=None, chosen_hospitals=["St Thomas Radiology"] if requested == "send_confirmed" else None)
    validate = getattr(ValidateHospitalForm(), f"validate_{requested}")
    result = await validate("wait", dispatcher, tracker, {})
    assert result[requested] is None
    assert [entry["question"] for entry in result["qa_log"]][-1] == "wait, is the heart enlarged?"
    assert [c for c in services.hospitals.calls if c[0] == "ask"]
    assert not any("didn't catch" in (m.get("text") or "") for m in dispatcher.messages)


async def test_other_hospitals_named_at_the_send_question_replace_the_choice(services: Services) -> None:
    """Found chatting: "no wait, London instead" at "send now?" was a "no", and nothing was sent."""
    dispatcher = CollectingDispatcher()
    tracker = _in_step("no wait, send it to Charite instead", "deny", "send_confirmed",
                       chosen_hospitals=["St Thomas Radiology"])
    result = await ValidateHospitalForm().validate_send_confirmed("no", dispatcher, tracker, {})
    assert result == {"chosen_hospitals": ["Charite Imaging"], "send_confirmed": None}
    same = _in_step("yes, St Thomas please", "affirm", "send_confirmed", chosen_hospitals=["St Thomas Radiology"])
    assert await ValidateHospitalForm().validate_send_confirmed("yes", dispatcher, same, {}) == {"send_confirmed": True}


async def test_skip_at_the_hospital_question_picks_the_nearest(services: Services) -> None:
    tracker = _in_step("skip", "skip", "chosen_hospitals")
    result = await ValidateHospitalForm().validate_chosen_hospitals("skip", CollectingDispatcher(), tracker, {})
    assert result == {"chosen_hospitals": ["St Thomas Radiology"]}


async def test_a_city_named_outside_the_step_picks_the_hospital_there(services: Services) -> None:
    """ "send it to the one in Berlin" after the step had ended opened it again and asked which hospital."""
    tracker = _in_step("send it to the one in Berlin", "choose_hospital", None)
    result = await ValidateHospitalForm().validate_chosen_hospitals("send", CollectingDispatcher(), tracker, {})
    assert result == {"chosen_hospitals": ["Charite Imaging"]}


async def test_an_emergency_interrupts_the_hospital_step() -> None:
    tracker = _in_step("I can't breathe", "emergency", "chosen_hospitals")
    events = await ValidateHospitalForm().run(CollectingDispatcher(), tracker, {"forms": {}})
    assert [(e["event"], e["name"]) for e in events] == [("action_execution_rejected", "hospital_form")]


async def test_the_hospital_question_offers_each_hospital_then_all_of_them(services: Services) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAskChosenHospitals().run(dispatcher, load_tracker("question", consent_given=True), {})
    [message] = dispatcher.messages
    titles = [b["title"] for b in message["buttons"]]
    assert titles[-1] == "All of them" and len(titles) >= 2
    assert message["buttons"][-1]["payload"] == '/choose_hospital{"hospital": "all"}'
    assert all(b["payload"].startswith("/choose_hospital") for b in message["buttons"])
