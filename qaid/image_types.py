"""The names of the labeller's image types, as patients and doctors read them: one set for every process."""

from __future__ import annotations

NAMES = {
    "abdomen_ct": "abdominal CT scan",
    "brain_mri": "brain MRI",
    "breast_mri": "breast MRI",
    "chest_ct": "chest CT scan",
    "chest_xray": "chest X-ray",
    "fundus": "fundus (retina) photo",
    "hand_xray": "hand X-ray",
    "head_ct": "head CT scan",
    "mammogram": "mammogram",
}
UNSURE = "unsure"


def display_name(label: str) -> str:
    """'chest X-ray' for a labeller class (an unknown class: its folder name with spaces)."""
    return NAMES.get(label, label.replace("_", " "))


def with_article(label: str) -> str:
    """'a chest X-ray', 'an abdominal CT scan'."""
    name = display_name(label)
    return ("an " if name[0].lower() in "aeiou" else "a ") + name
