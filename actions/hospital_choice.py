"""Which of the proposed hospitals a patient means, however they say it.

Accepted: a button payload's ``hospital`` entity, "all" / "both" / "all of them", "yes" to the proposal (the
nearest), "nearest" / "first" / "closest", numbers from the list ("2", "number 2", "1 and 3"), hospitals' names
or parts of them, with typos ("st tomas", "Charite Imaging (Berlin)", "karolinska and charite"), or their cities
("the one in Paris"); no preference ("skip", "I don't mind") when answering the question.
"""

from __future__ import annotations

import difflib
import re

ALL_WORDS = ("all of them", "both", "every", "all")
NEAREST_WORDS = ("nearest", "first", "closest", "yes", "ok", "okay", "sure", "yep", "yeah")
NEGATIONS = ("not", "no", "don", "dont", "never")  # "not sure" is no "sure"
NO_PREFERENCE = re.compile(r"^\W*(?:skip|any|anyone|any of them|whichever|either|no preference"
                           r"|you (?:choose|pick|decide)|(?:i )?don'?t (?:mind|care)|(?:it )?doesn'?t matter"
                           r"|(?:(?:ok|okay|just|please)\W+)*send(?: it)?(?: now)?(?: please)?)\W*$", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"hospital", "radiology", "imaging", "university", "the", "of", "general", "clinic", "to", "please", "send"}


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def choose_hospitals(text: str, entity: str, names: list[str], affirmed: bool = False,
                     cities: list[str] | None = None) -> list[str]:
    """The hospitals among ``names`` (nearest first; in ``cities``) that ``text`` or the ``hospital`` entity picks,
    or []; a city picks the hospital there ("the one in Berlin"). "Yes" (``affirmed``) and "nearest" pick the
    first."""
    named = named_hospitals(text, entity, names, cities)
    if named:
        return named
    words = _words(text)
    if affirmed or (any(w in NEAREST_WORDS for w in words) and not any(w in NEGATIONS for w in words)):
        return list(names[:1])
    return []


def no_preference(text: str) -> bool:
    """Whether ``text``, answering which hospital, leaves the choice to us ("skip", "I don't mind"): the consent
    text promises the nearest then."""
    return bool(NO_PREFERENCE.search(text))


def named_hospitals(text: str, entity: str, names: list[str], cities: list[str] | None = None) -> list[str]:
    """The hospitals ``text`` or the ``hospital`` entity names: by name, number, city or "all"; [] for none (a bare
    "yes" names none: at "send now?" it confirms the choice made, it does not change it)."""
    said, wanted = text.strip().lower(), entity.strip().lower()
    words = _words(said)
    if wanted == "all" or said in ALL_WORDS or any(w in said for w in ALL_WORDS[:3]):
        return list(names)
    exact = [n for n in names if n.lower() == wanted or n.lower() in said]
    if exact:
        return exact
    numbers = [int(w) for w in words if w.isdigit()]
    if numbers and all(1 <= number <= len(names) for number in numbers):
        return [name for number, name in enumerate(names, 1) if number in numbers]
    places = cities or [""] * len(names)
    distinctive = {n: [w for w in _words(f"{n} {city}") if w not in _STOP] for n, city in zip(names, places)}
    return [n for n, keys in distinctive.items()
            if any(difflib.get_close_matches(k, words, n=1, cutoff=0.8) for k in keys)]
