"""Messages the bot did not understand or cannot help with: never a dead end.

While the consent question is open, such a message hears the question again, with its buttons. Otherwise the
first one gets ``utter_default`` (what the patient can do), or ``utter_out_of_scope`` for a request outside
what the bot does. A second such message in a row gets ``utter_fallback_choices``: the choices as buttons,
talking to a person among them. A caption gets neither: that of an image just answered describes it ("my dad's
scan, he's 80") and needs no reply; for an image that was refused the patient hears that their question about it
was not answered (the refusal has just said why).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import caption_of, caption_of_refused_image

NOT_UNDERSTOOD = {"nlu_fallback": "utter_default", "out_of_scope": "utter_out_of_scope"}
# A patient still making up their mind ("hmm maybe", "not sure"), which the NLU may call out of scope.
UNSURE = re.compile(r"^\W*(?:(?:hmm+|um+|uh+|well|er+|ok)\W+)?(?:maybe|perhaps|possibly|not sure|i'?m not sure|unsure|"
                    r"i don'?t know|dunno|idk|let me think)\b", re.IGNORECASE)


def _intent(event: dict[str, Any]) -> str | None:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def fallbacks_in_a_row(events: list[dict[str, Any]]) -> int:
    """How many of the latest user messages, counting back from the newest, were not understood (or were
    out of scope)."""
    count = 0
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        if _intent(event) not in NOT_UNDERSTOOD:
            break
        count += 1
    return count


class ActionFallback(Action):
    """Say what the patient can do; after two such messages in a row, offer it as buttons."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if caption_of(tracker):  # a refused image's caption hears so; an accepted image's needs no reply
            caption_of_refused_image(tracker, dispatcher)
            return []
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        if tracker.get_slot("consent_given") is None:
            _ask_consent_again(dispatcher, tracker, intent)
            return []
        if fallbacks_in_a_row(tracker.events) >= 2:
            dispatcher.utter_message(response="utter_fallback_choices")
        else:
            dispatcher.utter_message(response=NOT_UNDERSTOOD.get(intent, "utter_default"))
        return []


def _ask_consent_again(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> None:
    """While the consent question is open, a message that fits nothing asks it again with its buttons (found
    chatting: "maybe" and "1" got the general choices, and the consent question never came back); a first
    message the bot did not understand gets the greeting and the question; "hmm maybe" is no request out of scope
    (found chatting: it heard "Sorry, I can only help with medical images")."""
    if not any(event.get("event") == "bot" for event in tracker.events):
        dispatcher.utter_message(response="utter_greet")
        dispatcher.utter_message(response="utter_explain_consent")
    elif intent == "out_of_scope" and not UNSURE.search(tracker.latest_message.get("text") or ""):
        # declined first ("what's the weather?"), then the question again
        dispatcher.utter_message(response="utter_out_of_scope")
    else:
        dispatcher.utter_message(response="utter_consent_pending")
    dispatcher.utter_message(response="utter_ask_consent")

