"""The Rasa server's compiled validation of action responses accepts and refuses what Rasa's own does."""

from __future__ import annotations

import inspect
import logging
import re
from typing import Any

import jsonschema
import pytest
import rasa.core.processor as processor_module
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_server
from bot.cli import ROOT
from bot.rasa_server import (
    ACTION_FAILED_RESPONSE,
    DebugLogCopies,
    action_response_validator,
    install,
    parse_typed_buttons,
    run_or_apologise,
    validate_action_result,
)
from bot.servers import free_port

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


def test_install_replaces_the_methods_and_the_validator_is_built_once(monkeypatch) -> None:
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    monkeypatch.setattr(RemoteAction, "run", RemoteAction.run)
    monkeypatch.setattr(MessageProcessor, "parse_message", MessageProcessor.parse_message)
    monkeypatch.setattr(processor_module, "copy", processor_module.copy)
    install()
    assert RemoteAction._validate_action_result is validate_action_result
    assert RemoteAction.run is run_or_apologise
    assert MessageProcessor.parse_message is parse_typed_buttons
    assert action_response_validator() is action_response_validator()
    assert processor_module.copy is DebugLogCopies


def test_the_processor_copies_only_for_debug_lines_and_only_when_they_are_written() -> None:
    source = inspect.getsource(processor_module)
    uses = re.findall(r"\bcopy\.(\w+)\(", source)
    assert uses and set(uses) == {"deepcopy"}  # the module is used for nothing else
    for use in re.finditer(r"copy\.deepcopy\(", source):  # each inside a debug line (its call opens just before)
        assert "structlogger.debug(" in source[max(0, use.start() - 250):use.start()]
    events = [{"event": "user"}]
    rasa_logger = logging.getLogger("rasa")
    level = rasa_logger.level
    try:
        rasa_logger.setLevel(logging.INFO)
        assert DebugLogCopies.deepcopy(events) is events
        rasa_logger.setLevel(logging.DEBUG)
        copied = DebugLogCopies.deepcopy(events)
        assert copied == events and copied is not events
    finally:
        rasa_logger.setLevel(level)


def _domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


async def test_a_failed_action_server_call_asks_the_patient_to_send_it_again() -> None:
    domain = _domain()
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    tracker = DialogueStateTracker("patient", domain.slots)
    closed = EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")  # nothing listens there
    events = await run_or_apologise(RemoteAction("action_answer_question", closed), CollectingOutputChannel(),
                                    nlg, tracker, domain)
    assert [type(event) for event in events] == [BotUttered]
    assert events[0].text == domain.responses[ACTION_FAILED_RESPONSE][0]["text"]
    assert "send your last message again" in events[0].text


async def test_a_rejection_is_left_to_rasa(monkeypatch: pytest.MonkeyPatch) -> None:
    async def reject(*_: Any) -> list:
        raise ActionExecutionRejection("validate_intake_form")

    monkeypatch.setattr(rasa_server, "_rasa_remote_run", reject)
    domain = _domain()
    with pytest.raises(ActionExecutionRejection):
        await run_or_apologise(RemoteAction("validate_intake_form", None), CollectingOutputChannel(),
                               TemplatedNaturalLanguageGenerator(domain.responses),
                               DialogueStateTracker("patient", domain.slots), domain)
