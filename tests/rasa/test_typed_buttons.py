"""A typed button title is parsed as the button's payload, with the patient's words kept."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from bot import rasa_server
from bot.rasa_server import parse_typed_buttons
from bot.typed_buttons import offered_buttons, typed_button_payload

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
