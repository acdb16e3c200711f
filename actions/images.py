"""Images: intake, screening (prefilter + type), first findings, and lesion segmentation."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    ImageRequest,
    caption_of,
    ensure_consent,
    images,
    metadata,
    now_iso,
    patient_location,
)
from actions.image_facts import consistent_findings, file_fact_words, label_against_file, stated_findings
from actions.responses import say, sentence
from actions.runtime import Services, get_services
from actions.wording import confidence_words, first_look_words, image_type_phrase, percent
from hospitals.types import HospitalError
from qaid.images import ImageError
from qaid.images import refusal as image_refusal

logger = logging.getLogger(__name__)

SEGMENTABLE = {"brain_mri"}
# "can I send you another one?" or "add another picture" asks leave to send: it hears "yes, attach it", not "I
# didn't receive an image".
ASKS_TO_SEND = re.compile(r"^\s*(?:can|could|may|shall|should|do you want|would you like|is it (?:ok|okay|fine))\b|"
                          r"\?\s*$|^\s*(?:i (?:want|would like|need) to |i'?d like to |let me )?(?:add|send|upload|"
                          r"attach) (?:another|one more|a second|more|a new|other)\b", re.IGNORECASE)


def media_url(services: Services, path: str) -> str:
    """The public link of a file in the media store (the channel signs it on the way out)."""
    return f"{services.settings.public_url}/{path}"


def refusal(reason: str) -> str:
    """One message per problem: the reason, plus what to send when the reason does not already say it."""
    return reason if "send" in reason.lower() else f"{reason} {sentence('utter_what_to_send')}"


async def process_image(
    dispatcher: CollectingDispatcher, tracker: Tracker, reference: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Store, screen and describe one image; returns the slot events (the image goes into ``images``) and the
    image's record, or ``([], None)`` when it was not accepted.

    An image that is refused, screened out or cannot be screened is not kept: its files are released.
    """
    services = await get_services()
    sender, stored_refs = tracker.sender_id, [reference]
    try:
        stored = await asyncio.to_thread(services.intake.ingest, reference, sender)
        stored_refs += [{"path": p} for p in (stored.path, stored.source_path) if p]
        data = await asyncio.to_thread(services.intake.load, stored.to_slot())
        screening = await services.hospitals.screen(data, patient_location(tracker))
    except ImageError as error:
        await asyncio.to_thread(services.intake.release, sender, *stored_refs)
        dispatcher.utter_message(text=refusal(error.reason))
        return [], None
    except HospitalError as error:
        logger.warning("Screening failed: %s", error)
        await asyncio.to_thread(services.intake.release, sender, *stored_refs)
        if error.status == 400:
            dispatcher.utter_message(text=refusal(error.message))
        else:
            say(dispatcher, "utter_screening_failed")
        return [], None
    if not screening.is_medical:
        await asyncio.to_thread(services.intake.release, sender, *stored_refs)
        reason = screening.reason or sentence("utter_not_a_medical_image")
        dispatcher.utter_message(text=refusal(reason))
        return [], None
    if stored.screen:
        dispatcher.utter_message(text=sentence("utter_screen_photo_cropped"),
                                 image=media_url(services, stored.path))
    label = screening.label
    record = stored.to_slot() | {
        "upload_sha256": reference.get("sha256"),
        "label": label.label if label else None,
        "confidence": round(label.confidence, 4) if label else None,
        "received_at": now_iso(),
    }
    if label is None or label.unsure or not label.label or label_against_file(record):
        from_file = file_fact_words(record)
        if from_file:
            say(dispatcher, "utter_image_type_from_file", file_says=from_file)
        else:
            say(dispatcher, "utter_image_type_unsure")
    else:
        say(dispatcher, "utter_image_type_segmentable" if label.label in SEGMENTABLE else "utter_image_type",
            image_type=image_type_phrase(label.label), confidence_words=confidence_words(label.confidence),
            percent=percent(label.confidence))
    findings = consistent_findings(await _first_findings(data, record["label"], tracker), record)
    if findings:
        record["findings"] = findings
        say(dispatcher, "utter_first_look", findings=first_look_words(findings))
    return [SlotSet("images", images(tracker) + [record])], record


