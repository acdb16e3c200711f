"""The conversation suite: every scripted consultation of ``tests/conversations/*.yml`` on the real stack.

One test per conversation (all its turns' expected properties must hold); the pass rate of each property over
the whole suite is printed at the end of the run and written to ``results/conversations.json``.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from pathlib import Path

import pytest

from tests.support.conversations import Check, Player, load_conversations
from tests.support.stack import Stack, start_stack

HERE = Path(__file__).parent
RESULTS = HERE.parents[1] / "results" / "conversations.json"
CONVERSATIONS = load_conversations(HERE)
CHECKS: list[Check] = []


@pytest.fixture(scope="module")
def player(tmp_path_factory: pytest.TempPathFactory) -> Player:
    stack: Stack = start_stack(tmp_path_factory.mktemp("var"))
    yield Player(stack)
    assert stack.stop() == 0, "\n".join(stack.log[-40:])
    write_report(CHECKS)


def write_report(checks: list[Check]) -> dict[str, dict[str, float]]:
    """Pass rate per property over ``checks``, written to ``results/conversations.json``."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for check in checks:
        counts[check.prop][0] += check.passed
        counts[check.prop][1] += 1
    report = {prop: {"passed": ok, "checked": n, "rate": round(ok / n, 4)} for prop, (ok, n) in sorted(counts.items())}
    report["conversations"] = {"passed": len({c.conversation for c in checks}) - len(
        {c.conversation for c in checks if not c.passed}), "checked": len({c.conversation for c in checks})}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


def test_the_suite_is_large_enough() -> None:
    assert len(CONVERSATIONS) >= 40


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[f"{c['file']}:{c['name']}" for c in CONVERSATIONS])
def test_conversation(player: Player, conversation: dict) -> None:
    checks = player.play(conversation, sender=f"suite-{uuid.uuid4().hex[:8]}")
    CHECKS.extend(checks)
    failed = [f"turn {c.turn} {c.prop}: {c.detail}" for c in checks if not c.passed]
    assert not failed, "\n".join(failed)
