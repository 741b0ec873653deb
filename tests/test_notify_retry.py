"""The inbox's retry loop retries failed notifications, and never one still in flight."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from kat.handoff_store import tickets, utcnow
from kat.notify import NotifyConfig, retry_failed
from tests.http_receiver import Receiver


def _set_pending_since(store: Any, ticket_id: str, seconds_ago: float) -> None:
    record = {
        "status": "pending",
        "error": None,
        "at": (utcnow() - timedelta(seconds=seconds_ago)).isoformat(),
    }
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(tickets)
            .where(tickets.c.id == ticket_id)
            .values(notification=json.dumps(record))
        )


def test_fresh_pending_is_left_to_its_first_delivery(temp_store: Any) -> None:
    receiver = Receiver()
    try:
        in_flight = temp_store.open_ticket("n1", "rest", "patient_asked", False, [])
        temp_store.set_notification(in_flight.id, "pending")
        failed = temp_store.open_ticket("n2", "rest", "patient_asked", False, [])
        temp_store.set_notification(failed.id, "failed", "ConnectionError")
        stale = temp_store.open_ticket("n3", "rest", "patient_asked", False, [])
        _set_pending_since(temp_store, stale.id, seconds_ago=600)

        due = {t.id for t in temp_store.tickets_to_notify()}
        assert due == {failed.id, stale.id}

        config = NotifyConfig(url=receiver.url, secret="s")
        assert retry_failed(temp_store, config) == 2
        sent = {json.loads(p["body"])["ticket_id"] for p in receiver.posts}
        assert sent == {failed.id, stale.id}
        assert temp_store.get(in_flight.id).notification["status"] == "pending"
        assert temp_store.get(stale.id).notification["status"] == "delivered"
    finally:
        receiver.close()


def test_resolved_tickets_are_not_notified(temp_store: Any) -> None:
    ticket = temp_store.open_ticket("n4", "rest", "patient_asked", False, [])
    temp_store.set_notification(ticket.id, "failed", "HTTP 503")
    temp_store.set_status(ticket.id, "resolved")
    assert temp_store.tickets_to_notify() == []
