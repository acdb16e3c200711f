"""A button's title typed as text is handled like the button, in every channel; so is a typed yes or no to a
yes/no question whose buttons carry other intents (the consent question).

Patients type "Yes, delete" instead of tapping it, or their channel cannot show buttons at all. When a message
matches the title of a button the bot offered since the patient's last message (case, punctuation and spacing
ignored), the Rasa server parses the button's payload instead of the text (``bot.rasa_server``), while the
conversation keeps the patient's own words. The offered buttons come from the tracker, so every replica of a
scaled deployment sees the same ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Reversible
from typing import Any

from rasa.shared.core.events import BotUttered, UserUttered

_NOT_WORD = re.compile(r"[^\w]+")
# Questions whose buttons answer yes and no with intents of their own (the consent question): a typed yes or no
# (Rasa's ``affirm`` / ``deny``) chooses the yes or the no button.
YES_NO_BUTTONS = (("/give_consent", "/refuse_consent"),)
ANSWER_INTENTS = {"affirm": 0, "deny": 1}


def _normal(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def offered_buttons(events: Reversible[Any]) -> list[dict[str, Any]]:
    """The buttons of the bot messages sent since the last user message (newest events last); reads back from
    the end only, never the whole history."""
    buttons: list[dict[str, Any]] = []
    for event in reversed(events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            buttons = list(event.data.get("buttons") or []) + buttons
    return buttons


def typed_button_payload(text: str | None, buttons: Iterable[dict[str, Any]]) -> str | None:
    """The payload of the button whose title ``text`` is (ignoring case and punctuation), else None."""
    typed = _normal(text or "")
    if not typed or (text or "").lstrip().startswith("/"):
        return None
    return next((str(b["payload"]) for b in buttons if b.get("payload") and _normal(str(b.get("title") or ""))
                 == typed), None)


def answered_button_payload(intent: str | None, buttons: Iterable[dict[str, Any]]) -> str | None:
    """The payload of the yes (``affirm``) or no (``deny``) button of a yes/no question offered, else None."""
    index = ANSWER_INTENTS.get(intent or "")
    if index is None:
        return None
    payloads = {str(b.get("payload")) for b in buttons}
    return next((pair[index] for pair in YES_NO_BUTTONS if set(pair) <= payloads), None)
