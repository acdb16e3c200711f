"""Intent classification by logistic regression on dense sentence embeddings.

:class:`SentenceEmbeddingIntentClassifier` reads the dense *sentence* features of each message's text (in
config.yml: the all-MiniLM-L6-v2 embedding from ``bot.sentence_featurizer.MiniLMFeaturizer``) and predicts the
intent with a multinomial logistic regression. With ~20 examples per intent it generalised much better than DIET's
intent head fed the same embedding, in ``rasa test nlu --cross-validation --folds 5`` on the training data (figures:
results/nlu-cv/ from ``make test-nlu-cv``); entities come from the spaCy ruler and a CRF (config.yml). Its
probabilities are well spread, so FallbackClassifier's threshold keeps its meaning (Rasa's
SklearnIntentClassifier, an SVM with Platt scaling, put a fifth of ordinary messages below 0.4).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.linear_model import LogisticRegression

from bot.persistence import persist, restore

logger = logging.getLogger(__name__)

_MODEL_FILE = "intent_classifier.joblib"


class MissingSentenceFeaturesError(ValueError):
    """Training examples carry no dense sentence features (no dense featurizer before this component)."""


def sentence_features(message: Message) -> np.ndarray | None:
    """The message text's dense sentence feature vector, or None when it has none."""
    _, sentence = message.get_dense_features(TEXT)
    return None if sentence is None else np.asarray(sentence.features, dtype=np.float64).reshape(-1)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SentenceEmbeddingIntentClassifier(GraphComponent, IntentClassifier):
    """Logistic regression over dense sentence features; sets ``intent`` and ``intent_ranking``."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``c`` (inverse regularisation) was chosen by 5-fold CV on the training data; ``ranking_length``: how
        many intents ``intent_ranking`` lists (0: all)."""
        return {"c": 100.0, "max_iter": 5000, "ranking_length": 10}

    @staticmethod
    def required_packages() -> list[str]:
        """A scikit-learn model."""
        return ["sklearn"]

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 classifier: LogisticRegression | None = None) -> None:
        """Store the configuration and an optional trained classifier."""
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._classifier = classifier

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SentenceEmbeddingIntentClassifier:
        """Create an untrained classifier."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit on the intent examples' sentence features and persist."""
        examples = [example for example in training_data.intent_examples if example.get(TEXT) is not None]
        features = [sentence_features(example) for example in examples]
        if not examples or any(vector is None for vector in features):
            raise MissingSentenceFeaturesError(
                "SentenceEmbeddingIntentClassifier needs dense sentence features for every intent example: put "
                "bot.sentence_featurizer.MiniLMFeaturizer before it in the pipeline")
        labels = [example.get(INTENT) for example in examples]
        if len(set(labels)) < 2:
            raise ValueError("need examples of at least two intents")
        self._classifier = LogisticRegression(C=self._config["c"], max_iter=self._config["max_iter"])
        self._classifier.fit(np.stack([f for f in features if f is not None]), labels)
        logger.info("Trained the intent classifier on %d examples of %d intents.", len(labels), len(set(labels)))
        return persist(self._model_storage, self._resource, _MODEL_FILE, self._classifier)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> SentenceEmbeddingIntentClassifier:
        """Load the persisted classifier; without one (not trained) messages get no intent from it."""
        classifier = restore(model_storage, resource, _MODEL_FILE,
                             "No trained intent classifier found for %s; it will not classify.")
        return cls(config, model_storage, resource, classifier)

    def process(self, messages: list[Message]) -> list[Message]:
        """Set ``intent`` (name, confidence) and ``intent_ranking`` on every message with sentence features."""
        if self._classifier is None:
            return messages
        pairs = [(message, sentence_features(message)) for message in messages]
        indexed = [(message, vector) for message, vector in pairs if vector is not None]
        if not indexed:
            return messages
        probabilities = self._classifier.predict_proba(np.stack([vector for _, vector in indexed]))
        names = list(self._classifier.classes_)
        length = self._config["ranking_length"] or len(names)
        for (message, _), row in zip(indexed, probabilities):
            ranking = [{INTENT_NAME_KEY: names[index], PREDICTED_CONFIDENCE_KEY: float(row[index])}
                       for index in np.argsort(-row, kind="stable")[:length]]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
