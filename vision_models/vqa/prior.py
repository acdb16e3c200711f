"""The question-type prior over answers, p(answer | type), and its application at inference.

The matrix is counted from the training records: a question labelled with several types counts
once for each of them; each row is normalised to sum to one. A type without any training
question gets a uniform row (it rules nothing out). The answer-type prior p(answer | CLOSED/OPEN)
is built and applied the same way.

Application: ``final(a) ∝ model(a) · (Σ_t q(t) · prior[t, a]) ** β``, where ``q`` is a
question-type distribution (the caller's, or the model's own head) and the strength β (1 is the
plain prior, 0 only its support) is chosen on validation data. An answer never seen with any type
that has mass in ``q`` gets exactly zero probability.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch


def count_matrix(
    labels: Iterable[tuple[Sequence[str], str]], rows: Sequence[str], answers: Sequence[str]
) -> torch.Tensor:
    """Counts (len(rows), len(answers)) of (row labels, answer) pairs; unknown answers are skipped."""
    row_index = {name: i for i, name in enumerate(rows)}
    answer_index = {a: i for i, a in enumerate(answers)}
    counts = torch.zeros(len(rows), len(answers))
    for row_labels, answer in labels:
        col = answer_index.get(answer)
        if col is None:
            continue
        for label in set(row_labels):
            if label in row_index:
                counts[row_index[label], col] += 1
    return counts


def normalise_rows(counts: torch.Tensor) -> torch.Tensor:
    """Row-normalise counts into p(answer | row); empty rows become uniform."""
    totals = counts.sum(dim=1, keepdim=True)
    uniform = torch.full_like(counts, 1.0 / counts.shape[1])
    return torch.where(totals > 0, counts / totals.clamp(min=1e-12), uniform)


def prior_weights(q: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """Σ_t q(t)·prior[t] for a batch: q (B, T), prior (T, A) -> (B, A)."""
    return q @ prior


def apply_prior(log_probs: torch.Tensor, weights: torch.Tensor, power: float = 1.0) -> torch.Tensor:
    """Multiply probabilities by ``weights ** power`` in log space, without renormalising.

    A zero weight always gives -inf (an impossible answer keeps zero mass, whatever ``power``);
    ``power`` 1 is the plain prior, 0 keeps only its support (a mask).
    """
    positive = weights > 0
    log_weights = torch.log(torch.where(positive, weights, torch.ones_like(weights)))
    return torch.where(positive, log_probs + power * log_weights, torch.full_like(log_probs, float("-inf")))


def sparse_counts(counts: torch.Tensor, rows: Sequence[str]) -> dict[str, dict[str, int]]:
    """JSON-friendly form of a count matrix: {row: {answer index: count}} without zeros."""
    out: dict[str, dict[str, int]] = {}
    for i, name in enumerate(rows):
        nonzero = torch.nonzero(counts[i]).flatten().tolist()
        out[name] = {str(j): int(counts[i, j]) for j in nonzero}
    return out


def dense_counts(sparse: dict[str, dict[str, int]], rows: Sequence[str], n_answers: int) -> torch.Tensor:
    """Inverse of :func:`sparse_counts`."""
    counts = torch.zeros(len(rows), n_answers)
    for i, name in enumerate(rows):
        for j, value in sparse.get(name, {}).items():
            counts[i, int(j)] = float(value)
    return counts
