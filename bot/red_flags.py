"""Red flags in the Rasa NLU pipeline: every message, in every state, is checked for a current emergency.

:class:`RedFlagDetector` runs last (after the ``FallbackClassifier``). When :func:`qaid.red_flags.red_flag`
finds a red flag that is neither negated nor in the past, the message's intent becomes ``emergency`` whatever
the classifier said (an intake-form answer, an image caption, a hospital choice), so the emergency rules run
in any state, and the message carries ``red_flag`` (the flag's name) for the action and the transcript.
A message the classifier alone calls ``emergency`` keeps that intent: the patient hears when to call, and the
consultation is not marked urgent (``actions.consultation.ActionEmergency``).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from qaid.red_flags import RED_FLAG_KEY, red_flag

EMERGENCY_INTENT = "emergency"


def mark_emergency(message: Message, flag: str) -> None:
    """Make ``emergency`` the message's intent (confidence 1) and record which red flag raised it."""
    top = {INTENT_NAME_KEY: EMERGENCY_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [entry for entry in message.get(INTENT_RANKING_KEY) or []
               if entry.get(INTENT_NAME_KEY) != EMERGENCY_INTENT]
    message.set(INTENT, top, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)
    message.set(RED_FLAG_KEY, flag, add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RedFlagDetector(GraphComponent):
    """Overrides the intent with ``emergency`` when a message reports a current red flag."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """No options: the red-flag patterns live in :mod:`qaid.red_flags`."""
        return {}

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> RedFlagDetector:
        """Create the component."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Mark each message that reports a current red flag as an emergency."""
        for message in messages:
            flag = red_flag(message.get(TEXT) or "")
            if flag is not None:
                mark_emergency(message, flag)
        return messages
