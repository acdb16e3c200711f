"""Patient-facing wording: confidences in plain words, image types, age bands, summaries; the sentences
themselves are responses in ``domain.yml`` (:mod:`actions.responses`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from actions.image_facts import MODALITY_NAMES
from actions.responses import sentence
from qaid.findings import finding_answer
from qaid.image_types import with_article

NOT_AN_AGE = re.compile(r"\b(day|week|month|hour|minute)s?\b|\bsince\b|\bago\b", re.IGNORECASE)
AGE_BANDS = ((0, 17, "0-17"), (18, 39, "18-39"), (40, 64, "40-64"), (65, 130, "65+"))


MAX_SHOWN_CONFIDENCE = 0.99  # no model answer about a medical image deserves "100%"
# Lowest confidence of each word band ("utter_confidence_<band>" in domain.yml), most confident first.
CONFIDENCE_BANDS = ((0.9, "very"), (0.7, "fairly"), (0.5, "somewhat"), (0.0, "not"))
# Each word's accuracy measured on public test images (written by bench/consistency_report.py).
MEASURED_WORDS_FILE = Path(__file__).with_name("confidence_words.json")
# Hospital capabilities a patient is told about (``utter_capability_<name>``); screening and labelling are
# internal steps, not listed.
TOLD_CAPABILITIES = ("vqa", "segmentation")


def percent(confidence: float) -> str:
    """A confidence as a patient reads it: a whole percentage, never 100%."""
    return f"{min(confidence, MAX_SHOWN_CONFIDENCE):.0%}"


def capability_words(capabilities: Iterable[str]) -> str:
    """'answers questions about your images and outlines brain-MRI lesions' for a hospital's capabilities."""
    offered = set(capabilities)
    said = [sentence(f"utter_capability_{c}") for c in TOLD_CAPABILITIES if c in offered]
    return join_words(said) or sentence("utter_capability_none")


def confidence_words(confidence: float) -> str:
    """Describe a probability the way a person would ("fairly confident")."""
    band = next(name for lowest, name in CONFIDENCE_BANDS if confidence >= lowest)
    return sentence(f"utter_confidence_{band}")


@cache
def _measured_words() -> dict[str, dict[str, dict[str, Any]]]:
    if not MEASURED_WORDS_FILE.exists():
        return {}
    return json.loads(MEASURED_WORDS_FILE.read_text(encoding="utf-8"))["words"]


def measured_accuracy(words: str) -> tuple[float, float] | None:
    """The lowest and highest share of right answers measured, over the test sets, among answers described
    with ``words`` ("fairly confident"); None when not measured."""
    shares = [split["accuracy"] for split in _measured_words().get(words, {}).values()
              if split.get("accuracy") is not None]
    return (min(shares), max(shares)) if shares else None


def image_type_phrase(label: str | None) -> str:
    """'a chest X-ray' for a labeller class; a neutral phrase when unknown."""
    if not label:
        return "a medical image"
    return with_article(label)


# How a first-look answer reads for a patient ("pa" is "PA view"); answers not listed read as the models gave them.
_FINDING_WORDS = {key: name for key, (_, name) in MODALITY_NAMES.items()} | {"pa": "PA", "ap": "AP"}
_FINDING_FORMS = {"organ": "the {}", "modality": "{}", "plane": "{} view"}


def first_look_words(findings: Iterable[dict[str, Any]]) -> str:
    """'the chest, X-ray, PA view' for first-look findings (organ, modality, plane), in plain words."""
    words = []
    for finding in findings:
        answer = finding_answer(finding["key"], str(finding.get("answer") or "").strip())
        if answer:
            form = _FINDING_FORMS.get(finding["key"], "{}")
            words.append(form.format(_FINDING_WORDS.get(answer.lower(), answer)))
    return ", ".join(words)


_UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
          "nineteen")
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_AGE_IN_WORDS = re.compile(rf"\b(?:(?P<tens>{'|'.join(_TENS)})(?:[\s-]+(?P<unit>{'|'.join(_UNITS)}))?|"
                           rf"(?P<teen>{'|'.join(_TEENS)})|(?P<alone>{'|'.join(_UNITS)}))\b", re.IGNORECASE)


def _number(text: str) -> int | None:
    """The first number in ``text``, in digits or in words ("seventy two", "forty-five"), else None."""
    digits = "".join(ch if ch.isdigit() else " " for ch in text).split()
    if digits:
        return int(digits[0])
    words = _AGE_IN_WORDS.search(text)
    if words is None:
        return None
    if words["tens"]:
        unit = _UNITS.index(words["unit"].lower()) + 1 if words["unit"] else 0
        return 20 + 10 * _TENS.index(words["tens"].lower()) + unit
    if words["teen"]:
        return 10 + _TEENS.index(words["teen"].lower())
    return _UNITS.index(words["alone"].lower()) + 1


def age_band(text: Any) -> str | None:
    """The age band for a number in ``text``, in digits or words (None when there is no plausible age, e.g. "3
    days")."""
    if NOT_AN_AGE.search(str(text)):
        return None
    age = _number(str(text))
    if age is None:
        return None
    for low, high, band in AGE_BANDS:
        if low <= age <= high:
            return band
    return None


