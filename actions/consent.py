"""Recording the patient's consent (and processing an image that was waiting for it)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import now_iso
from actions.images import process_image

POSITIVE = {"give_consent", "affirm"}


class ActionSetConsent(Action):
    """Record consent or refusal; on consent, process an image sent before consent was given."""

    def name(self) -> str:
        return "action_set_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        given = intent in POSITIVE
        events = [SlotSet("consent_given", given), SlotSet("consent_time", now_iso())]
        if not given:
            dispatcher.utter_message(response="utter_consent_refused")
            return events + [SlotSet("pending_image", None)]
        dispatcher.utter_message(response="utter_consent_recorded")
        pending = tracker.get_slot("pending_image")
        if pending:
            events += [SlotSet("pending_image", None)]
            events += await process_image(dispatcher, tracker, pending)
        return events
