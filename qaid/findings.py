"""How a first-look finding reads, for the patient and in the doctor's transcript: one wording in one place."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def finding_answer(key: str, answer: str) -> str:
    """``answer`` without its own ``key`` at the end ("coronal plane" is "coronal"), so the word is not said
    twice."""
    words = answer.split()
    if len(words) > 1 and words[-1].lower() == key.lower():
        return " ".join(words[:-1])
    return answer


def finding_text(key: str, answer: str) -> str:
    """'plane: coronal' for the finding ``key`` answered ``answer`` (or "coronal plane")."""
    return f"{key}: {finding_answer(key, answer)}"


def findings_text(findings: Iterable[Mapping[str, Any]]) -> str:
    """'abnormal: yes; plane: axial' for the findings that have an answer."""
    return "; ".join(finding_text(str(f["key"]), str(f["answer"])) for f in findings if f.get("answer"))
