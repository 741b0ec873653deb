"""Measured fixes for slow spots in Rasa 3.6's hot path (see README, Performance).

Rasa checks every action server response with ``jsonschema.validate(result, spec)``,
which first validates the *schema itself* against the JSON-Schema meta-schema and builds
a new validator — for every custom action call. Under load that was 29 % of the Rasa
server's CPU time (py-spy, 10 simulated patients). :func:`install` makes
``RemoteAction._validate_action_result`` use one validator built once for Rasa's own,
fixed response schema: same checks, same error, same message.

Called explicitly when the Rasa server builds its NLG (components/profile_nlg.py), not on
import. Revisit when upgrading Rasa (later versions cache the validator themselves).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict

_INSTALLED = False


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    spec = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(spec)
    cls.check_schema(spec)  # once, instead of on every call
    return cls(spec)


def _validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
    from jsonschema import ValidationError, exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    error = exceptions.best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    """Use the cached validator for action server responses (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result
    _INSTALLED = True
