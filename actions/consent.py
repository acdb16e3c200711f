"""Recording the patient's consent, and processing an image that was waiting for it."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import now_iso
from actions.images import outline_lesion, process_image
from actions.questions import answer_request
from actions.responses import say
from actions.runtime import get_services

POSITIVE = {"give_consent", "affirm"}


class ActionSetConsent(Action):
    """Record consent (give_consent / yes) or refusal (refuse_consent / no) with its time."""

    def name(self) -> str:
        return "action_set_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        given = intent in POSITIVE
        events = [SlotSet("consent_given", given), SlotSet("consent_time", now_iso())]
        pending = tracker.get_slot("pending_image")
        if not given and pending:
            services = await get_services()
            await asyncio.to_thread(services.intake.release, tracker.sender_id, pending)
            events += [SlotSet("pending_image", None), SlotSet("pending_request", None)]
        return events


class ActionProcessPendingImage(Action):
    """After consent: process the image sent before it (then answer its caption), or invite the patient to send
    one."""

    def name(self) -> str:
        return "action_process_pending_image"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        pending = tracker.get_slot("pending_image")
        if not pending:
            say(dispatcher, "utter_send_an_image")
            return []
        processed, accepted = await process_image(dispatcher, tracker, pending)
        events = [SlotSet("pending_image", None), SlotSet("pending_request", None), *processed]
        request = tracker.get_slot("pending_request")
        if not request:
            return events
        if accepted is None:
            say(dispatcher, "utter_caption_not_answered")
            return events
        if request.get("action") == "action_segment_image":
            return events + await outline_lesion(dispatcher, tracker, accepted)
        return events + await answer_request(dispatcher, tracker, accepted, request)
