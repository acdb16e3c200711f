"""SentenceEmbeddingIntentClassifier: train / persist / load / process on messages with made-up sentence features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.intent_classifier import MissingSentenceFeaturesError, SentenceEmbeddingIntentClassifier

CENTRES = {"greet": np.array([1.0, 0.0, 0.0]), "goodbye": np.array([0.0, 1.0, 0.0]), "thank": np.array([0.0, 0.0, 1.0])}


def message(text: str, vector: np.ndarray | None, intent: str | None = None) -> Message:
    """A message whose text has ``vector`` as its dense sentence feature."""
    result = Message(data={TEXT: text, **({"intent": intent} if intent else {})})
    if vector is not None:
        result.add_features(Features(vector[None, :], "sentence", TEXT, "test_featurizer"))
    return result


def training_data(seed: int = 0) -> TrainingData:
    rng = np.random.default_rng(seed)
    return TrainingData([message(f"{intent} {index}", centre + rng.normal(0, 0.1, 3), intent)
                         for intent, centre in CENTRES.items() for index in range(6)])


def component(tmp_path: Path, resource: str = "intents", **config: object) -> SentenceEmbeddingIntentClassifier:
    storage = LocalModelStorage(tmp_path)
    return SentenceEmbeddingIntentClassifier.create({**SentenceEmbeddingIntentClassifier.get_default_config(),
                                                     **config}, storage, Resource(resource),
                                                    ExecutionContext(GraphSchema({}), "test"))


def test_round_trip_sets_intent_and_ranking(tmp_path: Path) -> None:
    trained = component(tmp_path, ranking_length=2)
    resource = trained.train(training_data())
    loaded = SentenceEmbeddingIntentClassifier.load(
        {**SentenceEmbeddingIntentClassifier.get_default_config(), "ranking_length": 2}, LocalModelStorage(tmp_path),
        resource, ExecutionContext(GraphSchema({}), "test"))
    probes = [message("hello", np.array([0.9, 0.1, 0.0])), message("bye", np.array([0.0, 1.1, 0.1])),
              message("no features", None)]
    loaded.process(probes)

    assert [probe.get("intent", {}).get("name") for probe in probes] == ["greet", "goodbye", None]
    ranking = probes[0].get("intent_ranking")
    assert len(ranking) == 2 and ranking[0] == probes[0].get("intent")
    assert ranking[0]["confidence"] > 0.5 > ranking[1]["confidence"]
    assert "intent" in probes[0].as_dict(only_output_properties=True)


def test_training_without_sentence_features_explains_the_fix(tmp_path: Path) -> None:
    data = TrainingData([message("hi", None, "greet"), message("bye", None, "goodbye")])
    with pytest.raises(MissingSentenceFeaturesError, match="MiniLMFeaturizer"):
        component(tmp_path).train(data)


def test_untrained_component_classifies_nothing(tmp_path: Path) -> None:
    loaded = SentenceEmbeddingIntentClassifier.load(SentenceEmbeddingIntentClassifier.get_default_config(),
                                                    LocalModelStorage(tmp_path), Resource("never_trained"),
                                                    ExecutionContext(GraphSchema({}), "test"))
    probe = message("hello", np.array([1.0, 0.0, 0.0]))
    loaded.process([probe])
    assert probe.get("intent") is None
