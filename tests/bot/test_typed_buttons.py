"""A typed button title is parsed as the button's payload, with the patient's words kept."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from bot import rasa_server
from bot.rasa_server import parse_typed_buttons
from bot.typed_buttons import answered_button_payload, offered_buttons, typed_button_payload

DELETE = [{"title": "Yes, delete", "payload": "/affirm"}, {"title": "No, keep it", "payload": "/deny"}]


def test_only_the_buttons_offered_since_the_last_user_message_count() -> None:
    events = [BotUttered("Choose", data={"buttons": [{"title": "Old", "payload": "/old"}]}), UserUttered("hi"),
              ActionExecuted("utter_confirm"), BotUttered("Are you sure?", data={"buttons": DELETE}),
              BotUttered("(this deletes everything)"), ActionExecuted("action_listen")]
    assert offered_buttons(events) == DELETE
    assert offered_buttons([*events, UserUttered("yes")]) == []


@pytest.mark.parametrize(("text", "payload"), [
    ("Yes, delete", "/affirm"), ("yes delete", "/affirm"), ("  NO, KEEP IT!", "/deny"),
    ("yes, delete it all", None), ("/affirm", None), ("", None), (None, None),
])
def test_a_title_matches_whatever_the_case_and_punctuation(text: str | None, payload: str | None) -> None:
    assert typed_button_payload(text, DELETE) == payload


class _Tracker:
    def __init__(self, events: list[Any]) -> None:
        self.events = events


async def test_the_payload_is_parsed_and_the_patients_words_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []

    async def rasa_parse(self: Any, message: UserMessage, tracker: Any = None, only: bool = True) -> dict:
        parsed.append(message.text)
        return {"text": message.text, "intent": {"name": message.text.strip("/")}, "entities": []}

    monkeypatch.setattr(rasa_server, "_rasa_parse_message", rasa_parse)
    tracker = _Tracker([BotUttered("Are you sure?", data={"buttons": DELETE})])
    data = await parse_typed_buttons(MessageProcessor.__new__(MessageProcessor), UserMessage("Yes, delete"), tracker)
    assert (data["intent"]["name"], data["text"], parsed) == ("affirm", "Yes, delete", ["/affirm"])
    other = await parse_typed_buttons(MessageProcessor.__new__(MessageProcessor), UserMessage("what now?"), tracker)
    assert (other["text"], parsed[-1]) == ("what now?", "what now?")


CONSENT = [{"title": "I agree", "payload": "/give_consent"}, {"title": "No, thanks", "payload": "/refuse_consent"}]


@pytest.mark.parametrize(("intent", "buttons", "payload"), [
    ("affirm", CONSENT, "/give_consent"), ("deny", CONSENT, "/refuse_consent"),
    ("greet", CONSENT, None), ("affirm", DELETE, None), ("affirm", [], None), (None, CONSENT, None),
])
def test_a_typed_yes_or_no_answers_the_consent_question(intent: str | None, buttons: list, payload: str | None) -> None:
    assert answered_button_payload(intent, buttons) == payload


async def test_yes_to_the_consent_question_an_image_raised_is_consent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found chatting: the consent question an arriving image asks is sent by the action (no rule knows it was
    asked), so "yes" fell back to "Sorry, I didn't understand that"."""
    parsed: list[str] = []

    async def rasa_parse(self: Any, message: UserMessage, tracker: Any = None, only: bool = True) -> dict:
        parsed.append(message.text)
        intent = {"yes": "affirm", "hmm": "out_of_scope"}.get(message.text, message.text.strip("/"))
        return {"text": message.text, "intent": {"name": intent}, "entities": []}

    monkeypatch.setattr(rasa_server, "_rasa_parse_message", rasa_parse)
    tracker = _Tracker([ActionExecuted("action_process_image"), BotUttered("Do you agree?", data={"buttons": CONSENT})])
    processor = MessageProcessor.__new__(MessageProcessor)
    data = await parse_typed_buttons(processor, UserMessage("yes"), tracker)
    assert (data["intent"]["name"], data["text"], parsed) == ("give_consent", "yes", ["yes", "/give_consent"])
    other = await parse_typed_buttons(processor, UserMessage("hmm"), tracker)
    assert (other["intent"]["name"], parsed[-1]) == ("out_of_scope", "hmm")
