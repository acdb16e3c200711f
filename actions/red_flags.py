"""Red-flag symptoms in a patient's own words, the second key before a consultation is marked urgent.

Rasa NLU's ``emergency`` intent is tuned to miss nothing, so it also fires on ordinary complaints ("a cough
that won't go away"). A consultation is marked URGENT only when the message also names a red flag that is
neither negated ("no chest pain") nor in the past ("I had a stroke 5 years ago"). Otherwise the bot still
says when to call emergency services, and notes the message as a symptom.
"""

from __future__ import annotations

import re

# Each pattern names one red flag (NHS / NICE "call 999" symptoms, in plain words).
RED_FLAGS: dict[str, str] = {
    "chest pain": r"chest (?:pain|pressure|tightness)|(?:pain|pressure|tightness) in (?:my|the|his|her) chest",
    "trouble breathing": r"(?:can'?t|cannot|can not|unable to|struggling to|hard to) breathe|"
                         r"(?:trouble|difficulty|problems?) breathing|short(?:ness)? of breath|choking|gasping",
    "stroke signs": r"stroke|face (?:is )?droop\w*|droop\w* face|slurred speech|speech (?:is )?slurred|"
                    r"(?:numb|weak|paralys\w*)\w* (?:on one side|arm|leg|face)|one side of (?:my|his|her) body",
    "loss of consciousness": r"passed out|pass(?:ing)? out|faint(?:ed|ing)|unconscious|unresponsive|collapsed|"
                             r"won'?t wake up",
    "seizure": r"seizures?|convuls\w+|\bfits?\b|fitting",
    "heavy bleeding": r"(?:heavy|severe|a lot of|lots of) bleeding|bleeding (?:heavily|badly|won'?t stop|"
                      r"that won'?t stop)|(?:coughing|vomiting|throwing) up blood",
    "thoughts of self-harm": r"suicid\w*|kill (?:my|him|her)self|end (?:my|his|her) life|hurt (?:my|him|her)self|"
                             r"overdos\w*",
    "sudden severe headache": r"worst headache|(?:sudden|thunderclap) (?:severe )?headache",
    "allergic reaction": r"anaphyla\w*|throat (?:is )?(?:swelling|closing)|swollen (?:throat|tongue)",
    "dying": r"\bdying\b|going to die",
}
_NEGATION = re.compile(r"\b(?:no|not|never|without|denies|deny|don'?t have|do not have|isn'?t|wasn'?t|no sign of)\b"
                       r"(?:\W+\w+){0,3}\W*$", re.IGNORECASE)
# Long past only: "an hour ago" or "I just had a seizure" stay red flags.
_PAST = re.compile(r"\b(?:(?:years?|months?) (?:ago|back)|last (?:year|month)|history of|in (?:19|20)\d\d|"
                   r"when i was|used to)\b", re.IGNORECASE)
_COMPILED = {name: re.compile(rf"(?:{pattern})", re.IGNORECASE) for name, pattern in RED_FLAGS.items()}
_CLAUSE = re.compile(r"[.;!?]|\bbut\b", re.IGNORECASE)


def red_flag(text: str) -> str | None:
    """The red flag ``text`` reports now, or None (absent, negated or in the past)."""
    for clause in _CLAUSE.split(text or ""):
        for name, pattern in _COMPILED.items():
            for match in pattern.finditer(clause):
                before = clause[: match.start()]
                if _NEGATION.search(before) or _PAST.search(clause):
                    continue
                return name
    return None
