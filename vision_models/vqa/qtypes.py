"""Question types shared with Rasa NLU, VQA-RAD label parsing and the SLAKE keyword mapping.

VQA-RAD labels each question with one or more types ("POS, PRES"); a few labels carry typos
(``ATRIB``, ``PRSE``, ``Other``) that :func:`parse_type_label` repairs.

SLAKE's English json has no content-type field, so :func:`keyword_question_types` derives the
type from the question text with ordered keyword rules (first match wins, ``OTHER`` when none
matches). The rules are written for SLAKE's templated questions and for plain patient phrasing;
their agreement with VQA-RAD's human labels is measured by ``python -m vision_models evaluate vqa
--type-rules`` and recorded in the model card.
"""

from __future__ import annotations

import re

from qaid.question_types import LABEL_TYPOS, QUESTION_TYPES

ANSWER_TYPES: tuple[str, ...] = ("CLOSED", "OPEN")

_RULES: tuple[tuple[str, str], ...] = (
    ("COUNT", r"\bhow many\b|\bnumber of\b"),
    ("COLOR", r"\bcolou?rs?\b"),
    ("PLANE", r"\bplanes?\b|\baxial\b|\bcoronal\b|\bsagittal\b|\btransverse\b|\bsection\b|\bpa\b|\bap\b"),
    ("MODALITY", r"\bmodality\b|\bweighting\b|\bweighted\b|\bt1\b|\bt2\b|\bflair\b|\bcontrast\b"
                 r"|\bimaging (method|technique|type)|\b(kind|type) of (scan|image|imaging)\b"
                 r"|\bis this an? (ct|mri?|x-ray|ultrasound|pet)\b|\b(ct|mri|x-ray|ultrasound) (scan|image)\b"
                 r"|\bwhat scan\b|\bhow was this image taken\b"),
    ("POS", r"^where\b|\blocated\b|\blocation\b|\bwhich side\b|\bwhat side\b|\bleft or right\b|\bposition\b"
            r"|\bwhich lobe\b|\bquadrant\b|\bwhere\b"),
    ("SIZE", r"\bsizes?\b|\blarg(e|er|est)\b|\bsmall(er|est)\b|\bbig(ger|gest)?\b|\bdiameter\b|\benlarged\b"
             r"|\bhow (big|large|long|wide|thick)\b|\bdilat|\bwidth\b|\bthick(ness|ened|ening)?\b"),
    ("ABN", r"\babnormal|\bnormal\b|\bhealthy\b|\bdiseases?\b|\bdiagnos|\bwrong\b|\bpatholog|\bfindings?\b"),
    ("ORGAN", r"\borgans?\b|\bpart of the body\b|\bbody part\b|\bwhich part\b|\bsystem\b|\bwhat (body )?region\b"
              r"|\bstudy of\b"),
    ("PRES", r"^(is|are|does|do|was|were|can|could|has|have)\b.*\b(there|contain|present|visible|seen|see|shown|show"
             r"|evidence|exist|include|observed)"),
    ("ATTRIB", r"\bshape\b|\bhypo|\bhyper|\bdens(e|ity)\b|\benhanc|\bborder|\bmargin|\bcircumscribed\b|\btexture\b"
               r"|\bcalcifi|\bsolid\b|\bcystic\b|\bfluid\b"),
    ("PRES", r"^(is|are|does|do|was|were|can|could|has|have)\b"),
)
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in _RULES)


def parse_type_label(label: str) -> list[str]:
    """Parse a VQA-RAD ``question_type`` label such as ``"POS, PRES"`` into known types."""
    types: list[str] = []
    for part in str(label).split(","):
        name = LABEL_TYPOS.get(part.strip().upper(), part.strip().upper())
        if name in QUESTION_TYPES and name not in types:
            types.append(name)
    return types or ["OTHER"]


def keyword_question_types(question: str) -> list[str]:
    """The question type of ``question`` by the ordered keyword rules (a one-element list)."""
    text = " ".join(question.lower().split())
    for name, pattern in _COMPILED:
        if pattern.search(text):
            return [name]
    return ["OTHER"]
