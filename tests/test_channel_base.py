"""channels/base.py: the guarantees every patient channel gives, through its guard.

The assistant behind the guard is a recording coroutine here; the channels' own
end-to-end tests (tests/e2e/) send through the real servers.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from channels.base import PatientOutput
from channels.rest import RestInput
from channels.twilio import TwilioInput
from kat import rate_limit
from kat.input_check import CUT_MARK, MAX_MESSAGE_CHARS


@pytest.fixture(autouse=True)
def fresh_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limit, "_LIMITER", {})


def run(channel: Any, message: UserMessage, fail: bool = False) -> List[UserMessage]:
    seen: List[UserMessage] = []

    async def assistant(m: UserMessage) -> None:
        seen.append(m)
        if fail:
            raise RuntimeError("the secret text of the patient")
        await m.output_channel.send_text_message(m.sender_id, "answer")

    asyncio.run(channel.guard(assistant, client_address="198.51.100.7")(message))
    return seen


def test_a_message_is_filed_under_the_channels_namespace_and_answered_back() -> None:
    collector = CollectingOutputChannel()
    [seen] = run(
        TwilioInput("sid", "token", "+15550001111"),
        UserMessage("hi", collector, "+14155550100", metadata={"evil": 1}),
    )
    assert seen.sender_id == "sms:+14155550100"
    assert seen.input_channel == "twilio"
    assert set(seen.metadata or {}) == {"kat_client"}
    assert "198.51" not in str(seen.metadata)
    # The provider's output is addressed with the provider's own id.
    assert collector.messages[0]["recipient_id"] == "+14155550100"


@pytest.mark.parametrize("sender", ["x/../victim", "", "a b", "%2e%2e", "é"])
def test_an_unacceptable_sender_is_refused_before_the_assistant(sender: Any) -> None:
    assert run(RestInput(), UserMessage("hi", CollectingOutputChannel(), sender)) == []


def test_a_huge_message_is_cut_keeping_both_ends() -> None:
    text = "I want to end my life. " + "x " * 500_000 + " I have the pills here."
    [seen] = run(RestInput(), UserMessage(text, CollectingOutputChannel(), "p1"))
    assert len(seen.text or "") == MAX_MESSAGE_CHARS
    assert (seen.text or "").startswith("I want to end my life.")
    assert (seen.text or "").endswith("I have the pills here.")
    assert CUT_MARK in (seen.text or "")


def test_a_failure_gets_the_calm_reply_and_logs_only_the_error_type(
    caplog: pytest.LogCaptureFixture,
) -> None:
    collector = CollectingOutputChannel()
    with caplog.at_level(logging.DEBUG):
        run(
            RestInput(),
            UserMessage("my secret question", collector, "+14155550100"),
            fail=True,
        )
    [reply] = collector.messages
    assert "988" in reply["text"] and "911" in reply["text"]
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "RuntimeError" in logged
    for secret in ("secret", "+14155550100", "198.51"):
        assert secret not in logged


def test_a_client_over_its_limit_gets_the_crisis_resources_not_the_assistant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAT_RATE_CONVERSATIONS_PER_HOUR", "2")
    channel = RestInput()
    outputs: List[CollectingOutputChannel] = []
    answered: List[UserMessage] = []
    for n in range(4):
        outputs.append(CollectingOutputChannel())
        answered += run(channel, UserMessage("open a ticket", outputs[-1], f"bot-{n}"))
    assert [m.sender_id for m in answered] == ["rest:bot-0", "rest:bot-1"]
    for refused in outputs[2:]:
        [reply] = refused.messages
        assert "988" in reply["text"] and "pausing" in reply["text"]


def test_patient_output_keeps_the_channel_name_and_is_idempotent() -> None:
    inner = CollectingOutputChannel()
    wrapped = PatientOutput.wrap(inner, "rest")
    assert PatientOutput.wrap(wrapped, "rest") is wrapped
    assert wrapped.name() == inner.name()
    asyncio.run(wrapped.send_text_message("rest:abc", "x"))
    assert inner.messages[0]["recipient_id"] == "abc"
    assert wrapped.messages is inner.messages
    assert isinstance(inner.messages[0], Dict)


def test_a_long_message_is_read_in_a_worker_thread_and_handed_to_rasa_read() -> None:
    """The processor here stands in for Rasa's (its parse_message records where it
    ran); the real one is exercised by tests/e2e/test_isolation_e2e.py."""
    import threading
    from types import SimpleNamespace

    ran_in: List[str] = []

    class Processor:
        async def parse_message(self, message: UserMessage) -> Dict[str, Any]:
            ran_in.append(threading.current_thread().name)
            return {"text": message.text, "intent": {"name": "faq"}, "entities": []}

    channel = RestInput()
    channel._app = SimpleNamespace(ctx=SimpleNamespace(agent=SimpleNamespace(processor=Processor())))  # type: ignore[assignment]
    [long] = run(channel, UserMessage("why " * 400, CollectingOutputChannel(), "p1"))
    [short] = run(channel, UserMessage("hi", CollectingOutputChannel(), "p2"))
    assert long.parse_data["intent"]["name"] == "faq"
    assert ran_in and ran_in[0] != threading.main_thread().name
    assert not short.parse_data  # short messages are read by Rasa, as usual
