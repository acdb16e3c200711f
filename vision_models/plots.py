"""Figures for model cards (matplotlib, headless)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def save_confusion_matrix(cm: np.ndarray, classes: Sequence[str], path: Path, title: str) -> Path:
    """Row-normalised confusion matrix with counts, rows = true class, columns = predicted."""
    rates = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(classes), 0.8 + 0.7 * len(classes)))
    ax.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(len(classes)):
        for j in range(len(classes)):
            if cm[i, j]:
                ax.text(j, i, str(int(cm[i, j])), ha="center", va="center",
                        color="white" if rates[i, j] > 0.5 else "black", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def save_reliability_diagram(curves: dict[str, Sequence[dict[str, float]]], path: Path, title: str) -> Path:
    """Accuracy against mean confidence per confidence bin (rows of ``metrics.reliability_bins``), one line
    per curve, with the diagonal of perfect calibration; marker area grows with the bin's sample count."""
    fig, ax = plt.subplots(figsize=(5.2, 5.0))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    for name, rows in curves.items():
        x = [row["confidence"] for row in rows]
        y = [row["accuracy"] for row in rows]
        sizes = 10 + 190 * np.sqrt(np.asarray([row["count"] for row in rows], dtype=float) / max(
            1, max((row["count"] for row in rows), default=1)))
        ax.plot(x, y, marker=None, linewidth=1.2)
        ax.scatter(x, y, s=sizes, alpha=0.7, label=name)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence shown (mean per bin)")
    ax.set_ylabel("accuracy (share of answers right)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
