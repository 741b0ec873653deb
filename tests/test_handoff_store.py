"""The hand-off ticket store on SQLite (and on the real PostgreSQL at 127.0.0.1)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from kat.handoff_store import HandoffStore


def _exercise(store: HandoffStore) -> None:
    conversation = f"conv-{uuid.uuid4().hex}"
    ticket = store.open_ticket(
        conversation,
        "rest",
        "clinical_question",
        False,
        [{"from": "patient", "text": "hi"}],
    )
    assert ticket.status == "open" and not ticket.urgent
    assert store.open_ticket_for(conversation).id == ticket.id  # type: ignore[union-attr]
    store.append_messages(
        ticket.id, [{"from": "patient", "text": "still dizzy"}], urgent=True
    )
    store.set_contact(ticket.id, {"name": "A", "phone": "5551234567"})
    again = store.get(ticket.id)
    assert again is not None
    assert [m["text"] for m in again.transcript] == ["hi", "still dizzy"]
    assert again.urgent and again.contact == {"name": "A", "phone": "5551234567"}
    store.set_status(ticket.id, "resolved")
    assert store.open_ticket_for(conversation) is None
    with pytest.raises(ValueError):
        store.open_ticket(conversation, "rest", "made_up_reason", False, [])


def test_sqlite_store_keeps_tickets_across_restarts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    store = HandoffStore(url)
    _exercise(store)
    ticket = store.open_ticket("c1", "rest", "crisis", True, [])
    assert HandoffStore(url).get(ticket.id) is not None


def test_postgres_store() -> None:
    url = os.environ.get(
        "KAT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    _exercise(HandoffStore(url))
