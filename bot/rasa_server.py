"""The Rasa server's entry point: Rasa's own command line, with Q&Aid's two fixes installed first.

``python -m bot.rasa_server run --model ...`` takes the arguments of ``rasa``. Before handing over it

* makes a custom action that fails on the action server's side (the server died mid-request, answered 5xx,
  timed out) answer the patient with the domain's ``utter_action_failed`` ("please send it again") instead of
  silence: Rasa 3.6 logs the error, drops the action's events and waits for the next message without a word.
  A rejection (HTTP 400, what forms use) is left to Rasa;
* parses a message that types the title of a button the bot just offered (or a yes or no to the consent
  question) as the button's payload (:mod:`bot.typed_buttons`), keeping the patient's words in the conversation;
* makes Rasa validate each action-server response against one compiled validator. Rasa 3.6's
``RemoteAction._validate_action_result`` calls ``jsonschema.validate``, which checks the (constant) schema
itself and builds a new validator on every call: 16.6% of the Rasa server's main thread with 50 patients
(``bench/README.md``). The replacement accepts and refuses exactly the same responses, with the same error;
* stops Rasa's message processor from deep-copying the values of its debug log lines when debug logging is off:
  ``rasa.core.processor`` uses the ``copy`` module only for ``copy.deepcopy`` arguments of ``structlogger.debug``
  (every turn's events, slots and parse data), evaluated whether or not the line is written (4.8% of the main
  thread with 50 patients).
"""

from __future__ import annotations

import copy
import functools
import logging
import sys
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

from bot.typed_buttons import answered_button_payload, offered_buttons, typed_button_payload

logger = logging.getLogger(__name__)

ACTION_FAILED_RESPONSE = "utter_action_failed"
_rasa_remote_run = RemoteAction.run
_rasa_parse_message = MessageProcessor.parse_message


@functools.cache
def action_response_validator() -> Validator:
    """One validator for Rasa's action-response schema, the schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the compiled validator: True, or the best-matching
    :class:`ValidationError` (as ``jsonschema.validate`` raises) with Rasa's hint appended."""
    error: ValidationError | None = best_match(action_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the Action "
        f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


async def run_or_apologise(self: RemoteAction, output_channel: OutputChannel, nlg: NaturalLanguageGenerator,
                           tracker: DialogueStateTracker, domain: Domain) -> list[Event]:
    """``RemoteAction.run``; when the action server fails, the patient hears ``utter_action_failed``."""
    try:
        return await _rasa_remote_run(self, output_channel, nlg, tracker, domain)
    except ActionExecutionRejection:
        raise
    except RasaException as error:
        logger.error("Custom action %r failed (%s); asking the patient to send the message again.",
                     self.name(), error.__cause__ or error)
        message = await nlg.generate(ACTION_FAILED_RESPONSE, tracker, output_channel.name())
        if message is None:
            raise
        return [create_bot_utterance(message)]


async def parse_typed_buttons(self: MessageProcessor, message: UserMessage,
                              tracker: DialogueStateTracker | None = None,
                              only_output_properties: bool = True) -> dict[str, Any]:
    """``MessageProcessor.parse_message``; a typed button title (or a yes or no that answers a yes/no question
    offered with buttons) is parsed as that button's payload."""
    buttons = offered_buttons(tracker.events) if tracker is not None else []
    payload = typed_button_payload(message.text, buttons)
    if payload is None:
        parse_data = await _rasa_parse_message(self, message, tracker, only_output_properties)
        payload = answered_button_payload((parse_data.get("intent") or {}).get("name"), buttons) if buttons else None
        if payload is None:
            return parse_data
    pressed = copy.copy(message)
    pressed.text = payload
    parse_data = await _rasa_parse_message(self, pressed, tracker, only_output_properties)
    return {**parse_data, "text": message.text}


class DebugLogCopies:
    """Stands in for the ``copy`` module inside ``rasa.core.processor``, where ``copy.deepcopy`` only ever copies
    values for ``structlogger.debug``: the value itself unless debug logging is on."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        """``copy.deepcopy(value)`` when Rasa logs at DEBUG level, else ``value`` (the log line is dropped)."""
        return copy.deepcopy(value, memo) if logging.getLogger("rasa").isEnabledFor(logging.DEBUG) else value


def install() -> None:
    """Install :func:`run_or_apologise` and :func:`validate_action_result` on Rasa's ``RemoteAction``,
    :func:`parse_typed_buttons` on its ``MessageProcessor`` and :class:`DebugLogCopies` in its module."""
    import rasa.core.processor as processor_module

    RemoteAction.run = run_or_apologise
    MessageProcessor.parse_message = parse_typed_buttons
    RemoteAction._validate_action_result = validate_action_result
    processor_module.copy = DebugLogCopies


def main(argv: list[str] | None = None) -> None:
    """Install the fix, then run Rasa's command line with ``argv`` (default: this process's arguments)."""
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
