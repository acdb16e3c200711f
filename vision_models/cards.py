"""Model cards: a Markdown summary written next to each bundle by the training command."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

from vision_models.bundle import BundleConfig

CARD_NAME = "MODEL_CARD.md"


def _metric_lines(metrics: dict[str, Any], indent: str = "") -> list[str]:
    lines = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            lines.append(f"{indent}- {key}:")
            lines += _metric_lines(value, indent + "  ")
        elif isinstance(value, float):
            lines.append(f"{indent}- {key}: {value:.4f}")
        else:
            lines.append(f"{indent}- {key}: {value}")
    return lines


def write_card(out_dir: Path, config: BundleConfig, title: str, summary: str, data: str, command: str,
               evaluate_command: str, notes_file: Path | None = None, date: str | None = None) -> Path:
    """Write ``MODEL_CARD.md`` with the data, commands, measured metrics and training record.

    ``notes_file`` (hand-written Markdown: intended use, limitations, architecture comparison)
    is appended verbatim when it exists.
    """
    training = config.extra.get("training", {})
    lines = [
        f"# {title}",
        "",
        summary,
        "",
        f"- Bundle: `{config.name}` version {config.version}, trained {date or _dt.date.today().isoformat()}",
        (f"- Architecture: `{config.architecture}` {json.dumps(config.params)}, "
         f"{config.extra.get('parameters', '?')} parameters"),
        (f"- Input: {config.channels} channel(s), {config.input_size}x{config.input_size}, "
         f"normalised (x - {config.mean}) / {config.std}"),
        f"- Weights: `{config.weights}` ({config.extra.get('weights_bytes', '?')} bytes), SHA-256 `{config.sha256}`",
        "",
        "## Data",
        "",
        data,
        "",
        "## Reproduce",
        "",
        "```",
        command,
        evaluate_command,
        "```",
        "",
        f"## Metrics (split `{config.metrics.get('split', '?')}`, n = {config.metrics.get('n', '?')})",
        "",
        *_metric_lines({k: v for k, v in config.metrics.items() if k not in ("split", "n")}),
        "",
        "## Training record",
        "",
        *_metric_lines(training),
        "",
    ]
    if notes_file is not None and notes_file.is_file():
        lines += [notes_file.read_text().rstrip(), ""]
    path = out_dir / CARD_NAME
    path.write_text("\n".join(lines))
    return path
