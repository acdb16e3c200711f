"""The NLU pipeline's last component makes any message that reports a current red flag an emergency."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message

from bot.red_flag_classifier import MODEL_FILE, load_classifier
from bot.red_flags import RedFlagDetector
from qaid.red_flags import DESCRIBED_EMERGENCY, RED_FLAG_KEY

ALARMING = np.eye(4)[0]  # the direction a fake classifier calls an emergency
CALM = np.eye(4)[1]


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
    message = RedFlagDetector(None).process([parsed(text, intent)])[0]
    assert message.get(INTENT) == {"name": "emergency", "confidence": 1.0}
    names = [entry["name"] for entry in message.get(INTENT_RANKING_KEY)]
    assert names == ["emergency", intent]
    assert message.get(RED_FLAG_KEY) == flag
    assert RED_FLAG_KEY in message.as_dict_nlu()


@pytest.mark.parametrize("text", ["no chest pain, just a mild cough", "I had a stroke 5 years ago", "45"])
def test_negated_past_and_ordinary_messages_keep_their_intent(text: str) -> None:
    message = RedFlagDetector(None).process([parsed(text, "describe_symptoms")])[0]
    assert message.get(INTENT)["name"] == "describe_symptoms"
    assert message.get(RED_FLAG_KEY) is None


@pytest.fixture
def fake_classifier(tmp_path: Path) -> str:
    """A classifier file whose model flags :data:`ALARMING` embeddings (probability 0.99) and not others."""
    path = tmp_path / "red_flag_classifier.json"
    path.write_text(json.dumps({"weights": [10.0, 0.0, 0.0, 0.0], "bias": -5.0, "threshold": 0.5}))
    return str(path)


def embedded(text: str, embedding: np.ndarray) -> Message:
    """A parsed message carrying ``embedding`` as its dense sentence feature (what MiniLMFeaturizer adds)."""
    message = parsed(text, "describe_symptoms")
    message.add_features(Features(embedding[None, :], FEATURE_TYPE_SENTENCE, TEXT, "MiniLMFeaturizer"))
    return message


def test_the_classifier_flags_an_emergency_no_pattern_names(fake_classifier: str) -> None:
    message = RedFlagDetector(fake_classifier).process([embedded("he's gone grey and won't answer me", ALARMING)])[0]
    assert message.get(INTENT)["name"] == "emergency" and message.get(RED_FLAG_KEY) == DESCRIBED_EMERGENCY
    calm = RedFlagDetector(fake_classifier).process([embedded("he's gone grey and won't answer me", CALM)])[0]
    assert calm.get(INTENT)["name"] == "describe_symptoms" and calm.get(RED_FLAG_KEY) is None


@pytest.mark.parametrize("text", ["what should I do if he goes grey and won't answer?", "I'm not grey at all",
                                  "he went grey and silent years ago", "this traffic is killing me lol"])
def test_the_classifier_is_not_asked_about_questions_denials_the_past_or_jokes(fake_classifier: str,
                                                                              text: str) -> None:
    message = RedFlagDetector(fake_classifier).process([embedded(text, ALARMING)])[0]
    assert message.get(RED_FLAG_KEY) is None


def test_a_named_red_flag_keeps_its_name(fake_classifier: str) -> None:
    message = RedFlagDetector(fake_classifier).process([embedded("crushing chest pain", ALARMING)])[0]
    assert message.get(RED_FLAG_KEY) == "chest pain"


def test_the_committed_classifier_matches_the_encoder() -> None:
    """The shipped weights fit all-MiniLM-L6-v2's 384 dimensions and carry a cross-validated threshold."""
    classifier = load_classifier(MODEL_FILE)
    assert classifier.weights.shape == (384,) and 0.5 <= classifier.threshold < 1.0


def test_the_classifier_reads_only_what_is_reported_now(fake_classifier: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A denied part is left out: the rest is embedded again, and that embedding decides."""
    text = "no fever, he's gone grey and won't answer me"
    detector = RedFlagDetector(fake_classifier)
    read: list[str] = []
    monkeypatch.setattr(detector, "_encode", lambda part: read.append(part) or CALM)
    assert detector.process([embedded(text, ALARMING)])[0].get(RED_FLAG_KEY) is None
    assert read == ["he's gone grey and won't answer me"]
    monkeypatch.setattr(detector, "_encode", lambda part: ALARMING)
    assert detector.process([embedded(text, CALM)])[0].get(RED_FLAG_KEY) == DESCRIBED_EMERGENCY


def test_a_message_that_calls_itself_mild_is_not_asked(fake_classifier: str) -> None:
    message = RedFlagDetector(fake_classifier).process(
        [embedded("my period pain is bad this month but it's the usual", ALARMING)])[0]
    assert message.get(RED_FLAG_KEY) is None and message.get(INTENT)["name"] == "describe_symptoms"


@pytest.mark.parametrize("text", ["good morning my grandson set this up for me",
                                  "helo my grandson set this up for me i dont no how it works"])
def test_the_committed_classifier_does_not_alarm_someone_new_to_the_app(text: str) -> None:
    """Found chatting: an elderly patient's first message was told to call the emergency number and the
    hospital got an urgent case; the classifier now trains on such first messages."""
    from bot.minilm import shared_encoder
    from bot.red_flag_classifier import detect

    encode = shared_encoder().encode
    assert detect(text, encode([text])[0], load_classifier(MODEL_FILE), lambda kept: encode([kept])[0]) is None
