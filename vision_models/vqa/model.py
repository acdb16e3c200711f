"""Inference API: :class:`VQAModel` answers questions about images and lists insights on upload."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import torch

from qaid.question_types import QUESTION_TYPES
from vision_models.bundle import BundleConfig, load_bundle
from vision_models.imaging import ImageSource, load_image, to_tensor_array
from vision_models.networks import network_from_config
from vision_models.vqa.memory import MemorySettings, fingerprints, mix_with_memory
from vision_models.vqa.network import VQANet
from vision_models.vqa.prior import dense_counts, normalise_rows
from vision_models.vqa.qtypes import ANSWER_TYPES
from vision_models.vqa.scoring import PriorTables, calibrated, final_log_probs
from vision_models.vqa.sentence import SentenceEncoder, encoder_for
from vision_models.vqa.text import Vocabulary

MAX_QUESTION_CHARS = 500
ENCODED_IMAGES = 64  # images whose encodings a model keeps (VQAModel.encoded)
INSIGHT_QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("abnormal", "Is this image abnormal?", "ABN"),
    ("organ", "Which part of the body does this image show?", "ORGAN"),
    ("modality", "What modality is used to take this image?", "MODALITY"),
    ("plane", "In which plane is this image taken?", "PLANE"),
)


class QuestionError(ValueError):
    """A question (or question-type distribution) that cannot be answered; the message says why."""


@dataclass(frozen=True)
class VQAResult:
    """An answer with its calibrated confidence, the top 3, the question type used and abstention."""

    answer: str
    confidence: float
    top3: list[tuple[str, float]]
    question_type: str
    question_type_source: str
    abstained: bool


@dataclass(frozen=True)
class Finding:
    """One insight on upload (``key`` is abnormal, organ, modality or plane)."""

    key: str
    question: str
    answer: str
    confidence: float
    abstained: bool


def validate_question(question: object) -> str:
    """Return the stripped question or raise :class:`QuestionError`."""
    if not isinstance(question, str):
        raise QuestionError(f"The question must be text, not {type(question).__name__}.")
    text = question.strip()
    if not text:
        raise QuestionError("The question is empty; please ask something about the image.")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"The question is {len(text)} characters long; please keep it under {MAX_QUESTION_CHARS} characters."
        )
    return text


def type_distribution(question_types: Mapping[str, float]) -> torch.Tensor:
    """A normalised distribution over :data:`QUESTION_TYPES` from ``{name: confidence}``."""
    if not isinstance(question_types, Mapping) or not question_types:
        raise QuestionError("question_types must be a non-empty mapping {type name: confidence}.")
    q = torch.zeros(len(QUESTION_TYPES))
    for name, value in question_types.items():
        if name not in QUESTION_TYPES:
            raise QuestionError(f"Unknown question type {name!r}; expected one of {', '.join(QUESTION_TYPES)}.")
        if not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
            raise QuestionError(f"The confidence of question type {name} must be a number >= 0, not {value!r}.")
        q[QUESTION_TYPES.index(name)] = float(value)
    if float(q.sum()) <= 0:
        raise QuestionError("The question-type confidences sum to zero.")
    return q / q.sum()


def encode_questions(vocab: Vocabulary, questions: Sequence[str], max_tokens: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded token indices (B, T) and lengths (B,)."""
    encoded = [vocab.encode(q, max_tokens) for q in questions]
    tokens = torch.zeros(len(encoded), max(len(e) for e in encoded), dtype=torch.long)
    for i, ids in enumerate(encoded):
        tokens[i, : len(ids)] = torch.tensor(ids)
    return tokens, torch.tensor([len(e) for e in encoded])


