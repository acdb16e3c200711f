"""The Rasa server's compiled validation of action responses accepts and refuses what Rasa's own does."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot.rasa_server import action_response_validator, install, validate_action_result

VALID: list[dict[str, Any]] = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "urgent", "value": True}], "responses": [{"text": "hello"}]},
]
INVALID: list[dict[str, Any]] = [
    {"events": [{"event": 3}]},
    {"events": "slot"},
    {"events": [{"name": "urgent"}]},
    {"responses": {"text": "hello"}},
]


def rasa_verdict(result: dict[str, Any]) -> str | None:
    """What ``jsonschema.validate`` (Rasa's call) says of ``result``: None, or the error's message."""
    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    except jsonschema.ValidationError as error:
        return error.message
    return None


@pytest.mark.parametrize("result", VALID)
def test_valid_responses_pass(result: dict[str, Any]) -> None:
    assert rasa_verdict(result) is None
    assert validate_action_result(None, result) is True  # type: ignore[arg-type]


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_raise_rasas_error_with_its_hint(result: dict[str, Any]) -> None:
    expected = rasa_verdict(result)
    assert expected is not None
    with pytest.raises(jsonschema.ValidationError) as raised:
        validate_action_result(None, result)  # type: ignore[arg-type]
    assert raised.value.message.startswith(expected + ". Failed to validate Action server response")


def test_install_replaces_the_method_and_the_validator_is_built_once(monkeypatch) -> None:
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    install()
    assert RemoteAction._validate_action_result is validate_action_result
    assert action_response_validator() is action_response_validator()