def join_words(items: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [item for item in items if item]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def hospitals_answered(answered: int, asked: int) -> str:
    """'2 of 3 hospitals answered'."""
    return f"{answered} of {asked} hospital{'s' if asked != 1 else ''} answered"


def answer_sentence(answer: str, confidence: float, answered: int, asked: int, disagreement: bool) -> str:
    """One plain-language sentence for an aggregated VQA answer."""
    text = sentence("utter_answer", answer=answer.capitalize(), confidence_words=confidence_words(confidence),
                    percent=percent(confidence), hospitals_answered=hospitals_answered(answered, asked))
    return text + " " + sentence("utter_models_disagree") if disagreement else text


def lesion_size_sentence(segmentation: dict[str, Any]) -> str:
    """A size question on an outlined brain MRI, answered from the outline."""
    if not segmentation.get("lesion_pixels"):
        return sentence("utter_lesion_size_none", hospital=segmentation["hospital"])
    return sentence("utter_lesion_size", hospital=segmentation["hospital"], pixels=segmentation["lesion_pixels"],
                    fraction=f"{segmentation['lesion_fraction']:.1%}")


def lesion_side_sentence(segmentation: dict[str, Any]) -> str | None:
    """A position question on an outlined brain MRI, answered from the outline; None if the hospital gave no side."""
    side = segmentation.get("lesion_side")
    if side is None:
        return None
    if not segmentation.get("lesion_pixels") or side == "none":
        return sentence("utter_lesion_side_none", hospital=segmentation["hospital"])
    if side == "both":
        return sentence("utter_lesion_side_both", hospital=segmentation["hospital"])
    return sentence("utter_lesion_side", hospital=segmentation["hospital"], side=side,
                    patient_side="right" if side == "left" else "left")


def conflict_sentence(earlier: str, now: str) -> str:
    """What the bot says instead of an answer that contradicts an earlier one about the same image."""
    return sentence("utter_answers_conflict", earlier=earlier, now=now)


def off_label_sentence(label: str, now: str) -> str:
    """What the bot says instead of an answer that cannot be true of the image type it confidently named."""
    return sentence("utter_answer_off_label", now=now, image_type=with_article(label))


def abstain_sentence(answered: int, asked: int, known: tuple[str, float] | None = None,
                     file_says: str | None = None) -> str:
    """What the bot says when the models are not sure enough to answer; ``file_says`` ('a CT of the head') when
    the image's DICOM header answers the question (which organ, which modality), else ``known`` (label,
    confidence) when the image's type, named when it arrived, answers it in part."""
    if file_says:
        return sentence("utter_not_sure_file_says", hospitals_answered=hospitals_answered(answered, asked),
                        file_says=file_says)
    if known is None:
        return sentence("utter_not_sure", hospitals_answered=hospitals_answered(answered, asked))
    label, confidence = known
    return sentence("utter_not_sure_known_type", hospitals_answered=hospitals_answered(answered, asked),
                    image_type=image_type_phrase(label), confidence_words=confidence_words(confidence),
                    percent=percent(confidence))


def _given(value: Any) -> bool:
    """A slot the patient answered (not empty, not skipped)."""
    return bool(value) and value != "skipped"


def _symptom_words(symptom: dict[str, Any]) -> str:
    """'cough (3 weeks)', 'fever (absent)' or 'cough' in the summary."""
    name = str(symptom.get("name", ""))
    if symptom.get("negated"):
        return sentence("utter_summary_absent", symptom=name)
    if symptom.get("duration"):
        return sentence("utter_summary_symptom_duration", symptom=name, duration=symptom["duration"])
    return name


def summary_lines(slots: dict[str, Any]) -> list[str]:
    """The short transcript summary shown before sending."""
    lines = []
    if _given(slots.get("chief_complaint")):
        lines.append(sentence("utter_summary_chief_complaint", value=slots["chief_complaint"]))
    symptoms = [_symptom_words(symptom) for symptom in slots.get("symptoms") or []]
    if symptoms:
        lines.append(sentence("utter_summary_symptoms", value=", ".join(symptoms)))
    for slot in ("history", "medications"):
        if slots.get(slot):
            lines.append(sentence(f"utter_summary_{slot}", value="; ".join(slots[slot])))
    for slot in ("duration", "age_band", "location"):
        if _given(slots.get(slot)):
            lines.append(sentence(f"utter_summary_{slot}", value=slots[slot]))
    images = slots.get("images") or []
    if images:
        kinds = join_words(image_type_phrase(i.get("label")) for i in images)
        lines.append(sentence("utter_summary_images", count=len(images), kinds=kinds))
    for entry in (slots.get("qa_log") or [])[-5:]:
        if entry.get("answer"):
            lines.append(sentence("utter_summary_answer", question=entry["question"], answer=entry["answer"],
                                  percent=percent(entry["confidence"])))
        else:
            name = "utter_summary_for_the_doctor" if entry.get("referred") else "utter_summary_no_answer"
            lines.append(sentence(name, question=entry["question"]))
    for seg in slots.get("segmentations") or []:
        lines.append(sentence("utter_summary_outline", pixels=seg["lesion_pixels"],
                              fraction=f"{seg['lesion_fraction']:.1%}"))
    if slots.get("urgent"):
        reason = slots.get("urgent_reason")
        lines.append(sentence("utter_summary_urgent_because", reason=reason) if reason
                     else sentence("utter_summary_urgent"))
    return lines
