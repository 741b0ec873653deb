"""Staff notifications: signed, retried with backoff, recorded on the ticket.

The receiver is a real HTTP server on 127.0.0.1 (a local stand-in for Slack/Teams or a
relay); nothing is mocked except the sleep between retries, to keep the test fast.
"""

from __future__ import annotations

import json
from typing import Iterator, List

import pytest

from kat.notify import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    NotifyConfig,
    notify_and_record,
    retry_failed,
    send,
    verify,
)
from tests.http_receiver import Receiver

SECRET = "test-secret"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def config(url: str, fmt: str = "json") -> NotifyConfig:
    return NotifyConfig(url=url, secret=SECRET, fmt=fmt)


def test_signed_json_without_patient_text(temp_store, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    ticket = temp_store.open_ticket(
        "c1", "rest", "clinical_question", True, [{"from": "patient", "text": "my dose?"}]
    )
    assert send(ticket, config(receiver.url), sleep=lambda s: None) is None
    got = receiver.posts[0]
    timestamp, signature = (
        got["headers"][TIMESTAMP_HEADER],
        got["headers"][SIGNATURE_HEADER],
    )
    assert verify(SECRET, timestamp, got["body"], signature)
    assert not verify("wrong", timestamp, got["body"], signature)
    data = json.loads(got["body"])
    assert data["ticket_id"] == ticket.id and data["urgent"] is True
    assert "my dose" not in got["body"].decode()


def test_slack_format(temp_store, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    ticket = temp_store.open_ticket("c2", "telegram", "crisis", True, [])
    send(ticket, config(receiver.url, "slack"), sleep=lambda s: None)
    text = json.loads(receiver.posts[0]["body"])["text"]
    assert "URGENT" in text and ticket.id in text


def test_retries_with_backoff_then_delivers(temp_store) -> None:  # type: ignore[no-untyped-def]
    flaky = Receiver(fail_first=2)
    pauses: List[float] = []
    ticket = temp_store.open_ticket("c3", "rest", "patient_asked", False, [])
    assert send(ticket, config(flaky.url), sleep=pauses.append) is None
    assert len(flaky.posts) == 3 and pauses == [0.5, 2.0]
    flaky.close()


def test_receiver_down_keeps_the_ticket_and_records_the_failure(temp_store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("kat.notify.time.sleep", lambda s: None)
    ticket = temp_store.open_ticket("c4", "rest", "patient_asked", False, [])
    notify_and_record(temp_store, ticket, config("http://127.0.0.1:9/down"))
    again = temp_store.get(ticket.id)
    assert again is not None and again.notification["status"] == "failed"
    # The receiver comes back: the retry loop delivers and records it.
    back = Receiver()
    assert retry_failed(temp_store, config(back.url)) == 1
    assert temp_store.get(ticket.id).notification["status"] == "delivered"
    back.close()


def test_old_timestamps_are_rejected() -> None:
    from kat.notify import sign

    assert not verify(SECRET, "1000", b"{}", sign(SECRET, "1000", b"{}"))
