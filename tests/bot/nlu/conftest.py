"""Shared fixtures of the NLU component tests: a tiny random BERT sentence encoder in the Hugging Face layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file
from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece

WORDS = ["is", "there", "a", "tumour", "where", "the", "lesion", "how", "big", "?", "##s", "mass", "hello"]
HIDDEN, HEADS, LAYERS, INTERMEDIATE = 8, 2, 2, 16  # test_nlu_minilm.py relies on these


def write_tiny_bert(folder: Path, seed: int = 0) -> Path:
    """A random 2-layer BERT with a 17-token WordPiece vocabulary, in the Hugging Face file layout."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {token: index for index, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *WORDS])}
    tokenizer = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "config.json").write_text(json.dumps({
        "hidden_size": HIDDEN, "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
        "intermediate_size": INTERMEDIATE, "hidden_act": "gelu", "layer_norm_eps": 1e-12}), encoding="utf-8")
    rng = np.random.default_rng(seed)

    def tensor(*shape: int) -> np.ndarray:
        return rng.normal(0.0, 0.5, shape).astype(np.float32)

    weights = {"embeddings.word_embeddings.weight": tensor(len(vocab), HIDDEN),
               "embeddings.position_embeddings.weight": tensor(64, HIDDEN),
               "embeddings.token_type_embeddings.weight": tensor(2, HIDDEN),
               "embeddings.LayerNorm.weight": 1 + tensor(HIDDEN), "embeddings.LayerNorm.bias": tensor(HIDDEN)}
    for layer in range(LAYERS):
        prefix = f"encoder.layer.{layer}."
        shapes = {"attention.self.query": (HIDDEN, HIDDEN), "attention.self.key": (HIDDEN, HIDDEN),
                  "attention.self.value": (HIDDEN, HIDDEN), "attention.output.dense": (HIDDEN, HIDDEN),
                  "intermediate.dense": (INTERMEDIATE, HIDDEN), "output.dense": (HIDDEN, INTERMEDIATE)}
        for name, shape in shapes.items():
            weights[f"{prefix}{name}.weight"] = tensor(*shape)
            weights[f"{prefix}{name}.bias"] = tensor(shape[0])
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            weights[f"{prefix}{norm}.weight"] = 1 + tensor(HIDDEN)
            weights[f"{prefix}{norm}.bias"] = tensor(HIDDEN)
    save_file(weights, str(folder / "model.safetensors"))
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny random BERT (config.json, tokenizer.json, model.safetensors)."""
    return write_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))
