"""Helpers shared by the actions: reading the tracker the same way everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.responses import say

ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3}


def now_iso() -> str:
    """Current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def metadata(tracker: Tracker) -> dict[str, Any]:
    """Metadata the channel attached to the latest user message."""
    return dict(tracker.latest_message.get("metadata") or {})


def images(tracker: Tracker) -> list[dict[str, Any]]:
    """Images of this conversation, oldest first."""
    return list(tracker.get_slot("images") or [])


def referenced_image(tracker: Tracker) -> dict[str, Any] | None:
    """The image a question refers to: the latest unless the text names another ("first image", "previous")."""
    stored = images(tracker)
    if not stored:
        return None
    text = (tracker.latest_message.get("text") or "").lower()
    if "previous" in text or "earlier" in text or "last one" in text:
        return stored[-2] if len(stored) > 1 else stored[-1]
    for word, index in ORDINALS.items():
        if f"{word} image" in text or f"{word} scan" in text or f"{word} picture" in text:
            return stored[index] if index < len(stored) else stored[-1]
    return stored[-1]


def question_type_distribution(tracker: Tracker) -> dict[str, float] | None:
    """Rasa NLU's question-type distribution for the latest message, as {type: probability}."""
    return _distribution(tracker.latest_message.get("question_types") or {})


def _distribution(types: dict[str, Any]) -> dict[str, float] | None:
    """{type: probability} from a ``question_types`` ranking (qaid/CONTRACTS.md), or None when it has none."""
    ranking = types.get("ranking") or []
    return {entry["name"]: float(entry["confidence"]) for entry in ranking if "name" in entry} or None


def question_request(tracker: Tracker) -> dict[str, Any]:
    """The latest message as a question to answer: its text, question types and entities, and ``parts`` (each
    question's ``start``, ``end`` and ``question_types``) when it asks several."""
    parsed = tracker.latest_message.get("question_types") or {}
    parts = [{"start": int(part["start"]), "end": int(part["end"]), "question_types": _distribution(part)}
             for part in parsed.get("parts") or []]
    return {"text": tracker.latest_message.get("text") or "", "question_types": question_type_distribution(tracker),
            "entities": tracker.latest_message.get("entities") or [], "parts": parts}


def patient_location(tracker: Tracker) -> dict[str, float] | None:
    """The patient's coordinates when known."""
    lat, lon = tracker.get_slot("latitude"), tracker.get_slot("longitude")
    if lat is None or lon is None:
        return None
    return {"latitude": float(lat), "longitude": float(lon)}


def ensure_consent(tracker: Tracker, dispatcher: CollectingDispatcher) -> bool:
    """True when the patient consented; otherwise explain why nothing is processed."""
    consent = tracker.get_slot("consent_given")
    if consent is True:
        return True
    if consent is False:
        say(dispatcher, "utter_consent_refused_reminder")
    else:
        dispatcher.utter_message(response="utter_explain_consent")
        dispatcher.utter_message(response="utter_ask_consent")
    return False


def hold_until_consent(tracker: Tracker, dispatcher: CollectingDispatcher, action: str) -> list[dict[str, Any]] | None:
    """While the consent question about a waiting image is open, keep this request (the image's caption, say)
    for ``action`` to answer once the patient agrees; None when there is nothing to wait for."""
    if tracker.get_slot("consent_given") is not None or not tracker.get_slot("pending_image"):
        return None
    request = {"action": action, **question_request(tracker)}
    say(dispatcher, "utter_caption_held")
    if not caption_of(tracker):  # the image's own caption: its reply has just asked
        dispatcher.utter_message(response="utter_ask_consent")
    return [SlotSet("pending_request", request)]


def caption_of(tracker: Tracker) -> str | None:
    """The sha256 of the image whose caption this message is (``caption_of``, qaid/contracts.py), else None."""
    return metadata(tracker).get("caption_of")


def caption_of_refused_image(tracker: Tracker, dispatcher: CollectingDispatcher) -> bool:
    """True, after saying so, when this message is the caption of an image that was not accepted: answering it
    about an older image would mislead."""
    digest = caption_of(tracker)
    if not digest or any(digest in (record.get("upload_sha256"), record.get("sha256")) for record in images(tracker)):
        return False
    say(dispatcher, "utter_caption_not_answered")
    return True


def consented_image(tracker: Tracker, dispatcher: CollectingDispatcher, missing: str) -> dict[str, Any] | None:
    """The image a request refers to, once consent is given; otherwise say why (``missing``: the response
    for no image yet)."""
    if not ensure_consent(tracker, dispatcher):
        return None
    image = referenced_image(tracker)
    if image is None:
        say(dispatcher, missing)
    return image


class ImageRequest:
    """A request about the patient's current image (a question, an outline): it waits for consent, ignores the
    caption of an image that was refused, and says so when there is no image yet; else :meth:`act` runs.

    A mixin rather than an ``Action`` so that rasa-sdk registers only the concrete subclasses, which name
    ``missing_image``, the response for "no image yet".
    """

    missing_image = ""

    def name(self) -> str:
        raise NotImplementedError

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        held = hold_until_consent(tracker, dispatcher, self.name())
        if held is not None:
            return held
        if caption_of_refused_image(tracker, dispatcher):
            return []
        answered = self.without_image(dispatcher, tracker)
        if answered is not None:
            return answered
        image = consented_image(tracker, dispatcher, self.missing_image)
        if image is None:
            return []
        return await self.act(dispatcher, tracker, image)

    def without_image(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]] | None:
        """The events of a request that needs no image (a question for the doctor), or None to go on."""
        return None

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  image: dict[str, Any]) -> list[dict[str, Any]]:
        """What the request does with ``image`` (a record of the ``images`` slot)."""
        raise NotImplementedError
