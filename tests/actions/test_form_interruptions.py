"""Which messages interrupt a form (their own rule runs, then the form goes on or ends) and which answer it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actions.form_interruptions import ANSWERS_TO, FORM_INTERRUPTIONS, interruption
from tests.support.actions import load_tracker

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text())
FORM_SLOTS = [slot for form in DOMAIN["forms"].values() for slot in form["required_slots"]]


def _at(slot: str, intent: str, **meta: object):
    tracker = load_tracker("question", consent_given=True, requested_slot=slot)
    tracker.latest_message.update({"text": "x", "intent": {"name": intent, "confidence": 0.9}, "metadata": meta})
    return tracker


@pytest.mark.parametrize(("slot", "intent", "meta", "expected"), [
    ("age_band", "send_image", {"image": {"path": "media/a.png"}}, "action_process_image"),
    ("age_band", "send_image", {}, "action_process_image"),  # "add another picture": asked to attach it
    ("age_band", "ask_image_question", {}, "action_answer_question"),
    ("age_band", "cancel", {}, "utter_step_stopped"),
    ("age_band", "give_age", {}, None),
    ("chief_complaint", "ask_image_question", {}, None),  # "is there a tumour?" is the reason
    ("chosen_hospitals", "ask_image_question", {}, None),  # a hospital's name read as a question
    ("send_confirmed", "send_image", {"image": {"path": "media/a.png"}}, "action_process_image"),
    ("chosen_hospitals", "send_image", {"image_error": {"reason": "too_large"}}, "action_process_image"),
    ("chosen_hospitals", "cancel", {}, "utter_step_stopped"),
    ("chosen_hospitals", "emergency", {}, "action_emergency"),
])
def test_what_interrupts_a_form(slot: str, intent: str, meta: dict, expected: str | None) -> None:
    assert interruption(_at(slot, intent, **meta)) == expected


@pytest.mark.parametrize("slot", FORM_SLOTS)
def test_an_interrupting_message_fills_no_slot_from_its_text(slot: str) -> None:
    """Every intent that always interrupts at ``slot`` is in that slot's ``not_intent`` (domain.yml)."""
    excluded = {intent for mapping in DOMAIN["slots"][slot]["mappings"] if mapping["type"] == "from_text"
                for intent in mapping.get("not_intent", [])}
    interrupting = set(FORM_INTERRUPTIONS) - ANSWERS_TO.get(slot, set())
    assert interrupting <= excluded
