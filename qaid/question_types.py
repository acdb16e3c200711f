"""The eleven question types of VQA-RAD, in one order for Rasa NLU, the VQA prior and the data scripts."""

from __future__ import annotations

import re

QUESTION_TYPES: tuple[str, ...] = (
    "PRES", "POS", "ABN", "MODALITY", "PLANE", "SIZE", "ORGAN", "ATTRIB", "COLOR", "COUNT", "OTHER",
)
# Misspelt labels found in VQA-RAD's annotations, and the type each means.
LABEL_TYPOS = {"ATRIB": "ATTRIB", "PRSE": "PRES", "COLOUR": "COLOR"}

# A question ends at its question mark; "is the heart big? and the lungs?" holds two. "what?? really?" holds none:
# a part of fewer words is no question of its own and joins the next one.
_QUESTION_END = re.compile(r"\?+")
_MIN_WORDS = 3


def question_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) span of each question in ``text`` when it asks several, else []. Words before the first
    question belong to it ("I fell. is anything broken?"), words after the last one to the last ("is it big? is it
    bad? I'm worried"), so that each part is answered with what the patient said around it."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _QUESTION_END.finditer(text):
        if len(re.findall(r"\w+", text[start:match.end()])) >= _MIN_WORDS:
            spans.append((start, match.end()))
            start = match.end()
    if len(spans) < 2:
        return []
    spans[-1] = (spans[-1][0], len(text))
    return [_stripped(text, first, last) for first, last in spans]


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` without the whitespace at either end of that part of ``text``."""
    part = text[start:end]
    return start + len(part) - len(part.lstrip()), start + len(part.rstrip())
