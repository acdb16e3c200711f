"""Probability calibration: temperature scaling and the abstention threshold."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature``."""
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels: Sequence[int] | np.ndarray, steps: int = 200) -> float:
    """Temperature minimising the negative log-likelihood of ``labels`` (Guo et al. 2017)."""
    x = torch.as_tensor(logits, dtype=torch.float64)
    y = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=0.1, max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = F.cross_entropy(x / log_t.exp(), y)
        loss.backward()
        return loss

    optimiser.step(closure)
    return float(log_t.detach().exp().clamp(0.05, 20.0))


def choose_threshold(probabilities: np.ndarray, labels: Sequence[int] | np.ndarray, target_accuracy: float,
                     floor: float) -> float:
    """Lowest confidence threshold (not below ``floor``) whose accepted predictions reach ``target_accuracy``.

    Predictions with top probability below the threshold are answered "unsure". When no threshold
    reaches the target, the one with the best accepted accuracy is returned.
    """
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    candidates = np.unique(np.concatenate([[floor], confidence[confidence >= floor]]))
    best, best_accuracy = float(candidates[-1]), -1.0
    for threshold in candidates:
        accepted = confidence >= threshold
        if not accepted.any():
            continue
        acc = float(correct[accepted].mean())
        if acc >= target_accuracy:
            return float(threshold)
        if acc > best_accuracy:
            best, best_accuracy = float(threshold), acc
    return best
