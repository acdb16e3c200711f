"""Case memory: the answers given to similar questions about the same or a very similar image.

Each stored case is a training question: its image's fingerprint, its sentence embedding, its
answer and its answer type. For a query (image, question), case ``i`` gets the weight

    w_i = exp((s_img - 1) / width) · max(s_q, 0) ** sharpness

                · p(answer type of case i | query)

where ``s_img`` is the cosine similarity of the image fingerprints (32×32 thumbnails, mean-centred),
``s_q`` that of the questions' sentence embeddings, and the last factor the network's CLOSED/OPEN
head (a "where" case does not answer an "is there" question); cases with an image weight below
:data:`MIN_IMAGE_WEIGHT` are ignored.
The memory's answer distribution is ``p_mem(a) ∝ Σ_i w_i [answer_i = a]`` restricted to the answers the
network's prior allows; it is mixed into the network's distribution with the weight
``c = min(1, strength · max_i exp((s_img - 1) / width) · s_q · p(type_i))``, so an exact image with a paraphrased
question dominates and an unknown image leaves the network's answer alone.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

FINGERPRINT_SIZE = 32
MIN_IMAGE_WEIGHT = 0.01


@dataclass(frozen=True)
class MemorySettings:
    """How strongly the memory answers (chosen on validation data, stored in the bundle)."""

    sharpness: float = 8.0
    strength: float = 1.0
    width: float = 0.05

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fingerprints(pixels: torch.Tensor) -> torch.Tensor:
    """Unit-norm, mean-centred 32×32 thumbnails (N, 1024) of (N, 1, S, S) images in [0, 1]."""
    thumbs = F.adaptive_avg_pool2d(pixels.float(), FINGERPRINT_SIZE).flatten(1)
    return F.normalize(thumbs - thumbs.mean(dim=1, keepdim=True), dim=1, eps=1e-6)


class CaseMemory(nn.Module):
    """The stored cases as buffers, so they travel (and are checksummed) with the network's weights.

    Buffers start empty; :meth:`fill` stores cases and loading a state dict takes its shapes.
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("image_keys", torch.zeros(0, FINGERPRINT_SIZE ** 2, dtype=torch.float16))
        self.register_buffer("case_image", torch.zeros(0, dtype=torch.long))
        self.register_buffer("case_questions", torch.zeros(0, 0, dtype=torch.float16))
        self.register_buffer("case_answers", torch.zeros(0, dtype=torch.long))
        self.register_buffer("case_closed", torch.zeros(0, dtype=torch.bool))
        self._float: tuple[torch.Tensor, torch.Tensor] | None = None

    def _float_keys(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Float32 copies of the stored fingerprints and question embeddings, made once."""
        if self._float is None:
            self._float = (self.image_keys.float(), self.case_questions.float())
        return self._float

    def image_weights(self, image_keys: torch.Tensor, settings: MemorySettings) -> torch.Tensor:
        """``exp((s_img - 1) / width)`` of every (query, case) pair (B, N)."""
        image_sim = image_keys.float() @ self._float_keys()[0].T
        return torch.exp((image_sim - 1.0) / settings.width)[:, self.case_image]

    def matching(self, image_keys: torch.Tensor, settings: MemorySettings) -> torch.Tensor:
        """Indices of the queries whose image resembles at least one stored case's image enough to count."""
        if len(self) == 0:
            return torch.zeros(0, dtype=torch.long)
        return torch.nonzero((self.image_weights(image_keys, settings) >= MIN_IMAGE_WEIGHT).any(dim=1)).flatten()

    def __len__(self) -> int:
        return int(self.case_answers.shape[0])

    def fill(self, image_keys: torch.Tensor, case_image: torch.Tensor, case_questions: torch.Tensor,
             case_answers: torch.Tensor, case_closed: torch.Tensor) -> None:
        """Store cases: fingerprints (M, 1024) of M images, and per case its image index, question
        embedding (N, D), answer index and whether it is a CLOSED question."""
        n = len(case_image)
        if not (len(case_questions) == len(case_answers) == len(case_closed) == n):
            raise ValueError("Every case needs an image, a question embedding, an answer and an answer type.")
        if n and int(case_image.max()) >= len(image_keys):
            raise ValueError("A case refers to an image without a fingerprint.")
        self.image_keys = image_keys.detach().to(torch.float16)
        self.case_image = case_image.detach().long()
        self.case_questions = case_questions.detach().to(torch.float16)
        self.case_answers = case_answers.detach().long()
        self.case_closed = case_closed.detach().bool()
        self._float = None

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        for name, _ in list(self.named_buffers(recurse=False)):
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name]))
        self._float = None
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def distribution(
        self,
        image_keys: torch.Tensor,
        questions: torch.Tensor,
        closed: torch.Tensor,
        support: torch.Tensor,
        settings: MemorySettings,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The memory's answer distribution (B, A) and its mixing weight (B,) for B queries.

        ``image_keys`` (B, 1024) are the queries' fingerprints, ``questions`` (B, D) their embeddings,
        ``closed`` (B,) the probability that each is a CLOSED question, ``support`` (B, A) the answers allowed.
        """
        batch, n_answers = support.shape
        if len(self) == 0:
            return torch.zeros(batch, n_answers), torch.zeros(batch)
        image_weight = self.image_weights(image_keys, settings)
        question_sim = (questions.float() @ self._float_keys()[1].T).clamp(min=0.0)
        type_weight = torch.where(self.case_closed[None, :], closed[:, None], 1.0 - closed[:, None])
        usable = image_weight >= MIN_IMAGE_WEIGHT
        weights = torch.where(usable, image_weight * type_weight * question_sim ** settings.sharpness, torch.zeros(()))
        votes = torch.zeros(batch, n_answers).index_add_(1, self.case_answers, weights) * support
        totals = votes.sum(dim=1, keepdim=True)
        match = torch.where(usable, image_weight * type_weight * question_sim, torch.zeros(())).max(dim=1).values
        mix = torch.where(totals.squeeze(1) > 0, (settings.strength * match).clamp(max=1.0), torch.zeros(()))
        return votes / totals.clamp(min=math.ulp(1.0)), mix


def mix_with_memory(probs: torch.Tensor, memory_probs: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``(1 - c)·p_net + c·p_mem`` row by row."""
    return (1.0 - weight[:, None]) * probs + weight[:, None] * memory_probs