async def _first_findings(data: bytes, image_type: str | None, tracker: Tracker) -> list[dict[str, Any]]:
    """Confident automatic findings (abnormal, organ, modality, plane), or [] when none is confident."""
    services = await get_services()
    try:
        findings = await services.hospitals.insights(data, image_type, patient_location(tracker))
    except HospitalError as error:
        logger.info("No insights: %s", error)
        return []
    return stated_findings(findings)


class ActionProcessImage(Action):
    """An image arrived: process it once the patient has consented, else keep a reference and ask."""

    def name(self) -> str:
        return "action_process_image"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        meta = metadata(tracker)
        if meta.get("image_error"):
            dispatcher.utter_message(text=refusal(meta["image_error"].get("reason") or image_refusal("unreadable")))
            return []
        reference = meta.get("image")
        if not reference:
            if caption_of(tracker):
                return []  # the caption of the image just answered describes it ("my dad's chest X-ray")
            if ASKS_TO_SEND.search(tracker.latest_message.get("text") or ""):
                say(dispatcher, "utter_send_it")
            else:
                dispatcher.utter_message(text=f"{sentence('utter_no_image_received')} {sentence('utter_what_to_send')}")
            return []
        consent = tracker.get_slot("consent_given")
        if consent is None:
            say(dispatcher, "utter_image_before_consent")
            dispatcher.utter_message(response="utter_explain_consent")
            dispatcher.utter_message(response="utter_ask_consent")
            services = await get_services()
            await asyncio.to_thread(services.intake.hold, tracker.sender_id, reference)
            return [SlotSet("pending_image", reference)]
        if not ensure_consent(tracker, dispatcher):
            return []
        events, _ = await process_image(dispatcher, tracker, reference)
        return events


async def outline_lesion(dispatcher: CollectingDispatcher, tracker: Tracker,
                         image: dict[str, Any]) -> list[dict[str, Any]]:
    """Outline lesions on ``image`` (a brain MRI) and send the overlay with the lesion size."""
    if image.get("label") not in SEGMENTABLE:
        say(dispatcher, "utter_outline_brain_mri_only", image_type=image_type_phrase(image.get("label")))
        return []
    services = await get_services()
    try:
        data = await asyncio.to_thread(services.intake.load, image)
        report = await services.hospitals.segment(data, image.get("label"), patient_location(tracker))
    except (ImageError, HospitalError) as error:
        logger.warning("Segmentation failed: %s", error)
        say(dispatcher, "utter_outline_failed")
        return []
    if report.lesion_pixels == 0:
        text = sentence("utter_outline_none", hospital=report.hospital)
    else:
        text = sentence("utter_outline", hospital=report.hospital, pixels=report.lesion_pixels,
                        fraction=f"{report.lesion_fraction:.1%}")
    if report.overlay_path:
        await asyncio.to_thread(services.intake.hold, tracker.sender_id, {"path": report.overlay_path})
    image_url = media_url(services, report.overlay_path) if report.overlay_path else None
    dispatcher.utter_message(text=f"{text} {sentence('utter_disclaimer')}", image=image_url)
    entry = {
        "image_sha256": image["sha256"],
        "hospital": report.hospital,
        "lesion_pixels": report.lesion_pixels,
        "brain_pixels": report.brain_pixels,
        "lesion_fraction": report.lesion_fraction,
        "lesion_side": report.lesion_side,
        "overlay_path": report.overlay_path,
        "timestamp": now_iso(),
    }
    return [SlotSet("segmentations", list(tracker.get_slot("segmentations") or []) + [entry])]


class ActionSegmentImage(ImageRequest, Action):
    """Outline lesions on a brain MRI and send the overlay back with the lesion size."""

    missing_image = "utter_no_image_to_outline"

    def name(self) -> str:
        return "action_segment_image"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  image: dict[str, Any]) -> list[dict[str, Any]]:
        return await outline_lesion(dispatcher, tracker, image)
