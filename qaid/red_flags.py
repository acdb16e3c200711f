"""Red-flag symptoms in a patient's own words: the one detector that decides when the bot gives emergency advice.

Both interpreters use it: the Rasa NLU pipeline (``bot.red_flags.RedFlagDetector`` makes any message with a
red flag an ``emergency``, in every state) and the action that answers it (``actions.consultation``).
A red flag counts only when it is reported now: not negated ("no chest pain", "I haven't passed out"), not in
the past ("I had a stroke 5 years ago", "as a teenager"), not a question about a word, a risk or an image
("what is a seizure?", "does this CT show a stroke?"), not hypothetical ("if she ever has a fit") and not
figurative ("my phone battery is dying"). Patterns follow the NHS "call 999" list, written as patients write
(typos and all). Measured by ``bench/red_flag_report.py`` on ``tests/red_flags/``.
"""

from __future__ import annotations

import re

# The key under which the Rasa NLU pipeline (``bot.red_flags.RedFlagDetector``) puts a message's red flag.
RED_FLAG_KEY = "red_flag"
# The flag of an emergency the learned classifier (``bot.red_flag_classifier``) found and no pattern named.
DESCRIBED_EMERGENCY = "emergency described in the patient's words"

_W = r"(?:\W+\w+){0,%d}\W+"  # up to N words in between
_PERSON = r"(?:my|his|her|their|the|your)"
_CANT = r"(?:can'?t|cannot|can not|cant|unable to|not able to|struggling to|barely|hard to|couldn'?t)"
_BREATHE = r"br[ea]+th\w*"
_SEVERE = (r"(?:sudden(?:ly)?|severe|agoni[sz]ing|excruciating|unbearable|terrible|horrible|crushing|worst|"
           r"awful|intense|stabbing|tearing)")

