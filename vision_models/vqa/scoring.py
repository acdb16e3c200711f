"""From network outputs to the final answer distribution: mechanism mix, priors, temperature."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vision_models.vqa.network import VQANet
from vision_models.vqa.prior import apply_prior, prior_weights


@dataclass
class PriorTables:
    """Row-normalised p(answer | question type) (T, A), p(answer | CLOSED/OPEN) (2, A), strength β."""

    question_type: torch.Tensor
    answer_type: torch.Tensor
    power: float = 1.0


def final_log_probs(
    net: VQANet,
    outputs: dict[str, torch.Tensor],
    priors: PriorTables,
    q: torch.Tensor | None = None,
    use_prior: bool = True,
    only_mechanism: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised log p(answer) (B, A) and the type distribution q used (B, T).

    ``q`` replaces the model's type head when given (rows must sum to one). The mechanisms are
    mixed with weights from ``q``; with ``use_prior`` the result is multiplied by
    ``(Σ_t q(t) prior[t]) ** β`` and by the answer-type prior under the model's CLOSED/OPEN head.
    """
    q_used = q if q is not None else torch.softmax(outputs["type_logits"], dim=-1)
    log_probs = net.mixed_log_probs(outputs["answer_logits"], q_used, only_mechanism)
    if use_prior:
        closed_open = torch.softmax(outputs["answer_type_logits"], dim=-1)
        weighted = apply_prior(log_probs, prior_weights(q_used, priors.question_type), priors.power)
        weighted = apply_prior(weighted, prior_weights(closed_open, priors.answer_type), priors.power)
        usable = torch.isfinite(weighted).any(dim=-1, keepdim=True)
        log_probs = torch.where(usable, weighted, log_probs)
    return torch.log_softmax(log_probs, dim=-1), q_used


def calibrated(log_probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """Temperature-scaled probabilities (zero-probability answers stay at zero)."""
    return torch.softmax(log_probs / temperature, dim=-1)
