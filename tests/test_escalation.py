"""kat/escalation.py: an urgent ticket nobody claims is notified again, at a doubling
interval, until claimed. Real hand-off store (SQLite); the clock is moved by passing
``now``; the notifications go to a local receiver (tests/http_receiver.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest

from kat import escalation
from kat.escalation import Escalations, claim_minutes, is_overdue, run_escalations
from kat.handoff_store import HandoffStore, utcnow
from kat.notify import NotifyConfig, verify
from tests.http_receiver import Receiver

SECRET = "escalation-test-secret"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.close()


def store(tmp_path: Path) -> HandoffStore:
    return HandoffStore(f"sqlite:///{tmp_path / 'h.db'}")


def test_the_reminders_come_at_a_doubling_interval_until_the_ticket_is_claimed(
    tmp_path: Path, receiver: Receiver
) -> None:
    tickets = store(tmp_path)
    urgent = tickets.open_ticket("sms:+1555", "twilio", "crisis", True, [])
    calm = tickets.open_ticket("rest:b", "rest", "patient_asked", False, [])
    config = NotifyConfig(url=receiver.url, secret=SECRET)
    start = urgent.created_at
    assert start is not None

    def at(minutes: float) -> int:
        return run_escalations(
            tickets, now=start + timedelta(minutes=minutes), minutes=5, config=config
        )

    # 5 minutes: first reminder; 15: second; 35: third (5 * (2^n - 1)).
    assert [at(m) for m in (4, 5, 6, 14, 15, 34, 35)] == [0, 1, 0, 0, 1, 0, 1]
    bodies = [json.loads(p["body"]) for p in receiver.posts]
    assert [b["escalation_number"] for b in bodies] == [1, 2, 3]
    assert all(
        b["event"] == "handoff.ticket_unclaimed" and b["escalation"] for b in bodies
    )
    assert {b["ticket_id"] for b in bodies} == {urgent.id}  # never the calm one
    assert [b["minutes_unclaimed"] for b in bodies] == [5, 15, 35]
    post = receiver.posts[0]
    assert verify(
        SECRET,
        post["headers"]["X-KAT-Timestamp"],
        post["body"],
        post["headers"]["X-KAT-Signature"],
    )
    assert "sms:+1555" not in str(bodies)  # no conversation id, no text
    # Claimed: no more reminders, and it is no longer overdue.
    tickets.claim(urgent.id, "jo")
    assert at(75) == 0 and len(receiver.posts) == 3
    assert not is_overdue(tickets.get(urgent.id), 5, start + timedelta(minutes=75))
    assert not is_overdue(calm, 5, start + timedelta(minutes=75))


def test_a_failed_reminder_is_tried_again_and_a_restart_repeats_none(
    tmp_path: Path,
) -> None:
    tickets = store(tmp_path)
    urgent = tickets.open_ticket("rest:c", "rest", "clinical_question", True, [])
    failing = Receiver(fail_first=10**6)
    try:
        config = NotifyConfig(url=failing.url, secret=SECRET)
        later = urgent.created_at + timedelta(minutes=6)  # type: ignore[operator]
        assert run_escalations(tickets, now=later, minutes=5, config=config) == 0
        assert Escalations(tickets).sent() == {}  # not counted as sent
        failing.fail_first = 0
        assert run_escalations(tickets, now=later, minutes=5, config=config) == 1
        # A new process (the inbox restarted) knows reminder 1 went out.
        again = HandoffStore(tickets.url)
        assert run_escalations(again, now=later, minutes=5, config=config) == 0
        assert Escalations(again).sent() == {urgent.id: 1}
    finally:
        failing.close()


def test_the_escalation_address_wins_and_the_profile_sets_the_minutes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAT_NOTIFY_URL", "http://notify.example/")
    assert escalation.escalation_config().url == "http://notify.example/"
    monkeypatch.setenv("KAT_ESCALATION_URL", "http://pager.example/")
    assert escalation.escalation_config().url == "http://pager.example/"
    assert claim_minutes() == 5  # content/clinic_profile.yml
    assert claim_minutes({"urgent_claim_minutes": 2}) == 2
    with pytest.raises(ValueError):
        claim_minutes({"urgent_claim_minutes": 0})


def test_a_ticket_is_overdue_only_when_urgent_open_and_old_enough(tmp_path: Path) -> None:
    tickets = store(tmp_path)
    urgent = tickets.open_ticket("rest:d", "rest", "crisis", True, [])
    assert not is_overdue(urgent, 5, utcnow())
    assert is_overdue(urgent, 5, utcnow() + timedelta(minutes=5))


def test_the_inbox_marks_an_overdue_ticket(tmp_path: Path) -> None:
    from kat import handoff_store
    from staff_inbox.app import ticket_json

    tickets = store(tmp_path)
    urgent = tickets.open_ticket("rest:e", "rest", "crisis", True, [])
    assert ticket_json(urgent)["overdue"] is False
    old = utcnow() - timedelta(minutes=claim_minutes() + 1)
    with tickets.engine.begin() as conn:
        conn.execute(
            handoff_store.tickets.update()
            .where(handoff_store.tickets.c.id == urgent.id)
            .values(created_at=old)
        )
    assert ticket_json(tickets.get(urgent.id))["overdue"] is True  # type: ignore[arg-type]
