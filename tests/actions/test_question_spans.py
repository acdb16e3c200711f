"""Where a message that asks several questions is cut (qaid.question_types.question_spans)."""

from __future__ import annotations

import pytest

from qaid.question_types import question_spans


@pytest.mark.parametrize(("text", "parts"), [
    ("is there something wrong with my lungs? and is the heart big?",
     ["is there something wrong with my lungs?", "and is the heart big?"]),
    ("I fell. is anything broken? is the knee swollen? I'm worried",
     ["I fell. is anything broken?", "is the knee swollen? I'm worried"]),
    ("is this normal?", []),
    ("is it big? I'm worried", []),
    ("what?? really? is it ok?", []),  # short exclamations are no questions of their own
    ("is the heart big and are the lungs clear?", []),
])
def test_questions_in_a_message(text: str, parts: list[str]) -> None:
    assert [text[start:end] for start, end in question_spans(text)] == parts
