"""The Rasa server's entry point: Rasa's own command line, with Q&Aid's speed fix installed first.

``python -m bot.rasa_server run --model ...`` takes the arguments of ``rasa``. Before handing over it makes
Rasa validate each action-server response against one compiled validator. Rasa 3.6's
``RemoteAction._validate_action_result`` calls ``jsonschema.validate``, which checks the (constant) schema
itself and builds a new validator on every call: 16.6% of the Rasa server's main thread with 50 patients
(``bench/README.md``). The replacement accepts and refuses exactly the same responses, with the same error.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


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


def install() -> None:
    """Replace Rasa's per-call schema validation of action responses with :func:`validate_action_result`."""
    RemoteAction._validate_action_result = validate_action_result


def main(argv: list[str] | None = None) -> None:
    """Install the fix, then run Rasa's command line with ``argv`` (default: this process's arguments)."""
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
