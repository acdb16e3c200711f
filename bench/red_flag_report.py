"""Red-flag report: how often the bot gives emergency advice on true red flags and on ordinary messages.

Files under ``tests/red_flags/``: ``dev*_*`` (the patterns were tuned on them; the classifier of
``bot.red_flag_classifier`` is trained on them with ``nlu_data/red_flags/``; ``dev2_*`` to ``dev7_*`` were
held-out sets, each scored once before it was tuned on) and ``heldout7_*`` (written 2026-12-07 by a helper that
had not seen the detector or the other files, not tuned on); bench/README.md has the history.
``*_red_flags.yml`` are current emergencies in many phrasings; ``*_ordinary.yml`` are mild, chronic, negated
and past complaints, image questions, figurative speech and intake-form answers that must not raise one. Run
from the repository root::

    .venv-models/bin/python bench/red_flag_report.py                  # the patterns alone (any interpreter)
    PYTHONPATH=. .venv-rasa/bin/python bench/red_flag_report.py --classifier   # patterns + classifier
    PYTHONPATH=. .venv-rasa/bin/python bench/red_flag_report.py --model models/qaid.tar.gz

Figures per file:

* ``urgent``: share of messages with a current red flag (:func:`qaid.red_flags.red_flag`, with
  ``--classifier`` :func:`bot.red_flag_classifier.detect`): the bot tells the patient to call emergency
  services now and marks the consultation urgent. Recall on ``*_red_flags``
  (target: all), false-alarm rate on ``*_ordinary`` (target: at most 2%).
* with ``--model``, ``emergency_intent``: share the trained Rasa NLU pipeline (the detector included) parses as
  ``emergency``; those without a red flag get the softer "call if ..." safety-net sentence instead of advice.

``misses`` lists the messages that went the wrong way (missed red flags, false alarms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bot.red_flag_classifier import DEV_SETS
from qaid.red_flags import red_flag
from qaid.state import REPO_ROOT

Detector = Callable[[list[str]], list["str | None"]]

DATA = REPO_ROOT / "tests" / "red_flags"
FILES = tuple(f"{name}_{kind}" for name in (*DEV_SETS, "heldout7") for kind in ("red_flags", "ordinary"))


def load_messages(name: str) -> list[dict[str, str]]:
    """The ``messages`` (text, kind) of ``tests/red_flags/<name>.yml``."""
    return yaml.safe_load((DATA / f"{name}.yml").read_text(encoding="utf-8"))["messages"]


async def parse_intents(model: Path, texts: list[str]) -> list[str]:
    """The intent the trained Rasa model gives each text."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [(await agent.parse_message(text))["intent"]["name"] for text in texts]


def patterns(texts: list[str]) -> list[str | None]:
    """The patterns alone."""
    return [red_flag(text) for text in texts]


def patterns_and_classifier(texts: list[str]) -> list[str | None]:
    """What the NLU pipeline's ``RedFlagDetector`` decides: patterns, then the classifier (Rasa environment)."""
    from bot.minilm import shared_encoder
    from bot.red_flag_classifier import detect, load_classifier

    classifier, encoder = load_classifier(), shared_encoder()
    return [detect(text, vector, classifier, lambda part: encoder.encode([part])[0])
            for text, vector in zip(texts, encoder.encode(texts))]


def report(name: str, intents: list[str] | None, detector: Detector = patterns) -> dict[str, Any]:
    """Figures for one file; ``intents`` from the Rasa model, when given."""
    messages = load_messages(name)
    flags = detector([m["text"] for m in messages])
    wants_flag = name.endswith("red_flags")
    result: dict[str, Any] = {
        "messages": len(messages),
        "urgent": round(sum(flag is not None for flag in flags) / len(messages), 4),
        "misses": [f"[{m['kind']}] {m['text']}" + ("" if wants_flag else f" -> {flag}")
                   for m, flag in zip(messages, flags) if (flag is not None) != wants_flag],
    }
    if intents is not None:
        result["emergency_intent"] = round(sum(i == "emergency" for i in intents) / len(messages), 4)
    return result


def main() -> None:
    """Print the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="a trained Rasa model (needs the Rasa environment)")
    parser.add_argument("--classifier", action="store_true", help="patterns + classifier (Rasa environment)")
    parser.add_argument("--no-misses", action="store_true", help="figures only")
    parser.add_argument("--files", nargs="+", default=list(FILES), choices=FILES)
    args = parser.parse_args()
    results = {}
    for name in args.files:
        intents = None
        if args.model:
            intents = asyncio.run(parse_intents(args.model, [m["text"] for m in load_messages(name)]))
        results[name] = report(name, intents, patterns_and_classifier if args.classifier else patterns)
        if args.no_misses:
            results[name].pop("misses")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
