"""bot.minilm (numpy all-MiniLM-L6-v2) and bot.sentence_featurizer.MiniLMFeaturizer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from tokenizers import Tokenizer

from bot.minilm import EncoderError, SentenceEncoder, default_model_dir
from bot.sentence_featurizer import MiniLMFeaturizer

REFERENCE = Path(__file__).parent / "data" / "minilm_reference.json"
HIDDEN, HEADS, LAYERS = 8, 2, 2  # the tiny model of conftest.write_tiny_bert


def naive_embedding(folder: Path, text: str) -> np.ndarray:
    """Straightforward per-sentence BERT forward pass (loops over heads, exact erf GELU from scipy)."""
    from safetensors.numpy import load_file
    from scipy.special import erf

    w = load_file(str(folder / "model.safetensors"))
    ids = Tokenizer.from_file(str(folder / "tokenizer.json")).encode(text).ids

    def norm(x: np.ndarray, name: str) -> np.ndarray:
        x = x.astype(np.float64)
        return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-12) * w[name + ".weight"] \
            + w[name + ".bias"]

    def linear(x: np.ndarray, name: str) -> np.ndarray:
        return x @ w[name + ".weight"].T.astype(np.float64) + w[name + ".bias"]

    h = norm(w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:len(ids)]
             + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    size = HIDDEN // HEADS
    for layer in range(LAYERS):
        p = f"encoder.layer.{layer}."
        q, k, v = (linear(h, p + f"attention.self.{n}") for n in ("query", "key", "value"))
        heads = []
        for head in range(HEADS):
            cols = slice(head * size, (head + 1) * size)
            scores = q[:, cols] @ k[:, cols].T / np.sqrt(size)
            attention = np.exp(scores - scores.max(-1, keepdims=True))
            heads.append(attention / attention.sum(-1, keepdims=True) @ v[:, cols])
        h = norm(linear(np.concatenate(heads, 1), p + "attention.output.dense") + h, p + "attention.output.LayerNorm")
        inner = linear(h, p + "intermediate.dense")
        inner = 0.5 * inner * (1 + erf(inner / np.sqrt(2)))
        h = norm(linear(inner, p + "output.dense") + h, p + "output.LayerNorm")
    pooled = h.mean(0)
    return pooled / np.linalg.norm(pooled)


def test_forward_pass_matches_a_naive_implementation(tiny_model: Path) -> None:
    texts = ["is there a tumour?", "hello", "where is the lesion, how big is the mass?", "masses"]
    encoded = SentenceEncoder(tiny_model, batch_size=3).encode(texts)
    expected = np.stack([naive_embedding(tiny_model, text) for text in texts])
    assert encoded.shape == (4, HIDDEN) and encoded.dtype == np.float32
    np.testing.assert_allclose(encoded, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(encoded, axis=1), 1.0, atol=1e-6)


def test_padding_and_batching_do_not_change_embeddings(tiny_model: Path) -> None:
    texts = ["hello", "where is the lesion", "is there a big tumour or a mass there?", "hello"]
    alone = np.stack([SentenceEncoder(tiny_model, cache_size=0).encode([text])[0] for text in texts])
    batched = SentenceEncoder(tiny_model, batch_size=4, cache_size=0).encode(texts)
    np.testing.assert_allclose(batched, alone, atol=1e-6)
    assert SentenceEncoder(tiny_model).encode([]).shape == (0, HIDDEN)


def test_cache_returns_the_same_embeddings(tiny_model: Path) -> None:
    encoder = SentenceEncoder(tiny_model, cache_size=2)
    first = encoder.encode(["hello", "is there a mass"])
    np.testing.assert_array_equal(encoder.encode(["is there a mass", "hello"]), first[::-1])
    np.testing.assert_allclose(encoder.encode(["where", "hello", "how big"])[1], first[0], atol=1e-7)


def test_missing_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="model files missing"):
        SentenceEncoder(tmp_path)


def test_packaged_minilm_matches_sentence_transformers_reference() -> None:
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    encoded = SentenceEncoder(default_model_dir()).encode(reference["sentences"])
    np.testing.assert_allclose(encoded, np.asarray(reference["embeddings"]), atol=1e-5)


def test_featurizer_adds_sentence_features_only(tiny_model: Path, tmp_path: Path) -> None:
    config = {**MiniLMFeaturizer.get_default_config(), "model_dir": str(tiny_model)}
    featurizer = MiniLMFeaturizer.create(config, LocalModelStorage(tmp_path), Resource("minilm"),
                                         ExecutionContext(GraphSchema({}), "test"))
    messages = [Message(data={TEXT: "is there a tumour"}), Message(data={TEXT: ""}), Message(data={"intent": "greet"})]
    featurizer.process_training_data(TrainingData(messages))

    sequence, sentence = messages[0].get_dense_features(TEXT)
    assert sequence is None
    assert sentence.features.shape == (1, HIDDEN)
    np.testing.assert_allclose(sentence.features[0], SentenceEncoder(tiny_model).encode(["is there a tumour"])[0],
                               atol=1e-6)
    assert messages[1].get_dense_features(TEXT)[1].features.shape == (1, HIDDEN)
    assert messages[2].features == []
