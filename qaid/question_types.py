"""The eleven question types of VQA-RAD, in one order for Rasa NLU, the VQA prior and the data scripts."""

from __future__ import annotations

QUESTION_TYPES: tuple[str, ...] = (
    "PRES", "POS", "ABN", "MODALITY", "PLANE", "SIZE", "ORGAN", "ATTRIB", "COLOR", "COUNT", "OTHER",
)
# Misspelt labels found in VQA-RAD's annotations, and the type each means.
LABEL_TYPOS = {"ATRIB": "ATTRIB", "PRSE": "PRES", "COLOUR": "COLOR"}
