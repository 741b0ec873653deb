"""The cached action-response validator accepts and rejects exactly what Rasa's does."""

from __future__ import annotations

from typing import Any, Dict

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from components import speedups

VALID = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "x", "value": 1}],
        "responses": [{"text": "hi"}],
    },
    {},
]
INVALID: list[Dict[str, Any]] = [
    {"events": "not a list"},
    {"events": [{"no_event_key": 1}]},
    {"responses": "nope"},
    {"events": [{"event": 5}]},
]


def rasa_original(result: Dict[str, Any]) -> bool:
    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    except jsonschema.ValidationError:
        return False
    return True


def test_same_verdicts_as_jsonschema_validate() -> None:
    speedups.install()
    action = RemoteAction("action_handoff", None)
    for result in VALID:
        assert rasa_original(result)
        assert action._validate_action_result(result) is True
    for result in INVALID:
        assert not rasa_original(result)
        with pytest.raises(jsonschema.ValidationError) as error:
            action._validate_action_result(result)
        assert "Failed to validate Action server response" in error.value.message


def test_install_is_idempotent_and_replaces_the_method() -> None:
    speedups.install()
    speedups.install()
    assert RemoteAction._validate_action_result is speedups._validate_action_result
