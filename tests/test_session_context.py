"""kat/session_context.py and action_session_start: a new session keeps the open
ticket, its urgency and an earlier crisis (real hand-off store on SQLite)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Dict, List

import pytest
import sqlalchemy as sa

from actions.session_start import ActionSessionStart
from kat import handoff_store
from kat.handoff_store import HandoffStore
from kat.session_context import CRISIS_MEMORY_HOURS, restored_slots
from tests.conftest import make_tracker


def ticket(store: HandoffStore, conversation: str, reason: str, urgent: bool) -> str:
    return store.open_ticket(conversation, "rest", reason, urgent, transcript=[]).id


def age(store: HandoffStore, ticket_id: str, hours: float) -> None:
    """Move a ticket's creation back in time."""
    when = handoff_store.utcnow() - timedelta(hours=hours)
    with store.engine.begin() as conn:
        conn.execute(
            handoff_store.tickets.update()
            .where(handoff_store.tickets.c.id == ticket_id)
            .values(created_at=when, updated_at=when)
        )


def test_a_conversation_without_tickets_starts_fresh(temp_store: HandoffStore) -> None:
    assert restored_slots(temp_store, "rest:nobody") == {}


def test_an_open_ticket_and_its_urgency_are_restored(temp_store: HandoffStore) -> None:
    ticket_id = ticket(temp_store, "rest:a", "clinical_question", urgent=True)
    assert restored_slots(temp_store, "rest:a") == {
        "handoff_requested": True,
        "handoff_active": True,
        "handoff_ticket_id": ticket_id,
        "handoff_urgent": True,
    }
    assert restored_slots(temp_store, "rest:someone-else") == {}


def test_a_resolved_ticket_is_not_restored(temp_store: HandoffStore) -> None:
    ticket_id = ticket(temp_store, "rest:b", "patient_asked", urgent=False)
    temp_store.set_status(ticket_id, "resolved")
    assert restored_slots(temp_store, "rest:b") == {}


def test_an_open_crisis_ticket_is_remembered_however_old(
    temp_store: HandoffStore,
) -> None:
    ticket_id = ticket(temp_store, "rest:c", "crisis", urgent=True)
    age(temp_store, ticket_id, hours=CRISIS_MEMORY_HOURS * 3)
    slots = restored_slots(temp_store, "rest:c")
    assert slots["earlier_crisis"] is True and slots["handoff_active"] is True


def test_a_resolved_crisis_is_remembered_for_the_memory_window_only(
    temp_store: HandoffStore,
) -> None:
    ticket_id = ticket(temp_store, "rest:d", "crisis", urgent=True)
    temp_store.set_status(ticket_id, "resolved")
    age(temp_store, ticket_id, hours=CRISIS_MEMORY_HOURS - 1)
    assert restored_slots(temp_store, "rest:d") == {"earlier_crisis": True}
    age(temp_store, ticket_id, hours=CRISIS_MEMORY_HOURS + 1)
    assert restored_slots(temp_store, "rest:d") == {}


async def run_action(sender: str) -> List[Dict[str, Any]]:
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    events = await ActionSessionStart().run(
        dispatcher, make_tracker(sender_id=sender), domain={}
    )
    assert dispatcher.messages == []  # a session start says nothing
    return events


async def test_the_action_starts_the_session_then_restores_then_listens(
    temp_store: HandoffStore,
) -> None:
    ticket_id = ticket(temp_store, "rest:e", "crisis", urgent=True)
    events = await run_action("rest:e")
    assert events[0]["event"] == "session_started"
    assert events[-1] == {**events[-1], "event": "action", "name": "action_listen"}
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {
        "handoff_requested": True,
        "handoff_active": True,
        "handoff_ticket_id": ticket_id,
        "handoff_urgent": True,
        "earlier_crisis": True,
    }


async def test_the_session_starts_when_the_store_cannot_be_read(
    temp_store: HandoffStore, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    # The database is gone: its table dropped under the running store.
    with temp_store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE handoff_tickets"))
    events = await run_action("rest:f")
    assert [e["event"] for e in events] == ["session_started", "action"]
    assert "session context not restored: OperationalError" in caplog.text
