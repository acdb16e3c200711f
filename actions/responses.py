"""What the bot says: every sentence a patient reads is a response in ``domain.yml``, rendered here.

The actions fill a response's ``{placeholders}`` with their values (the way Rasa fills them from slots) and
send the text, so that wording can be reviewed and translated in one file without reading Python, and a
reply can join two responses ("the answer" and "this is not a diagnosis"). Responses with buttons that need no
values are sent by name (``dispatcher.utter_message(response=...)``) and Rasa renders them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from rasa_sdk.executor import CollectingDispatcher

from qaid.state import REPO_ROOT

DOMAIN_FILE = REPO_ROOT / "domain.yml"


@cache
def _responses() -> dict[str, dict[str, Any]]:
    responses = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))["responses"]
    return {name: variants[0] for name, variants in responses.items()}


def sentence(name: str, **values: Any) -> str:
    """The text of response ``name`` with its placeholders filled from ``values``."""
    return str(_responses()[name]["text"]).format(**values)


def say(dispatcher: CollectingDispatcher, name: str, *, buttons: list[dict[str, Any]] | None = None,
        **values: Any) -> None:
    """Send response ``name`` filled from ``values``, with ``buttons`` built by the action (one per hospital, say)
    followed by the response's own buttons."""
    offered = [*(buttons or []), *(_responses()[name].get("buttons") or [])]
    dispatcher.utter_message(text=sentence(name, **values), buttons=offered or None)