# Each red flag: patterns any one of which reports it.
RED_FLAGS: dict[str, tuple[str, ...]] = {
    "chest pain": (
        rf"ch[ea]?st{_W % 3}?(?:pain|pressure|tight\w*|hurt\w*|squeez\w*|crush\w*|heav\w*|ach\w*|agony)",
        rf"(?:pain|pressure|tightness|squeez\w*|crush\w*|ache){_W % 4}?(?:in|across|on|of) {_PERSON} ch[ea]?st",
        rf"clutch\w* (?:at )?{_PERSON} chest",
        r"elephant (?:is )?(?:sitting|standing|on)",
    ),
    "trouble breathing": (
        rf"{_CANT} (?:\w+ )?(?:{_BREATHE}|get (?:any |enough )?air|catch {_PERSON.replace('the', 'a')} breath)",
        rf"(?:not|isn'?t|stopped|struggling for|fighting for|gasping for) (?:\w+ )?{_BREATHE}",
        rf"(?:trouble|difficulty|problems?) {_BREATHE}",
        r"(?:lips|face|skin|fingers?) (?:\w+ ){0,2}(?:blue|grey|gray)|(?:turn\w*|gone|going|went) blue",
        r"can'?t (?:finish a sentence|speak|talk) (?:\w+ ){0,3}(?:breath|air|wheez\w*)|wheez\w* (?:so )?bad\w*",
        r"\bchok(?:ing|ed)\b|\bgasping\b|inhaler (?:\w+ )?(?:isn'?t|is not|not) (?:working|helping)",
    ),
    "stroke signs": (
        r"\bstroke\b",
        r"droop\w*|lopsided|one side of (?:my|his|her|their|the) (?:face|mouth|body)",
        rf"{_CANT.replace('|barely', '')} (?:lift|raise|move|feel) {_PERSON} (?:\w+ )?(?:arm|leg|hand)",
        r"(?:arm|hand|leg|side|face) (?:has |is |feels |went |gone )*(?:suddenly )?(?:weak|numb|dead|limp|heavy)",
        r"half (?:of )?(?:my|his|her|their|the) face|can'?t smile",
        r"slurr?\w*|gibberish|words (?:are )?(?:coming out )?(?:wrong|jumbled|muddled)|can'?t get (?:my|his|her) words",
        r"sudden\w* (?:\w+ ){0,3}(?:confus\w*|blind\w*|lost (?:the )?(?:vision|sight)|can'?t see)",
        r"(?:lost|losing) (?:the |my |his |her )?(?:vision|sight) in",
    ),
    "loss of consciousness": (
        r"passed out|pass(?:ing)? out|\bfaint(?:ed|ing)\b|unconscious|unresponsive|collapsed|knocked out",
        r"(?:not|isn'?t|is not|aren'?t|stopped|won'?t|doesn'?t) (?:\w+ )?(?:respond\w*|wake|waking|breathing)",
        r"(?:hard|can'?t|cannot|impossible) to (?:wake|rouse)|can'?t wake (?:him|her|them)",
        r"(?:dropped|fell|fallen) (?:down )?(?:to|on) the (?:\w+ )?floor|on the (?:\w+ )?floor (?:and|not)",
    ),
    "seizure": (
        r"seizures?|convuls\w+|\bfits?\b|fitting|shaking all over|jerk\w* (?:all over|uncontrollably)|"
        r"eyes (?:have |had )?roll\w* back",
    ),
    "heavy bleeding": (
        r"(?:vomit\w*|throw\w* up|cough\w* up|spit\w* up|being sick|sick) (?:\w+ ){0,3}blood|coffee grounds",
        r"blood (?:is |keeps )?(?:spurt|pour|gush|everywhere)\w*|(?:spurt|pour|gush)\w* (?:with |out )?blood",
        r"(?:heavy|severe|a lot of|lots of|uncontrollable|massive|heavily) bleed\w*",
        r"bleed\w* (?:heavily|badly|a lot|everywhere|won'?t stop|that won'?t stop|non ?stop)",
        r"(?:won'?t|doesn'?t|will not) stop bleeding|still (?:bleeding|pouring)|soaked (?:through )?(?:with|in) blood",
    ),
    "thoughts of self-harm": (
        r"suicid\w*|kill (?:my|him|her|them)sel(?:f|ves)|end (?:my|his|her) life|end it all|better off dead",
        r"(?:want|wanna|going) to die|don'?t want to (?:be alive|live|wake up)|(?:hurt|harm|cut) (?:my|him|her)self",
        r"self.?harm|overdos\w*",
        r"(?:taken?|took|swallowed) (?:a |the )?(?:whole |full |entire )?(?:packet|box|bottle|lot|load|loads|lots|"
        r"handful|bunch)s? of (?:\w+ )?(?:pills|tablets|paracetamol|meds|medication)",
    ),
    "sudden severe headache": (
        rf"worst headache|{_SEVERE} (?:\w+ ){{0,2}}headache\b|thunderclap|"
        r"headache (?:\w+ ){0,4}(?:in seconds|out of nowhere|like (?:being hit|a bang|an explosion))",
    ),
    "allergic reaction": (
        r"anaphyla\w*|(?:throat|tongue|lips?|mouth) (?:\w+ ){0,3}(?:swell\w*|swollen|closing|tight\w*)",
        r"swollen (?:throat|tongue|lips?)|(?:face|eyes) (?:is |are )?swell\w* (?:up )?(?:and|after)|epi-?pen",
    ),
    "sudden severe abdominal pain": (
        rf"{_SEVERE} (?:\w+ ){{0,4}}(?:pain|ache|cramps?) (?:\w+ ){{0,4}}(?:stomach|tummy|belly|abdom\w*|side|groin)",
        r"(?:stomach|tummy|belly|abdom\w*) (?:pain|ache) (?:\w+ ){0,3}(?:sudden|severe|agoni[sz]ing|excruciating)",
        r"(?:belly|stomach|tummy|abdomen) (?:is |feels )?(?:rock )?(?:hard|rigid)",
        r"(?:agoni[sz]ing|excruciating|unbearable) pain",
    ),
    "severe burn": (
        r"(?:boiling|scalding|hot) (?:water|oil|fat|liquid|tea|coffee)|scald\w*",
        r"burn\w* (?:\w+ ){0,2}(?:in|by) (?:a )?fire|(?:severe|bad|big|large|deep|serious) burns?\b",
        r"burns? (?:cover\w*|all over)|skin (?:is )?(?:\w+ )?(?:peeling|charred|black|white and)|electric shock|"
        r"chemical burn",
    ),
    "dying": (r"\bdying\b|going to die",),
}
# Red flags that take two findings in one message: (name, first, second).
RED_FLAG_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("head injury with warning signs",
     r"(?:hit|banged|bumped|knocked|smacked|struck|hurt) (?:\w+ ){0,2}head|head injury|fell|fallen|crash|accident",
     r"vomit\w*|\bsick\b|confus\w*|drows\w*|sleepy|not making sense|fluid|blood from (?:his|her|my) ear"),
    ("unwell baby or child",
     r"baby|newborn|infant|toddler|\d+ (?:day|week|month)s? old|\bson\b|daughter|child|\bkid\b",
     r"limp|floppy|not respond\w*|isn'?t respond\w*|unresponsive|\bblue\b|hard to wake|won'?t wake|"
     r"high.?pitched cry|not feeding|breathing (?:\w+ )?(?:funny|fast|strange|noisily)"),
    ("meningitis signs",
     r"rash|spots|stiff neck|neck (?:\w+ ){0,3}(?:stiff|hurts to bend|hurts when)",
     r"(?:doesn'?t|does not|won'?t|didn'?t|not) (?:\w+ )?(?:fade|blanch|go away under)|non.?blanching|"
     r"fever|temperature|burning up|(?:bright )?light|purple"),
    ("sepsis signs",
     r"sepsis|septic|mottled|clammy|infect\w*|shiver\w*",
     r"sepsis|septic|mottled|confus\w*|breathing (?:\w+ )?(?:fast|rapid)|(?:hasn'?t|not|no) (?:passed|peed) "
     r"(?:urine|water)?|clammy"),
)

