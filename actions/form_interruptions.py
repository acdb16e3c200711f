"""Messages that interrupt a form (an emergency, asking for a person, stopping, an image or a question about
one): the form steps aside for their rule (nlu_data/rules.yml), which then goes on with the form or ends it."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# Intents with their own rule inside each form, and the first action that rule runs. A message with one of them
# fills no form slot from its text (domain.yml: ``not_intent``), so an image sent at the age question is screened
# and labelled instead of being read as a wrong age, and "cancel" stops the step instead of being asked again.
FORM_INTERRUPTIONS = {
    "emergency": "action_emergency",
    "talk_to_human": "action_handoff",
    "cancel": "utter_step_stopped",
    "delete_my_data": "action_deactivate_loop",  # the step ends, then "are you sure?"
    "send_image": "action_process_image",
    "ask_image_question": "action_answer_question",
    "ask_segmentation": "action_segment_image",
}
IMAGE_QUESTIONS = {"ask_image_question", "ask_segmentation"}
# Intents that answer a slot's question instead of interrupting: an image question is a reason for the
# consultation, and at the hospital step a hospital's name is at times read as an image question.
ANSWERS_TO = {"chief_complaint": IMAGE_QUESTIONS, "chosen_hospitals": IMAGE_QUESTIONS,
              "send_confirmed": IMAGE_QUESTIONS}


def interruption(tracker: Tracker) -> str | None:
    """The action whose rule the latest message calls for inside a form, or None when it answers the form."""
    intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
    if intent in ANSWERS_TO.get(tracker.get_slot("requested_slot") or "", set()):
        return None
    return FORM_INTERRUPTIONS.get(intent)


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
        handler = interruption(tracker)
        if handler and not handled_since_last_message(tracker, handler):
            return [ActionExecutionRejected(self.form_name())]  # type: ignore[attr-defined]
        return await super().run(dispatcher, tracker, domain)  # type: ignore[misc]
