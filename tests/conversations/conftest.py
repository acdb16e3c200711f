"""Prints the conversation suite's pass rate per property (``results/conversations.json``) after the run."""

from __future__ import annotations

import json
from pathlib import Path

REPORT = Path(__file__).resolve().parents[2] / "results" / "conversations.json"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001 (pytest's hook)
    """Show the report the suite wrote, if it ran."""
    if REPORT.exists():
        terminalreporter.write_sep("-", "conversation suite: pass rate per property")
        for prop, figures in json.loads(REPORT.read_text(encoding="utf-8")).items():
            rate = f"{figures['rate']:.1%}" if "rate" in figures else ""
            terminalreporter.write_line(f"{prop:20s} {figures['passed']:4d} / {figures['checked']:4d}  {rate}")
