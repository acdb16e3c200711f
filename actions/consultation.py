"""Ending the consultation: summary, hospital choice, sending the transcript, hand-off, urgency, erasure."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ensure_consent, images, patient_location
from actions.responses import say, sentence
from actions.runtime import Services, get_services
from actions.wording import summary_lines
from hospitals.types import HospitalInfo
from qaid.events import ERASED_EVENT
from qaid.red_flags import RED_FLAG_KEY
from transcripts.build import transcript_from_events

logger = logging.getLogger(__name__)



def sent_sentence(opening: str, chosen: list[str]) -> str:
    """Response ``opening`` ("your transcript is on its way") and what happens next at the ``chosen`` hospitals."""
    return f"{sentence(opening)} {sentence('utter_next_steps', hospitals=', '.join(chosen))}"


def has_content(tracker: Tracker) -> bool:
    """True when the conversation holds something worth sending."""
    return any(tracker.get_slot(slot) for slot in ("images", "qa_log", "symptoms", "segmentations", "chief_complaint",
                                                   "history", "medications"))


async def candidate_hospitals(services: Services, tracker: Tracker) -> list[HospitalInfo]:
    """Hospitals for this patient, nearest first; those covering the latest image's type when it has one."""
    location = patient_location(tracker)
    stored = images(tracker)
    image_type = stored[-1].get("label") if stored else None
    covering = await services.hospitals.nearest(location, image_type=image_type) if image_type else []
    return covering or await services.hospitals.nearest(location)


async def recipients(services: Services, tracker: Tracker) -> list[str]:
    """The hospitals the patient chose, or the nearest suitable one when they chose none."""
    chosen = list(tracker.get_slot("chosen_hospitals") or [])
    return chosen or [h.name for h in (await candidate_hospitals(services, tracker))[:1]]


async def queue_transcript(
    services: Services, tracker: Tracker, hospitals: list[str], extra: dict[str, Any] | None = None
) -> list[str]:
    """Build the transcript from the tracker and queue it for each hospital; returns the delivery ids."""
    slots = dict(tracker.current_slot_values()) | (extra or {})
    transcript = transcript_from_events(tracker.sender_id, list(tracker.events), slots)
    return await asyncio.to_thread(services.transcripts.queue, transcript, hospitals)


class ActionShowSummary(Action):
    """Show what will be sent; the hospital step (``hospital_form``, :mod:`actions.hospital_step`) follows."""

    def name(self) -> str:
        return "action_show_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if not ensure_consent(tracker, dispatcher):
            return []
        lines = summary_lines(dict(tracker.current_slot_values()))
        text = sentence("utter_summary", summary="\n".join(lines or [sentence("utter_summary_empty")]))
        # "This is an automated answer" under a summary with no answer, or with only "no confident answer": found
        # chatting.
        if any(entry.get("answer") and not entry.get("abstained") for entry in tracker.get_slot("qa_log") or []):
            text += "\n" + sentence("utter_disclaimer")
        dispatcher.utter_message(text=text)
        return [SlotSet("chosen_hospitals", None), SlotSet("send_confirmed", None)]


class ActionSendTranscript(Action):
    """After the hospital step: queue the transcript for the chosen hospitals and say what happens next, or,
    when the patient said no, send nothing."""

    def name(self) -> str:
        return "action_send_transcript"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("send_confirmed") is False:
            dispatcher.utter_message(response="utter_not_sent")
            return [SlotSet("chosen_hospitals", None), SlotSet("send_confirmed", None)]
        if not ensure_consent(tracker, dispatcher):
            return []
        services = await get_services()
        chosen = await recipients(services, tracker)
        ids = await queue_transcript(services, tracker, chosen)
        dispatcher.utter_message(text=sent_sentence("utter_transcript_on_its_way", chosen))
        return [SlotSet("transcript_ids", list(tracker.get_slot("transcript_ids") or []) + ids),
                SlotSet("send_confirmed", None)]


class ActionWelcome(Action):
    """"Thanks": before anything was sent, offer to finish and send; after, say who will call (a "Finish and send"
    button after the transcript had gone read as if nothing had been sent: found chatting)."""

    def name(self) -> str:
        return "action_welcome"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        chosen = tracker.get_slot("chosen_hospitals") or []
        if tracker.get_slot("transcript_ids") and chosen:
            say(dispatcher, "utter_welcome_after_send", hospitals=", ".join(chosen))
        else:
            dispatcher.utter_message(response="utter_welcome")
        return []


