"""Batch prediction over records, accuracy reports, temperature fitting and the abstention threshold."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from qaid.question_types import QUESTION_TYPES
from vision_models.vqa.data import VQARecord, load_image_stack
from vision_models.vqa.model import VQAModel

TARGET_SELECTIVE_ACCURACY = 0.85
TEMPERATURES = tuple(round(0.25 + 0.05 * i, 2) for i in range(96))


def true_type_distribution(records: Sequence[VQARecord]) -> torch.Tensor:
    """Uniform distribution over each record's labelled types (N, T)."""
    q = torch.zeros(len(records), len(QUESTION_TYPES))
    for i, record in enumerate(records):
        for name in record.types:
            q[i, QUESTION_TYPES.index(name)] = 1.0
    return q / q.sum(dim=1, keepdim=True)


def image_pixels(
    records: Sequence[VQARecord], size: int, cache_dir: Path | None = None
) -> tuple[torch.Tensor, list[int]]:
    """Float (N, 1, S, S) pixels of the records' distinct images and each record's image index."""
    paths = sorted({r.image for r in records})
    index = {p: i for i, p in enumerate(paths)}
    stack = load_image_stack(paths, size, cache_dir)
    return torch.from_numpy(stack).float().div(255.0)[:, None], [index[r.image] for r in records]


def predict_records(
    model: VQAModel,
    records: Sequence[VQARecord],
    pixels: torch.Tensor,
    image_index: Sequence[int],
    prior: str = "model",
    only_mechanism: int | None = None,
    batch_size: int = 256,
    progress: bool = False,
    use_memory: bool = True,
) -> torch.Tensor:
    """Calibrated probabilities (N, A) for ``records``.

    ``prior`` is ``model`` (the type head's q), ``true`` (the records' labelled types) or ``none``;
    ``use_memory`` false leaves the case memory (if the bundle has one) out.
    """
    if prior not in ("model", "true", "none"):
        raise ValueError(f"prior must be model, true or none, not {prior!r}")
    q_all = true_type_distribution(records) if prior == "true" else None
    out = []
    starts = range(0, len(records), batch_size)
    for start in tqdm(starts, desc="predict", unit="batch", disable=not progress, leave=False):
        chunk = list(range(start, min(start + batch_size, len(records))))
        used = sorted({image_index[i] for i in chunk})
        local = {g: j for j, g in enumerate(used)}
        probs, _ = model.score(
            pixels[used],
            torch.tensor([local[image_index[i]] for i in chunk]),
            [records[i].question for i in chunk],
            q=None if q_all is None else q_all[chunk],
            use_prior=prior != "none",
            only_mechanism=only_mechanism,
            use_memory=use_memory,
        )
        out.append(probs)
    return torch.cat(out)


def _accuracy(hits: list[bool]) -> float | None:
    return round(100.0 * sum(hits) / len(hits), 2) if hits else None


def accuracy_report(
    records: Sequence[VQARecord], answers: Sequence[str], probs: torch.Tensor, threshold: float
) -> dict[str, Any]:
    """Exact-match accuracy (%) overall, OPEN, CLOSED and per question type, plus abstention figures."""
    confidence, best = probs.max(dim=1)
    hits = [answers[int(b)] == r.answer for b, r in zip(best, records)]
    answered = (confidence >= threshold).tolist()
    by_type: dict[str, list[bool]] = defaultdict(list)
    for hit, record in zip(hits, records):
        for name in record.types:
            by_type[name].append(hit)
    kept = [h for h, a in zip(hits, answered) if a]
    return {
        "overall": _accuracy(hits),
        "open": _accuracy([h for h, r in zip(hits, records) if r.answer_type == "OPEN"]),
        "closed": _accuracy([h for h, r in zip(hits, records) if r.answer_type == "CLOSED"]),
        "count": len(records),
        "count_open": sum(r.answer_type == "OPEN" for r in records),
        "count_closed": sum(r.answer_type == "CLOSED" for r in records),
        "by_type": {name: _accuracy(by_type[name]) for name in QUESTION_TYPES if by_type[name]},
        "coverage": _accuracy(answered),
        "answered_accuracy": _accuracy(kept),
    }


def fit_temperature(log_probs: torch.Tensor, targets: torch.Tensor) -> float:
    """Temperature minimising the validation NLL (grid search; targets < 0 or impossible are skipped)."""
    known = targets >= 0
    log_probs, targets = log_probs[known], targets[known]
    target_lp = log_probs.gather(1, targets[:, None]).squeeze(1)
    finite = torch.isfinite(target_lp)
    log_probs, targets = log_probs[finite], targets[finite]
    best, best_nll = 1.0, float("inf")
    for t in TEMPERATURES:
        nll = float(torch.nn.functional.cross_entropy(log_probs.clamp(min=-1e4) / t, targets))
        if nll < best_nll:
            best, best_nll = t, nll
    return best


def choose_threshold(confidence: np.ndarray, correct: np.ndarray, target: float = TARGET_SELECTIVE_ACCURACY) -> float:
    """Smallest confidence threshold whose answered questions reach ``target`` accuracy on validation."""
    for threshold in np.arange(0.0, 1.0, 0.01):
        kept = confidence >= threshold
        if kept.sum() == 0:
            break
        if correct[kept].mean() >= target:
            return round(float(threshold), 2)
    return 0.99
