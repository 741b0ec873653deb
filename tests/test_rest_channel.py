"""The hardened REST channel's request handling (channels/rest.py)."""

from __future__ import annotations

from channels.rest import parse_body
from kat.channel_replies import failure_reply, rate_limited_reply
from kat.input_check import message_text


def test_invalid_utf8_is_decoded_leniently() -> None:
    body = parse_body(b'{"sender": "p1", "message": "caf\xe9 \xff\xfe"}')
    assert body is not None
    assert body["sender"] == "p1"
    assert body["message"].startswith("caf")
    assert "\ufffd" in body["message"]


def test_bodies_that_are_not_a_json_object_are_refused() -> None:
    for raw in (b"", b"not json", b"[1, 2]", b'"text"', b"\x00\x01\x02"):
        assert parse_body(raw) is None


def test_message_is_always_text() -> None:
    """Both the REST and the web-chat channel read message fields this way."""
    assert message_text(None) == ""
    assert message_text(42) == "42"
    assert message_text(True) == ""
    assert message_text(["a"]) == ""
    assert message_text({"a": 1}) == ""
    cleaned = message_text("a\ud800b\x00")
    assert cleaned.startswith("a\ufffd") and cleaned.endswith("b")
    assert cleaned.encode("utf-8")  # valid Unicode now, storable anywhere


def test_failure_reply_has_the_emergency_numbers_and_no_placeholder() -> None:
    reply = failure_reply()
    assert "911" in reply and "988" in reply
    assert "[" not in reply and "{" not in reply


def test_the_rate_limited_reply_gives_the_crisis_resources_too() -> None:
    reply = rate_limited_reply()
    assert "911" in reply and "988" in reply
    assert "[" not in reply and "{" not in reply


def test_json_nested_deeper_than_python_can_parse_is_refused_not_a_crash() -> None:
    assert parse_body(b'{"sender": "p", "message": ' + b"[" * 100_000 + b"}") is None
