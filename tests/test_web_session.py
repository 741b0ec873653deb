"""The web chat's session tokens (kat/web_session.py) and the channel's configuration."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from kat.web_session import (
    WeakSecretError,
    is_valid,
    issue,
    parse_origins,
    resume_or_issue,
    resume_token,
)

SECRET = "s" * 40
OTHER_SECRET = "t" * 40


def test_issued_sessions_are_random_and_verifiable() -> None:
    ids = {issue(SECRET)[0] for _ in range(200)}
    assert len(ids) == 200
    session_id, token = issue(SECRET)
    assert len(session_id) == 43
    assert is_valid(SECRET, session_id, token)
    expected = hmac.new(SECRET.encode(), session_id.encode(), hashlib.sha256).hexdigest()
    assert token == expected


def test_a_token_is_bound_to_its_session_and_its_secret() -> None:
    session_id, token = issue(SECRET)
    other_id, other_token = issue(SECRET)
    assert not is_valid(SECRET, other_id, token)
    assert not is_valid(SECRET, session_id, other_token)
    assert not is_valid(OTHER_SECRET, session_id, token)
    # One changed character is enough to fail.
    flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert not is_valid(SECRET, session_id, flipped)


@pytest.mark.parametrize(
    "session_id, token",
    [
        (None, None),
        ("", ""),
        (123, 456),
        (["x"], {"y": 1}),
        ("short", resume_token(SECRET, "short")),  # right HMAC, but not an issued id
        ("a" * 43, "A" * 64),  # upper-case hex is not what the server issues
    ],
)
def test_malformed_values_are_refused(session_id: object, token: object) -> None:
    assert not is_valid(SECRET, session_id, token)


def test_resume_needs_the_token() -> None:
    session_id, token = issue(SECRET)
    resumed = resume_or_issue(SECRET, {"session_id": session_id, "resume_token": token})
    assert resumed == (session_id, token, True)

    for request in (
        {"session_id": session_id},
        {"session_id": session_id, "resume_token": "0" * 64},
        {
            "session_id": session_id,
            "resume_token": resume_token(OTHER_SECRET, session_id),
        },
        None,
        "not a dict",
        {},
    ):
        new_id, new_token, was_resumed = resume_or_issue(SECRET, request)
        assert not was_resumed
        assert new_id != session_id
        assert is_valid(SECRET, new_id, new_token)


@pytest.mark.parametrize("secret", [None, "", "too-short"])
def test_weak_secrets_are_refused(secret: object) -> None:
    with pytest.raises(WeakSecretError):
        resume_token(secret, "abc")  # type: ignore[arg-type]


def test_origins() -> None:
    assert parse_origins("http://127.0.0.1:8080, https://clinic.example/") == [
        "http://127.0.0.1:8080",
        "https://clinic.example",
    ]
    assert parse_origins("") == []
    assert parse_origins(None) == []
    for bad in ("*", "clinic.example", "https://clinic.example/chat", "javascript:x"):
        with pytest.raises(ValueError):
            parse_origins(bad)


def test_channel_refuses_weak_secret_and_open_origins() -> None:
    from channels.socketio import SocketIOInput

    channel = SocketIOInput.from_credentials(
        {"session_secret": SECRET, "cors_allowed_origins": "http://127.0.0.1:8080"}
    )
    assert channel.name() == "socketio"  # response variants keyed by channel still apply
    assert channel.cors_allowed_origins == ["http://127.0.0.1:8080"]  # type: ignore[attr-defined]
    with pytest.raises(WeakSecretError):
        SocketIOInput.from_credentials(
            {"session_secret": "short", "cors_allowed_origins": "http://127.0.0.1:8080"}
        )
    # An empty origin list would turn python-engineio's origin check off.
    with pytest.raises(ValueError):
        SocketIOInput.from_credentials(
            {"session_secret": SECRET, "cors_allowed_origins": ""}
        )