# A cue before the finding, in the same comma-delimited part, that cancels it.
_NEGATED = re.compile(
    r"\b(?:no|not|never|without|denies|deny|don'?t|do not|haven'?t|hasn'?t|hadn'?t|didn'?t|doesn'?t|isn'?t|wasn'?t|"
    r"free of|no sign of|nor)\b(?:\W+\w+){0,4}\W*$", re.IGNORECASE)
_PAST = re.compile(
    r"\b(?:(?:years?|months?|decades?) (?:ago|back)|last (?:year|month)|history of|in (?:19|20)\d\d|when i was|"
    r"used to|once as|as a (?:teenager|teen|child|kid|baby|student)|in (?:my|his|her) (?:teens|twenties|thirties|"
    r"youth|childhood)|previous(?:ly)?|in the past|(?:diagnosed|treated) (?:with|for)|i carry|well controlled)\b",
    re.IGNORECASE)
# A part that asks about a word, a risk or an image, or imagines a case, reports nothing.
_ASKING = re.compile(
    r"^\W*(?:what|how|why|does|do|is|are|can|could|should|would|which|any|tell me)\b(?!')[^?]*$|"
    r"^\W*(?:what|how|why|does|do|is there|are there|can you|could this|which)\b.*\?|"
    r"\b(?:signs of|symptoms of|risk of|sign of|chance of|what to do if|if (?:she|he|i|you|someone|they|my \w+) "
    r"(?:ever|were|was|had|has|have|gets?)|in case|first aid|scan|image|x-?ray|\bct\b|\bmri\b)\b", re.IGNORECASE)
_FIGURATIVE = re.compile(
    r"\b(?:lol|haha|lmao|jk|dying to|battery|phone|wifi|laptop|plants?|paperwork|queue|film|movie|laughing|"
    r"onto the sofa|asleep|spreadsheet|traffic|emails?|match|game|so tense)\b|😂", re.IGNORECASE)
_PART = re.compile(r"[.;!?]+|\bbut\b|,", re.IGNORECASE)
# A part that opens with a negation denies what follows ("no pain in my chest", "haven't fainted").
_DENIES = re.compile(r"^\W*(?:(?:i|i'?m|he|he'?s|she|she'?s|they|we|it|it'?s)\s+)?(?:no|not|never|without|none|"
                     r"nothing|denies|haven'?t|hasn'?t|didn'?t|don'?t|doesn'?t|isn'?t|wasn'?t|aren'?t|do not|"
                     r"did not|have not|has not)\b", re.IGNORECASE)

_SINGLE = {name: re.compile("|".join(patterns), re.IGNORECASE) for name, patterns in RED_FLAGS.items()}
_PAIRS = [(name, re.compile(first, re.IGNORECASE), re.compile(second, re.IGNORECASE))
          for name, first, second in RED_FLAG_PAIRS]


def _reports(part: str, match: re.Match[str]) -> bool:
    """Whether ``match`` in ``part`` (a comma-delimited piece of one sentence) is reported now."""
    return not (_NEGATED.search(part[: match.start()]) or _PAST.search(part) or _ASKING.search(part)
                or _FIGURATIVE.search(part))


def _parts(text: str) -> list[str]:
    return [part for part in _PART.split(text.replace("\u2019", "'")) if part.strip()]


def reported_now(text: str) -> bool:
    """Whether some part of ``text`` could report something happening now: one that does not deny, date in
    the past, ask about, imagine or joke. The learned classifier (``bot.red_flag_classifier``) names no
    words, so its emergencies count only for such a message."""
    return any(not (_DENIES.search(part) or _PAST.search(part) or _ASKING.search(part) or _FIGURATIVE.search(part))
               for part in _parts(text or ""))


def red_flag(text: str) -> str | None:
    """The red flag ``text`` reports now, or None (absent, negated, past, asked about, imagined or figurative)."""
    parts = _parts(text or "")
    for part in parts:
        for name, pattern in _SINGLE.items():
            if any(_reports(part, match) for match in pattern.finditer(part)):
                return name
    for name, first, second in _PAIRS:
        found = [any(_reports(part, m) for m in pattern.finditer(part)) for pattern in (first, second)
                 for part in parts]
        half = len(parts)
        if any(found[:half]) and any(found[half:]):
            return name
    return None
