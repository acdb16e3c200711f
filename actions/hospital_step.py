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
from actions.hospital_choice import choose_hospitals
from actions.patient import hospital_lines
from actions.responses import say
from actions.runtime import get_services

YES = re.compile(r"^\W*(?:yes|yeah|yep|yup|sure|ok|okay|please|go ahead|send|send it|do it)\b", re.IGNORECASE)
NO = re.compile(r"^\W*(?:no|nope|not now|don'?t|do not|cancel|stop|wait)\b", re.IGNORECASE)


def _intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _asked(tracker: Tracker, slot: str) -> bool:
    """Whether the latest message answers the step's question for ``slot``; the message that opened the step
    (the intake form's last answer, "all", a hospital's name) is read only for a hospital it names, never
    re-asked (found chatting: "skip" at the city question got "I didn't catch which hospital. Please answer
    yes or no" before the hospital question was even asked)."""
    return tracker.get_slot("requested_slot") == slot


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
        candidates = await candidate_hospitals(await get_services(), tracker)
        wanted = str(next(tracker.get_latest_entity_values("hospital"), "") or "")
        asked = _asked(tracker, "chosen_hospitals")  # the city that answered the intake form picks no hospital
        chosen = choose_hospitals(text, wanted, [h.name for h in candidates], affirmed=_intent(tracker) == "affirm",
                                  cities=[h.city for h in candidates] if asked else None)
        if chosen:
            return {"chosen_hospitals": chosen}
        if not asked:
            return {"chosen_hospitals": None}
        if _intent(tracker) == "deny" or NO.search(text):
            return {"chosen_hospitals": [], "send_confirmed": False}
        say(dispatcher, "utter_hospital_not_understood")
        return {"chosen_hospitals": None}

    def validate_send_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Yes or no, by intent or by its first words; anything else re-asks."""
        if not _asked(tracker, "send_confirmed"):
            return {"send_confirmed": None}
        text = tracker.latest_message.get("text") or ""
        if _intent(tracker) == "affirm" or YES.search(text):
            return {"send_confirmed": True}
        if _intent(tracker) == "deny" or NO.search(text):
            return {"send_confirmed": False}
        say(dispatcher, "utter_confirm_send_again")
        return {"send_confirmed": None}
