"""Messages that interrupt a form (an emergency, asking for a person): the form steps aside for their rule."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# Intents with their own rule inside each form (nlu_data/rules.yml), and the action that rule runs.
FORM_INTERRUPTIONS = {"emergency": "action_emergency", "talk_to_human": "action_handoff"}


def handled_since_last_message(tracker: Tracker, action: str) -> bool:
    """Whether ``action`` already ran for the latest user message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == action:
            return True
    return False


class InterruptibleForm:
    """Mixin for a ``FormValidationAction`` (listed before it): an interrupting intent rejects the form's
    execution, so that its rule runs, even when the message would also fill a slot; once that rule's action
    has run, the form goes on as usual (it asks its question again)."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Reject on an interrupting intent, else validate as usual."""
        handler = FORM_INTERRUPTIONS.get((tracker.latest_message.get("intent") or {}).get("name") or "")
        if handler and not handled_since_last_message(tracker, handler):
            return [ActionExecutionRejected(self.form_name())]  # type: ignore[attr-defined]
        return await super().run(dispatcher, tracker, domain)  # type: ignore[misc]
