"""Question-type classification inside the Rasa NLU pipeline.

:class:`QuestionTypeClassifier` is a Rasa 3 graph component that learns VQA-RAD's eleven question types from a
dedicated training file (committed Rasa NLU YAML with retrieval intents ``question_type/<TYPE>``, produced by
``scripts/convert_question_types.py``) and adds to every parsed message::

    message["question_types"] = {"name": "PRES", "confidence": 0.91,
                                 "ranking": [{"name": "PRES", "confidence": 0.91}, ... all 11 types ...]}

and, when the message asks several questions (:func:`qaid.question_types.question_spans`), each one's span and
types: ``"parts": [{"start": 0, "end": 38, "name", "confidence", "ranking"}, ...]``.

The question corpus is read from ``data_paths`` (not from the NLU training data) so that thousands of image
questions do not flood the intent classifier; :meth:`QuestionTypeClassifier.fingerprint_addon` hashes those
files so that ``rasa train`` retrains the component whenever they change.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.persistence import persist, restore
from bot.question_type_model import QuestionTypeModel
from qaid.question_types import QUESTION_TYPES, question_spans

logger = logging.getLogger(__name__)

QUESTION_TYPES_KEY = "question_types"
_MODEL_FILE = "question_type_model.joblib"


class QuestionTypeDataError(ValueError):
    """The question-type training data is missing or unusable."""


def find_data_files(paths: list[str], base_dir: Path | None = None) -> list[Path]:
    """Expand files and folders (relative to ``base_dir``, default: the working directory) into sorted YAML files."""
    base_dir = base_dir or Path.cwd()
    files: list[Path] = []
    for entry in paths:
        path = Path(entry) if Path(entry).is_absolute() else base_dir / entry
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise QuestionTypeDataError(f"question-type data path {path} does not exist")
    if not files:
        raise QuestionTypeDataError(f"no .yml files found in question-type data paths {paths}")
    return files


def load_examples(files: list[Path], retrieval_intent: str) -> tuple[list[str], list[str]]:
    """Read ``<retrieval_intent>/<TYPE>`` examples from Rasa NLU files -> (texts, types)."""
    texts: list[str] = []
    labels: list[str] = []
    prefix = f"{retrieval_intent}/"
    for file in files:
        data = load_data(str(file))
        for example in data.intent_examples:
            key = example.get(INTENT_RESPONSE_KEY) or ""
            if not key.startswith(prefix):
                continue
            label = key[len(prefix):]
            if label not in QUESTION_TYPES:
                raise QuestionTypeDataError(f"{file}: unknown question type {label!r}; known: {QUESTION_TYPES}")
            texts.append(example.get(TEXT))
            labels.append(label)
    if not texts:
        raise QuestionTypeDataError(f"no '{prefix}<TYPE>' examples in {[str(f) for f in files]}")
    return texts, labels


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class QuestionTypeClassifier(GraphComponent):
    """Adds a ranked distribution over the eleven VQA-RAD question types to every message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Defaults; ``data_paths`` are relative to the directory ``rasa train`` runs in (the project root)."""
        return {
            "data_paths": ["nlu_data/question_types"],
            "retrieval_intent": "question_type",
            **QuestionTypeModel.default_params(),
        }

    @staticmethod
    def required_packages() -> list[str]:
        """The classifier is a scikit-learn pipeline."""
        return ["sklearn"]

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Hash the external training files so that editing them triggers retraining."""
        try:
            files = find_data_files(list(config.get("data_paths", cls.get_default_config()["data_paths"])))
        except QuestionTypeDataError:
            return None
        digest = hashlib.sha256()
        for file in files:
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
        return digest.hexdigest()

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: QuestionTypeModel | None = None,
    ) -> None:
        """Store the configuration and an optional already-trained model."""
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> QuestionTypeClassifier:
        """Create an untrained component."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the classifier on the question-type files and persist it (the NLU ``training_data`` is not used)."""
        files = find_data_files(list(self._config["data_paths"]))
        texts, labels = load_examples(files, self._config["retrieval_intent"])
        logger.info("Training question types on %d questions from %d file(s).", len(texts), len(files))
        self._model = QuestionTypeModel.from_params(self._config).fit(texts, labels)
        return persist(self._model_storage, self._resource, _MODEL_FILE, self._model)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> QuestionTypeClassifier:
        """Load the persisted classifier; an untrained component (no resource) classifies nothing."""
        model = restore(model_storage, resource, _MODEL_FILE,
                        "No trained question-type model found for %s; messages get no question types.")
        return cls(config, model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        """Add ``question_types`` (name, confidence, full ranking; ``parts`` for several questions) to each message
        with text."""
        if self._model is None:
            return messages
        texts = [message.get(TEXT) or "" for message in messages]
        with_text = [index for index, text in enumerate(texts) if text.strip()]
        if not with_text:
            return messages
        probabilities = self._model.predict_proba([texts[index] for index in with_text])
        for index, row in zip(with_text, probabilities):
            types = distribution(self._model.classes, row)
            spans = question_spans(texts[index])
            if spans:
                parts = self._model.predict_proba([texts[index][start:end] for start, end in spans])
                types["parts"] = [{"start": start, "end": end, **distribution(self._model.classes, part)}
                                  for (start, end), part in zip(spans, parts)]
            messages[index].set(QUESTION_TYPES_KEY, types, add_to_output=True)
        return messages


def distribution(classes: list[str], probabilities: np.ndarray) -> dict[str, Any]:
    """Build the contract's ``{"name", "confidence", "ranking"}`` dict, ranking sorted by confidence (desc)."""
    ranking: list[dict[str, Any]] = sorted(
        ({"name": name, "confidence": float(probability)} for name, probability in zip(classes, probabilities)),
        key=lambda item: (-item["confidence"], QUESTION_TYPES.index(item["name"])),
    )
    return {"name": ranking[0]["name"], "confidence": ranking[0]["confidence"], "ranking": ranking}
