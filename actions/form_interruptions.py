"""Messages that interrupt a form (an emergency, asking for a person): the form steps aside for their rule."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# Intents with their own rule inside each form (nlu_data/rules.yml).
FORM_INTERRUPTIONS = frozenset({"emergency", "talk_to_human"})


class InterruptibleForm:
    """Mixin for a ``FormValidationAction`` (listed before it): an interrupting intent rejects the form's
    execution, so that its rule runs (and the form asks again afterwards), even when the message would also
    fill a slot."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Reject on an interrupting intent, else validate as usual."""
        if (tracker.latest_message.get("intent") or {}).get("name") in FORM_INTERRUPTIONS:
            return [ActionExecutionRejected(self.form_name())]  # type: ignore[attr-defined]
        return await super().run(dispatcher, tracker, domain)  # type: ignore[misc]
