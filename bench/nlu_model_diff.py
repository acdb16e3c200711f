"""Whether two trained Rasa models read messages the same (issue 20: a pipeline change meant to save time only).

Parses every message text in the repo's NLU data, red-flag files, test stories and conversation suite with both
models and counts those whose intent, intent confidence (to six decimals), entities or question types differ.
Printed as JSON, with up to 20 differing texts.

``python bench/nlu_model_diff.py BEFORE.tar.gz AFTER.tar.gz`` (run with the Rasa interpreter, a few minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import structlog
import yaml
from rasa.core.agent import Agent

ROOT = Path(__file__).resolve().parents[1]
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def _nlu_texts(path: Path) -> Iterator[str]:
    for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
        if "intent" in block:
            for line in str(block.get("examples", "")).splitlines():
                yield ANNOTATION.sub(r"\1", line.strip().removeprefix("- "))


def _values(node: Any, key: str) -> Iterator[str]:
    """Every string under ``key`` anywhere in a parsed YAML document."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key and isinstance(value, str):
                yield ANNOTATION.sub(r"\1", value)
            else:
                yield from _values(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from _values(item, key)


def texts() -> list[str]:
    """The distinct message texts of the NLU data, red-flag files, test stories and conversations."""
    found = set(_nlu_texts(ROOT / "nlu_data" / "nlu.yml"))
    for path in sorted((ROOT / "tests" / "red_flags").glob("*.yml")):
        found |= set(_values(yaml.safe_load(path.read_text(encoding="utf-8")), "text"))
    for path in [ROOT / "tests" / "test_stories.yml", *sorted((ROOT / "tests" / "conversations").glob("*.yml"))]:
        found |= set(_values(yaml.safe_load(path.read_text(encoding="utf-8")), "user"))
    return sorted(text.strip() for text in found if text.strip())


def reading(parsed: dict[str, Any]) -> tuple[Any, ...]:
    """What a parse says of a message: intent, confidence (6 decimals), entities, question types."""
    return (parsed["intent"]["name"], round(float(parsed["intent"]["confidence"]), 6),
            [(e["entity"], e["value"], e["start"], e["end"]) for e in parsed.get("entities", [])],
            json.dumps(parsed.get("question_types"), sort_keys=True))


async def compare(before: Path, after: Path) -> dict[str, Any]:
    """Parse :func:`texts` with both models; the count and examples of differing readings."""
    first, second = Agent.load(str(before)), Agent.load(str(after))
    differing = []
    all_texts = texts()
    for text in all_texts:
        a, b = reading(await first.parse_message(text)), reading(await second.parse_message(text))
        if a != b:
            differing.append({"text": text, "before": a[:3], "after": b[:3]})
    return {"texts": len(all_texts), "differ": len(differing), "examples": differing[:20]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))  # no line per parse
    print(json.dumps(asyncio.run(compare(args.before, args.after)), indent=2))


if __name__ == "__main__":
    main()