class ActionHandoff(Action):
    """Talk to a human: send the transcript at once, flagged for a call-back."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("consent_given") is not True:
            say(dispatcher, "utter_callback_needs_consent")
            dispatcher.utter_message(response="utter_ask_consent")
            return [SlotSet("callback_requested", True)]
        services = await get_services()
        chosen = await recipients(services, tracker)
        ids = await queue_transcript(services, tracker, chosen, {"callback_requested": True})
        say(dispatcher, "utter_callback_requested", hospitals=", ".join(chosen))
        return [
            SlotSet("callback_requested", True),
            SlotSet("chosen_hospitals", chosen),
            SlotSet("transcript_ids", list(tracker.get_slot("transcript_ids") or []) + ids),
        ]


class ActionEmergency(Action):
    """Red-flag symptoms: advise calling emergency services now and mark the consultation urgent.

    The ``emergency`` intent is the first key; the message must also carry a current red flag (``red_flag`` in
    its parse data: the NLU pipeline's ``bot.red_flags.RedFlagDetector`` found one, by pattern or by its
    classifier, and made the message an ``emergency``). Without one the patient hears when to call and the
    consultation is not marked urgent. With one it is, and ``urgent_reason`` names the flag and the message.
    Either way a message answering the intake form's chief-complaint question is recorded as the chief
    complaint, and a form it interrupted goes on.
    """

    def name(self) -> str:
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = (tracker.latest_message.get("text") or "").strip()
        complaint = [SlotSet("chief_complaint", text)] if (
            tracker.get_slot("requested_slot") == "chief_complaint" and text) else []
        loop = (tracker.active_loop or {}).get("name")
        resume = [FollowupAction(loop)] if loop else []  # the interrupted form asks its question again
        flag = tracker.latest_message.get(RED_FLAG_KEY)
        if not flag:
            say(dispatcher, "utter_when_to_call")
            return [*complaint, *resume]
        say(dispatcher, "utter_emergency")
        say(dispatcher, "utter_marked_urgent")
        return [*complaint, SlotSet("urgent", True), SlotSet("urgent_reason", f'{flag}: "{text}"'), *resume]


class ActionGoodbye(Action):
    """Before goodbye: a consented consultation not sent yet goes to the chosen (or nearest) hospital."""

    def name(self) -> str:
        return "action_goodbye"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        if (
            tracker.get_slot("consent_given") is True
            and has_content(tracker)
            and not tracker.get_slot("transcript_ids")
        ):
            services = await get_services()
            chosen = await recipients(services, tracker)
            ids = await queue_transcript(services, tracker, chosen)
            dispatcher.utter_message(text=sent_sentence("utter_transcript_sent", chosen))
            events = [SlotSet("chosen_hospitals", chosen), SlotSet("transcript_ids", ids)]
        return events


class ActionDeleteData(Action):
    """Delete the conversation's images, queued transcripts and tracker history."""

    def name(self) -> str:
        return "action_delete_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        services = await get_services()
        recorded = [*images(tracker), *(tracker.get_slot("segmentations") or []), tracker.get_slot("pending_image")]
        references = [{"path": r.get("overlay_path") or r.get("path")} for r in recorded if r]
        references += [{"path": r["source_path"]} for r in recorded if r and r.get("source_path")]
        failed = await asyncio.to_thread(services.intake.erase, tracker.sender_id, *references)
        unreached = await services.transcripts.erase_conversation(tracker.sender_id)
        logger.info("Erased conversation %s (%d files and %d hospitals failed).",
                    tracker.sender_id, len(failed), len(unreached))
        problems = []
        if failed:
            problems.append(sentence("utter_erase_files_left", count=len(failed)))
        if unreached:
            problems.append(sentence("utter_erase_hospitals_left", hospitals=", ".join(unreached)))
        text = sentence("utter_erased")
        if problems:
            text = sentence("utter_erased_partly", problems="; and ".join(problems))
        dispatcher.utter_message(text=text, json_message=ERASED_EVENT)
        return [AllSlotsReset(), SlotSet("data_erased", True)]
