"""The data-rights helpers (kat/data_rights.py) and the hand-off store's part of
"forget me" (kat/handoff_store.py ``forget_conversation``), on SQLite and PostgreSQL.
The tracker store's part: tests/test_tracker_store.py; the whole path through the real
servers: tests/e2e/test_data_rights_e2e.py."""

from __future__ import annotations

import uuid
from datetime import timezone
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from kat import data_rights
from kat.audit import PATIENT, AuditLog
from kat.handoff_store import HandoffStore
from tests import services


def test_messages_are_counted_from_the_sessions_events() -> None:
    events = [
        {"event": "session_started", "timestamp": 1.0},
        {"event": "user", "timestamp": 10.0, "text": "hi"},
        {"event": "bot", "timestamp": 11.0},
        {"event": "user", "timestamp": 20.0, "text": "what do you know"},
    ]
    assert data_rights.from_events(events) == data_rights.StoredMessages(2, 10.0)
    assert data_rights.from_events([]) == data_rights.StoredMessages(0, None)


def test_the_stored_count_wins_unless_it_is_behind() -> None:
    session = data_rights.StoredMessages(2, 10.0)
    everything = data_rights.StoredMessages(7, 3.0)
    assert data_rights.best_count(session, everything) == everything
    assert data_rights.best_count(session, None) == session
    # This turn is not saved yet: a stored figure lower than the session's is stale.
    assert data_rights.best_count(session, data_rights.StoredMessages(1, 10.0)) == session


def test_since_is_a_date_in_the_clinics_time_zone_without_month_names() -> None:
    noon_utc = 1796212800.0  # 2026-12-02 12:00 UTC
    assert data_rights.since_text(noon_utc, timezone.utc) == "2026-12-02 12:00"
    assert (
        data_rights.since_text(noon_utc, ZoneInfo("America/Los_Angeles"))
        == "2026-12-02 04:00"
    )
    assert data_rights.since_text(None) == ""


def _event(type_name: str, action_name: str = "") -> SimpleNamespace:
    return SimpleNamespace(type_name=type_name, action_name=action_name or None)


def test_only_a_turn_that_ran_the_forget_action_counts() -> None:
    asked = [
        _event("user"),
        _event("action", "utter_forget_confirm"),
        _event("action", "action_listen"),
        _event("user"),
    ]
    assert not data_rights.forget_ran(asked)
    ran = asked + [_event("action", data_rights.FORGET_ACTION), _event("bot")]
    assert data_rights.forget_ran(ran)
    # A later turn of a conversation that once ran it (a new one after the deletion).
    assert not data_rights.forget_ran(ran + [_event("user")])


def test_the_tracker_database_count_and_delete(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 't.db'}")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, "
                "type_name TEXT, timestamp FLOAT, data TEXT)"
            )
        )
        for sender, kind, at in [
            ("a", "user", 5.0),
            ("a", "bot", 6.0),
            ("a", "user", 9.0),
            ("b", "user", 1.0),
        ]:
            conn.execute(
                sa.text(
                    "INSERT INTO events (sender_id, type_name, timestamp, data) "
                    "VALUES (:s, :k, :t, '{}')"
                ),
                {"s": sender, "k": kind, "t": at},
            )
    assert data_rights.from_tracker_db(engine, "a") == data_rights.StoredMessages(2, 5.0)
    with engine.begin() as conn:
        assert data_rights.delete_conversation(conn, "a") == 3
    assert data_rights.from_tracker_db(engine, "a") == data_rights.StoredMessages(0, None)
    assert data_rights.from_tracker_db(engine, "b").count == 1


def _check_forget_tickets(store: HandoffStore) -> None:
    conversation = f"c-{uuid.uuid4().hex}"
    other = store.open_ticket(f"o-{uuid.uuid4().hex}", "rest", "patient_asked", False, [])
    old = store.open_ticket(
        conversation, "rest", "clinical_question", False, [{"text": "i take lexapro"}]
    )
    store.set_status(old.id, "resolved")
    ticket = store.open_ticket(
        conversation,
        "rest",
        "crisis",
        True,
        [{"text": "i want to die"}],
        client_key="abc123",
    )
    store.set_contact(ticket.id, {"name": "Sam Lee", "details": "+1 415 555 0199"})

    forgotten = store.forget_conversation(conversation)

    assert [t.id for t in forgotten] == [old.id, ticket.id]
    for before, after in zip([old, ticket], forgotten, strict=True):
        assert after.transcript == [] and after.contact is None
        assert after.client_key is None
        # What staff still need: why, how urgent, where it stands, when.
        assert (after.reason, after.urgent) == (before.reason, before.urgent)
        assert after.created_at == before.created_at
    assert [t.status for t in forgotten] == ["resolved", "open"]
    assert (
        store.get(other.id) is not None and store.get(other.id).reason == "patient_asked"
    )
    assert store.tickets_for(conversation) == forgotten

    AuditLog(store).record(PATIENT, "patient_forget", ticket_id=ticket.id)
    rows = [r for r in AuditLog(store).rows(ticket.id) if r["action"] == "patient_forget"]
    assert len(rows) == 1 and rows[0]["who"] == PATIENT
    assert rows[0]["detail"] is None  # no content


def test_sqlite_store_forgets_a_conversations_tickets(tmp_path: Path) -> None:
    _check_forget_tickets(HandoffStore(f"sqlite:///{tmp_path / 'h.db'}"))


def test_postgresql_store_forgets_a_conversations_tickets() -> None:
    services.require("postgres")
    with services.fresh_database("kat_forget") as name:
        store = HandoffStore(services.pg_url(name))
        try:
            _check_forget_tickets(store)
        finally:
            store.engine.dispose()


@pytest.mark.parametrize("status", ["open", "claimed", "resolved"])
def test_every_status_has_a_reply(status: str) -> None:
    import yaml

    from actions.data_rights import TICKET_STATUS_RESPONSES
    from tests.conftest import ROOT

    responses = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]
    assert TICKET_STATUS_RESPONSES[status] in responses
