"""Red flags in patients' own words: current ones found, negated and long-past ones not."""

from __future__ import annotations

import pytest
import yaml

from bot.red_flag_classifier import DEV_SETS
from qaid.red_flags import red_flag, reported_text
from qaid.state import REPO_ROOT


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
    ("can you help, my dad can't get a breath and his lips are going blue", "trouble breathing"),
    ("mum is on the floor, I can't rouse her", "loss of consciousness"),
    ("little one has a temp, is really drowsy and has dark spots that stay when pressed", "meningitis signs"),
    ("my 2 year old has drunk some bleach", "poisoning"),
    ("took a new antibiotic and now I'm covered in hives, dizzy and wheezing", "allergic reaction"),
])
def test_current_red_flags_are_found(text: str, flag: str) -> None:
    assert red_flag(text) == flag


@pytest.mark.parametrize("text", [
    "cough that won't go away", "no chest pain, just a mild cough", "I don't have chest pain",
    "I had a stroke 5 years ago", "history of seizures", "I fainted last year", "headache for 3 weeks", "",
    "my chest doesn't hurt, it's more like a pulled muscle", "can anxiety cause chest tightness",
    "I nearly had a stroke when I saw the price of petrol", "my grandad died of a heart attack in his 60s",
    "suppose my dad has a stroke while I'm at work, how would I recognise it",
    "choked a little on my water but coughed it up", "whats the difference between a seizure and a faint",
])
def test_no_red_flag(text: str) -> None:
    assert red_flag(text) is None


def _messages(name: str) -> list[str]:
    path = REPO_ROOT / "tests" / "red_flags" / f"{name}.yml"
    return [m["text"] for m in yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]]


@pytest.mark.parametrize("name", DEV_SETS)
def test_the_patterns_still_cover_the_sets_they_were_tuned_on(name: str) -> None:
    """A regression guard on ``dev*_*`` (the tuning sets, 100% / 0% when tuned); the held-out figures are in
    bench/README.md (``bench/red_flag_report.py``), not asserted here."""
    missed = [text for text in _messages(f"{name}_red_flags") if red_flag(text) is None]
    alarms = [text for text in _messages(f"{name}_ordinary") if red_flag(text) is not None]
    assert not missed and not alarms, (missed, alarms)


@pytest.mark.parametrize(("text", "kept"), [
    ("he's gone grey and won't answer me", "he's gone grey and won't answer me"),
    ("no fever, he's gone grey and won't answer me", "he's gone grey and won't answer me"),
    ("had a stroke years ago. now my arm feels odd", "now my arm feels odd"),
    ("is this normal? she's gone very quiet", "she's gone very quiet"),
    ("what is sepsis?", ""),
    ("bit of a tension headache, probably need to drink more water", ""),
])
def test_the_classifier_reads_what_is_reported_now(text: str, kept: str) -> None:
    assert reported_text(text) == kept
