"""The hospital step after the summary, as a form (``hospital_form``): which hospitals, then "send now?".

Whatever the patient types inside it is read as an answer to the question asked (a number, a name or part of
one with typos, "all", "nearest", "yes" for the proposed one: :func:`actions.hospital_choice.choose_hospitals`);
an answer that fits neither re-asks the step with its options, so the step is never a dead end. An emergency or
asking for a person interrupts it (their rules run, then the step asks again).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.consultation import candidate_hospitals
from actions.form_interruptions import InterruptibleForm
from actions.hospital_choice import choose_hospitals, named_hospitals, no_preference
from actions.images import ActionSegmentImage
from actions.patient import hospital_lines
from actions.questions import ActionAnswerQuestion
from actions.responses import say
from actions.runtime import get_services

YES = re.compile(r"^\W*(?:yes|yeah|yep|yup|sure|ok|okay|please|go ahead|send|send it|do it)\b", re.IGNORECASE)
NO = re.compile(r"^\W*(?:no|nope|not now|don'?t|do not|cancel|stop|wait)\b", re.IGNORECASE)
# An image request made inside the step is answered there: "wait, is the heart enlarged?" at the hospital question
# had been read as "no" and ended the step (found chatting). It must read as a request, not only be classified one:
# a hospital's name is at times classified as an image question.
IMAGE_REQUESTS = {"ask_image_question": ActionAnswerQuestion(), "ask_segmentation": ActionSegmentImage()}
READS_AS_REQUEST = re.compile(r"\?\s*$|^\W*(?:(?:no\W+)?wait\W+)?(?:is|are|was|were|does|do|did|can|could|what|where"
                              r"|which|how|why|show|outline)\b", re.IGNORECASE)


def _intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _asked(tracker: Tracker, slot: str) -> bool:
    """Whether the latest message answers the step's question for ``slot``; the message that opened the step
    (the intake form's last answer, "all", a hospital's name) is read only for a hospital it names, never
    re-asked (found chatting: "skip" at the city question got "I didn't catch which hospital. Please answer
    yes or no" before the hospital question was even asked)."""
    return tracker.get_slot("requested_slot") == slot


async def _image_request(dispatcher: CollectingDispatcher, tracker: Tracker,
                         domain: DomainDict) -> dict[str, Any] | None:
    """The slots an image question or outline request asked inside the step sets once answered (the step then
    asks its question again), or None when the message is no such request."""
    action = IMAGE_REQUESTS.get(_intent(tracker) or "")
    if action is None or not READS_AS_REQUEST.search(tracker.latest_message.get("text") or ""):
        return None
    events = await action.run(dispatcher, tracker, domain)
    return {event["name"]: event["value"] for event in events if event.get("event") == "slot"}


async def _proposed(tracker: Tracker) -> tuple[list[str], list[str], str]:
    """The candidate hospitals' names and cities (nearest first), and the ``hospital`` entity of the message."""
    candidates = await candidate_hospitals(await get_services(), tracker)
    wanted = str(next(tracker.get_latest_entity_values("hospital"), "") or "")
    return [h.name for h in candidates], [h.city for h in candidates], wanted


class ActionAskChosenHospitals(Action):
    """Ask which hospitals should receive the transcript: the candidates (nearest first) as buttons."""

    def name(self) -> str:
        return "action_ask_chosen_hospitals"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        hospitals = await candidate_hospitals(await get_services(), tracker)
        buttons = [
            {"title": f"{h.name} ({h.city})", "payload": f'/choose_hospital{{"hospital": "{h.name}"}}'}
            for h in hospitals
        ]
        say(dispatcher, "utter_ask_hospital", buttons=buttons, hospital_list=hospital_lines(hospitals))
        return []


class ActionAskSendConfirmed(Action):
    """Ask whether to send the transcript to the chosen hospitals now."""

    def name(self) -> str:
        return "action_ask_send_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        chosen = tracker.get_slot("chosen_hospitals") or []
        say(dispatcher, "utter_confirm_send", hospitals=", ".join(chosen))
        return []


class ValidateHospitalForm(InterruptibleForm, FormValidationAction):
    """Read the patient's answers to the hospital step's two questions."""

    def name(self) -> str:
        return "validate_hospital_form"

    async def validate_chosen_hospitals(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The hospitals the message picks; else "no" sends nothing; anything else re-asks, except the message
        that opened the step (the step then asks its own question)."""
        text = tracker.latest_message.get("text") or ""
        names, cities, wanted = await _proposed(tracker)
        asked = _asked(tracker, "chosen_hospitals")
        # The city that answered the intake form picks no hospital; "send it to the one in Berlin" does.
        by_city = asked or _intent(tracker) == "choose_hospital"
        affirmed = _intent(tracker) == "affirm" or (asked and no_preference(text))
        chosen = choose_hospitals(text, wanted, names, affirmed=affirmed, cities=cities if by_city else None)
        if chosen:
            return {"chosen_hospitals": chosen}
        if not asked:
            return {"chosen_hospitals": None}
        answered = await _image_request(dispatcher, tracker, domain)
        if answered is not None:
            return {**answered, "chosen_hospitals": None}
        if _intent(tracker) == "deny" or NO.search(text):
            return {"chosen_hospitals": [], "send_confirmed": False}
        say(dispatcher, "utter_hospital_not_understood")
        return {"chosen_hospitals": None}

    async def validate_send_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Yes or no, by intent or by its first words; other hospitals named ("no wait, London instead") replace the
        choice and the question is asked again for them, as after an image request; anything else re-asks."""
        if not _asked(tracker, "send_confirmed"):
            return {"send_confirmed": None}
        text = tracker.latest_message.get("text") or ""
        names, cities, wanted = await _proposed(tracker)
        named = named_hospitals(text, wanted, names, cities)
        if named and named != tracker.get_slot("chosen_hospitals"):
            return {"chosen_hospitals": named, "send_confirmed": None}
        answered = await _image_request(dispatcher, tracker, domain)
        if answered is not None:
            return {**answered, "send_confirmed": None}
        if _intent(tracker) == "affirm" or YES.search(text):
            return {"send_confirmed": True}
        if _intent(tracker) == "deny" or NO.search(text):
            return {"send_confirmed": False}
        say(dispatcher, "utter_confirm_send_again")
        return {"send_confirmed": None}
