"""kat/conversation_id.py: one namespace per channel, ids checked at the door."""

from __future__ import annotations

import pytest

from kat import conversation_id as ids


@pytest.mark.parametrize(
    "channel, provider_id, conversation",
    [
        ("twilio", "+14155550100", "sms:+14155550100"),
        ("twilio", "whatsapp:+14155550100", "whatsapp:+14155550100"),
        ("rest", "me", "rest:me"),
        ("socketio", "Abc_-123", "web:Abc_-123"),
        # token_urlsafe ids may start with "-" or "_" (1 in 32 web chats)
        ("socketio", "-bc_-123", "web:-bc_-123"),
        ("socketio", "_bc_-123", "web:_bc_-123"),
        ("telegram", "123456789", "telegram:123456789"),
        ("facebook", "2783465", "messenger:2783465"),
        ("slack", "U012AB3CD", "slack:U012AB3CD"),
    ],
)
def test_each_channel_has_its_namespace_and_the_way_back(
    channel: str, provider_id: str, conversation: str
) -> None:
    assert ids.for_channel(channel, provider_id) == conversation
    assert ids.provider_id(channel, conversation) == provider_id


@pytest.mark.parametrize(
    "bad",
    [
        "x/../victim",
        "..%2Fvictim",
        "%2F..%2F",
        "a b",
        "a\nb",
        "",
        "x" * (ids.MAX_PROVIDER_ID_CHARS + 1),
        ":starts-with-a-colon",
        ".hidden",
        "<script>",
        "é",
        None,
        42,
        ["a"],
    ],
)
def test_odd_ids_are_refused(bad: object) -> None:
    assert ids.for_channel("rest", bad) is None


def test_a_rest_client_cannot_name_another_channels_conversation() -> None:
    """The attack of issue 15: a REST sender equal to an SMS patient's number, or to
    the full namespaced id, stays in the rest: namespace."""
    sms_patient = ids.for_channel("twilio", "+14155550100")
    assert ids.for_channel("rest", "+14155550100") != sms_patient
    assert ids.for_channel("rest", "sms:+14155550100") == "rest:sms:+14155550100"
    assert ids.for_channel("rest", "web:abc") != ids.for_channel("socketio", "abc")
    assert ids.namespace_of("rest:sms:+1") == "rest"


def test_an_accepted_id_goes_into_a_url_as_it_is_anything_else_stays_one_segment() -> None:
    """Sanic does not unquote path parameters: "web%3Aabc" would name another
    (empty) conversation than "web:abc"."""
    for conversation in ("web:Abc_-1", "sms:+14155550100", "whatsapp:+1", "slack:U1"):
        assert ids.url_segment(conversation) == conversation
    assert "/" not in ids.url_segment("x/../web:victim")
    assert ids.url_segment("a b?c#d") == "a%20b%3Fc%23d"


def test_every_id_the_servers_issue_is_accepted() -> None:
    """A web chat session id refused at the door would leave that patient in
    silence: it happened to the 1 in 32 ids that start with "-" or "_"."""
    from kat.web_session import new_session_id

    for _ in range(5000):
        session = new_session_id()
        assert ids.for_channel("socketio", session) == f"web:{session}", session
        assert ids.for_channel("rest", session) is not None