class VQAModel:
    """A trained VQA bundle ready to answer; thread-safe (one lock around the forward pass).

    A bundle with a case memory also needs the sentence encoder it recorded (verified by checksum);
    ``sentences`` replaces it (tests pass a tiny one).
    """

    def __init__(self, net: VQANet, config: BundleConfig, sentences: SentenceEncoder | None = None) -> None:
        extra = config.extra
        self.net = net.eval()
        self.config = config
        self.vocab = Vocabulary(extra["vocabulary"][2:])
        self.answers: list[str] = list(extra["answers"])
        n = len(self.answers)
        self.priors = PriorTables(
            question_type=normalise_rows(dense_counts(extra["type_prior_counts"], QUESTION_TYPES, n)),
            answer_type=normalise_rows(dense_counts(extra["answer_type_prior_counts"], ANSWER_TYPES, n)),
            power=float(extra.get("prior_power", 1.0)),
        )
        self.temperature = float(extra["temperature"])
        self.threshold = float(extra["abstain_threshold"])
        self.max_tokens = int(extra["max_tokens"])
        self.image_size = config.input_size
        settings = extra.get("memory", {}).get("settings")
        self.memory_settings = MemorySettings(**settings) if settings else None
        self.sentences = sentences
        if self.uses_memory and sentences is None:
            self.sentences = encoder_for(extra["memory"]["sentence_encoder"])
        self._lock = threading.Lock()
        self._encoded: OrderedDict[bytes, tuple[torch.Tensor, torch.Tensor]] = OrderedDict()

    @property
    def uses_memory(self) -> bool:
        """Whether answers mix in the case memory (a bundle with stored cases and settings)."""
        return self.memory_settings is not None and self.net.memory is not None and len(self.net.memory) > 0

    @classmethod
    def load(cls, location: Path | str, sentences: SentenceEncoder | None = None) -> VQAModel:
        """Load and verify a bundle folder (or URL) written by ``python -m vision_models train vqa``."""
        bundle = load_bundle(location, network_from_config)
        return cls(cast(VQANet, bundle.network), bundle.config, sentences)

    def pixels(self, image: ImageSource) -> torch.Tensor:
        """The (1, S, S) network input of an image (raises ``ImageError`` for non-images)."""
        return torch.from_numpy(to_tensor_array(load_image(image), self.image_size, 1))

    def encoded(self, images: Sequence[ImageSource]) -> tuple[torch.Tensor, torch.Tensor]:
        """The network inputs (N, 1, S, S) and region encodings (N, R, D) of ``images``.

        A patient asks several questions about one image, and the first look asks four more: images given as
        bytes are decoded and encoded once, then served from a small cache keyed by their digest (the last
        :data:`ENCODED_IMAGES` per model).
        """
        keys = [hashlib.sha256(image).digest() if isinstance(image, bytes) else None for image in images]
        with self._lock:
            rows = [self._encoded.get(key) if key is not None else None for key in keys]
            for key, row in zip(keys, rows):
                if key is not None and row is not None:
                    self._encoded.move_to_end(key)
        missing = [i for i, row in enumerate(rows) if row is None]
        if missing:
            pixels = torch.stack([self.pixels(images[i]) for i in missing])
            with self._lock, torch.inference_mode():
                regions, _ = self.net.encode_images(pixels, reconstruct=False)
                for index, i in enumerate(missing):
                    rows[i] = (pixels[index], regions[index])
                    key = keys[i]
                    if key is not None:  # a copy: a row of the batch would keep the whole batch alive
                        self._encoded[key] = (pixels[index].clone(), regions[index].clone())
                while len(self._encoded) > ENCODED_IMAGES:
                    self._encoded.popitem(last=False)
        known = [row for row in rows if row is not None]
        return torch.stack([pixel for pixel, _ in known]), torch.stack([region for _, region in known])

    def score(
        self,
        pixels: torch.Tensor,
        image_index: torch.Tensor,
        questions: Sequence[str],
        q: torch.Tensor | None = None,
        use_prior: bool = True,
        only_mechanism: int | None = None,
        use_memory: bool = True,
        regions: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Calibrated answer probabilities (B, A) and the type distribution used (B, T).

        ``pixels`` is (N, 1, S, S), ``image_index`` maps each question to its image; rows of ``q``
        that are NaN fall back to the model's own type head. The case memory (when the bundle has
        one and ``use_memory``) is mixed in before the temperature. ``regions`` are the images' encodings
        when the caller has them (:meth:`encoded`); otherwise they are computed.
        """
        tokens, lengths = encode_questions(self.vocab, questions, self.max_tokens)
        recall = self._recall(pixels, image_index, questions) if use_memory and self.uses_memory else None
        with self._lock, torch.inference_mode():
            if regions is None:
                regions, _ = self.net.encode_images(pixels, reconstruct=False)
            outputs = self.net(regions, image_index, tokens, lengths)
            own = torch.softmax(outputs["type_logits"], dim=-1)
            q_used = own if q is None else torch.where(torch.isnan(q), own, q)
            log_probs, q_used = final_log_probs(self.net, outputs, self.priors, q_used, use_prior, only_mechanism)
            if recall is not None:
                log_probs = self._with_memory(log_probs, outputs, *recall)
        return calibrated(log_probs, self.temperature), q_used

    def _recall(self, pixels: torch.Tensor, image_index: torch.Tensor,
                questions: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
        """Fingerprints and question embeddings of the queries whose image resembles a stored case.

        Questions about images unlike any case are not encoded (the memory would not answer them).
        """
        memory, settings, sentences = self.net.memory, self.memory_settings, self.sentences
        if memory is None or settings is None or sentences is None:
            return None
        with torch.inference_mode():
            keys = fingerprints(pixels)[image_index]
            rows = memory.matching(keys, settings)
        if rows.numel() == 0:
            return None
        return rows, keys[rows], sentences.encode([questions[int(i)] for i in rows])

    def _with_memory(self, log_probs: torch.Tensor, outputs: dict[str, torch.Tensor], rows: torch.Tensor,
                     keys: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        probs = torch.exp(log_probs[rows])
        closed = torch.softmax(outputs["answer_type_logits"][rows], dim=-1)[:, ANSWER_TYPES.index("CLOSED")]
        memory, settings = self.net.memory, self.memory_settings
        if memory is None or settings is None:
            return log_probs
        memory_probs, weight = memory.distribution(keys, embeddings, closed, probs > 0, settings)
        mixed = log_probs.clone()
        mixed[rows] = torch.log(mix_with_memory(probs, memory_probs, weight))
        return mixed

    def _result(self, probs: torch.Tensor, q: torch.Tensor, source: str) -> VQAResult:
        top = torch.topk(probs, k=min(3, probs.shape[0]))
        top3 = [(self.answers[i], round(float(p), 4)) for p, i in zip(top.values.tolist(), top.indices.tolist())]
        confidence = float(top.values[0])
        return VQAResult(
            answer=top3[0][0],
            confidence=round(confidence, 4),
            top3=top3,
            question_type=QUESTION_TYPES[int(torch.argmax(q))],
            question_type_source=source,
            abstained=confidence < self.threshold,
        )

    def answer(
        self, image: ImageSource, question: str, question_types: Mapping[str, float] | None = None
    ) -> VQAResult:
        """Answer one question about one image; ``question_types`` is the caller's {type: confidence}."""
        return self.answer_batch([image], [question], [question_types])[0]

    def answer_batch(
        self,
        images: Sequence[ImageSource],
        questions: Sequence[str],
        question_types: Sequence[Mapping[str, float] | None] | None = None,
    ) -> list[VQAResult]:
        """Answer ``questions[i]`` about ``images[i]`` in one forward pass."""
        if len(images) != len(questions):
            raise QuestionError(f"Got {len(images)} images but {len(questions)} questions.")
        if not questions:
            return []
        types = list(question_types) if question_types is not None else [None] * len(questions)
        if len(types) != len(questions):
            raise QuestionError(f"Got {len(types)} question-type distributions for {len(questions)} questions.")
        texts = [validate_question(q) for q in questions]
        q = torch.full((len(texts), len(QUESTION_TYPES)), float("nan"))
        for i, given in enumerate(types):
            if given is not None:
                q[i] = type_distribution(given)
        pixels, regions = self.encoded(images)
        probs, q_used = self.score(pixels, torch.arange(len(texts)), texts, q, regions=regions)
        return [
            self._result(probs[i], q_used[i], "model" if types[i] is None else "caller") for i in range(len(texts))
        ]

    def insights(self, image: ImageSource) -> list[Finding]:
        """Abnormal? Which organ? Which modality? Which plane? — answered together in one batch."""
        return self.insights_batch([image])[0]

    def insights_batch(self, images: Sequence[ImageSource]) -> list[list[Finding]]:
        """:meth:`insights` of several images in one forward pass (concurrent uploads served together)."""
        if not images:
            return []
        pixels, regions = self.encoded(images)
        kinds = [QUESTION_TYPES.index(kind) for _, _, kind in INSIGHT_QUESTIONS]
        per_image = len(INSIGHT_QUESTIONS)
        q = torch.zeros(len(images) * per_image, len(QUESTION_TYPES))
        q[torch.arange(len(q)), torch.tensor(kinds * len(images))] = 1.0
        questions = [text for _, text, _ in INSIGHT_QUESTIONS] * len(images)
        image_index = torch.arange(len(images)).repeat_interleave(per_image)
        probs, q_used = self.score(pixels, image_index, questions, q, regions=regions)
        findings: list[list[Finding]] = []
        for n in range(len(images)):
            rows = []
            for i, (key, text, _) in enumerate(INSIGHT_QUESTIONS):
                result = self._result(probs[n * per_image + i], q_used[n * per_image + i], "caller")
                rows.append(Finding(key, text, result.answer, result.confidence, result.abstained))
            findings.append(rows)
        return findings
