"""Messages the bot did not understand: never a dead end.

The first one gets ``utter_default`` (what the patient can do). A second in a row gets
``utter_fallback_choices``: the same choices as buttons, talking to a person among them.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

FALLBACK_INTENT = "nlu_fallback"


def fallbacks_in_a_row(events: list[dict[str, Any]]) -> int:
    """How many of the latest user messages, counting back from the newest, were not understood."""
    count = 0
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") != FALLBACK_INTENT:
            break
        count += 1
    return count


class ActionFallback(Action):
    """Say what the patient can do; after two misunderstood messages in a row, offer it as buttons."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        repeated = fallbacks_in_a_row(tracker.events) >= 2
        dispatcher.utter_message(response="utter_fallback_choices" if repeated else "utter_default")
        return []
