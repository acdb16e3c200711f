"""Red flags in patients' own words: current ones found, negated and long-past ones not."""

from __future__ import annotations

import pytest

from qaid.red_flags import red_flag


@pytest.mark.parametrize(("text", "flag"), [
    ("I have crushing chest pain", "chest pain"),
    ("pain in my chest since this morning", "chest pain"),
    ("I can't breathe", "trouble breathing"),
    ("no fever but I can't breathe", "trouble breathing"),
    ("my face is drooping and my speech is slurred", "stroke signs"),
    ("he passed out at work", "loss of consciousness"),
    ("I had a seizure an hour ago", "seizure"),
    ("I am bleeding heavily", "heavy bleeding"),
    ("I want to kill myself", "thoughts of self-harm"),
    ("worst headache of my life", "sudden severe headache"),
])
def test_current_red_flags_are_found(text: str, flag: str) -> None:
    assert red_flag(text) == flag


@pytest.mark.parametrize("text", [
    "cough that won't go away", "no chest pain, just a mild cough", "I don't have chest pain",
    "I had a stroke 5 years ago", "history of seizures", "I fainted last year", "headache for 3 weeks", "",
])
def test_no_red_flag(text: str) -> None:
    assert red_flag(text) is None
