"""The action server launcher: shared-secret check and refusal to start without one
(the running server is tested in tests/e2e/test_security_e2e.py)."""

from __future__ import annotations

import pytest

from actions.server import HEADER, OPEN_PATHS, build_app, token_status


def test_token_status() -> None:
    assert token_status(None, "secret") == 401
    assert token_status("", "secret") == 401
    assert token_status("guess", "secret") == 403
    assert token_status("secret", "") == 403
    assert token_status("secret", "secret") == 200
    assert HEADER == "X-KAT-Action-Token" and OPEN_PATHS == {"/health"}


def test_refuses_to_start_without_a_token() -> None:
    with pytest.raises(ValueError):
        build_app("")
    app = build_app("secret")
    assert {route.path for route in app.router.routes} >= {"health", "webhook"}
