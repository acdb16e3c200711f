"""Red flags in the Rasa NLU pipeline: every message, in every state, is checked for a current emergency.

:class:`RedFlagDetector` runs last (after the ``FallbackClassifier``). A red flag is found by the patterns of
:func:`qaid.red_flags.red_flag` (named, neither negated nor in the past) or, when none matched, by the learned
classifier of :mod:`bot.red_flag_classifier` on the MiniLM embedding of what the message reports now
(:func:`qaid.red_flags.reported_text`). Then the message's intent becomes ``emergency`` whatever the intent
classifier said (an intake-form answer, an image caption, a hospital choice), so the emergency rules run in any
state, and the message carries ``red_flag`` (the flag's name, or ``qaid.red_flags.DESCRIBED_EMERGENCY``) for the action
(``actions.consultation.ActionEmergency`` marks the consultation urgent) and the transcript. A message the
intent classifier alone calls ``emergency`` keeps that intent: the patient hears when to call, and the
consultation is not marked urgent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.intent_classifier import sentence_features
from bot.minilm import shared_encoder
from bot.red_flag_classifier import MODEL_FILE, detect, load_classifier
from qaid.red_flags import RED_FLAG_KEY

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
        """``classifier``: the trained classifier's file (``bot/red_flag_classifier.py`` writes it), or null
        for the patterns alone; the patterns live in :mod:`qaid.red_flags`. ``model_dir``: the sentence
        encoder's folder, the ``MiniLMFeaturizer``'s (null: the packaged model)."""
        return {"classifier": str(MODEL_FILE), "model_dir": None}

    def __init__(self, classifier_file: str | None, model_dir: str | None = None) -> None:
        """Load the classifier, when one is configured; ``model_dir`` is the sentence encoder's (None: the
        packaged one, as for ``MiniLMFeaturizer``)."""
        self._classifier = load_classifier(Path(classifier_file)) if classifier_file else None
        self._model_dir = model_dir

    def _encode(self, text: str) -> np.ndarray:
        """The sentence embedding of the part of a message that reports something now."""
        return shared_encoder(self._model_dir).encode([text])[0]

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> RedFlagDetector:
        """Create the component."""
        return cls(config.get("classifier"), config.get("model_dir"))

    def process(self, messages: list[Message]) -> list[Message]:
        """Mark each message that reports a current red flag as an emergency."""
        for message in messages:
            flag = detect(message.get(TEXT) or "", sentence_features(message), self._classifier, self._encode)
            if flag is not None:
                mark_emergency(message, flag)
        return messages
