"""The NLU pipeline's last component makes any message that reports a current red flag an emergency."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.red_flags import RedFlagDetector
from qaid.red_flags import RED_FLAG_KEY


def parsed(text: str, intent: str) -> Message:
    """A message as the classifiers left it: ``intent`` first, ``emergency`` second in the ranking."""
    ranking = [{"name": intent, "confidence": 0.8}, {"name": "emergency", "confidence": 0.1}]
    return Message(data={TEXT: text, INTENT: ranking[0], INTENT_RANKING_KEY: ranking})


@pytest.mark.parametrize("text, intent, flag", [
    ("my dad collapsed and won't wake up", "describe_symptoms", "loss of consciousness"),
    ("crushing chest pain since an hour", "give_location", "chest pain"),
    ("is this normal? I can't breathe properly", "ask_image_question", "trouble breathing"),
])
def test_a_current_red_flag_becomes_an_emergency_in_any_state(text: str, intent: str, flag: str) -> None:
    message = RedFlagDetector().process([parsed(text, intent)])[0]
    assert message.get(INTENT) == {"name": "emergency", "confidence": 1.0}
    names = [entry["name"] for entry in message.get(INTENT_RANKING_KEY)]
    assert names == ["emergency", intent]
    assert message.get(RED_FLAG_KEY) == flag
    assert RED_FLAG_KEY in message.as_dict_nlu()


@pytest.mark.parametrize("text", ["no chest pain, just a mild cough", "I had a stroke 5 years ago", "45"])
def test_negated_past_and_ordinary_messages_keep_their_intent(text: str) -> None:
    message = RedFlagDetector().process([parsed(text, "describe_symptoms")])[0]
    assert message.get(INTENT)["name"] == "describe_symptoms"
    assert message.get(RED_FLAG_KEY) is None
