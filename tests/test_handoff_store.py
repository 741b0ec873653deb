"""The hand-off ticket store on SQLite (and on the real PostgreSQL at 127.0.0.1)."""

from __future__ import annotations

import contextlib
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from kat.handoff_store import SCHEMA_VERSION, HandoffStore
from tests import services


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
    assert ticket.claimed_by is None and ticket.taken_over_from is None
    assert store.open_ticket_for(conversation).id == ticket.id  # type: ignore[union-attr]
    store.append_messages(
        ticket.id, [{"from": "patient", "text": "still dizzy"}], urgent=True
    )
    store.set_contact(ticket.id, {"name": "A", "phone": "5551234567"})
    again = store.get(ticket.id)
    assert again is not None
    assert [m["text"] for m in again.transcript] == ["hi", "still dizzy"]
    assert again.urgent and again.contact == {"name": "A", "phone": "5551234567"}
    _exercise_claims(store, ticket.id)
    store.set_status(ticket.id, "resolved")
    assert store.open_ticket_for(conversation) is None
    with pytest.raises(ValueError):
        store.open_ticket(conversation, "rest", "made_up_reason", False, [])


def _exercise_claims(store: HandoffStore, ticket_id: str) -> None:
    first = store.claim(ticket_id, "nurse")
    assert first.ok and first.previous is None
    assert first.ticket.claimed_by == "nurse" and first.ticket.status == "claimed"
    assert store.claim(ticket_id, "nurse").ok  # claiming one's own ticket again
    refused = store.claim(ticket_id, "doctor")
    assert not refused.ok and refused.previous == "nurse"
    assert refused.ticket.claimed_by == "nurse"
    assert store.get(ticket_id).claimed_by == "nurse"  # type: ignore[union-attr]
    taken = store.claim(ticket_id, "doctor", take_over=True)
    assert taken.ok and taken.previous == "nurse"
    assert taken.ticket.claimed_by == "doctor"
    assert taken.ticket.taken_over_from == "nurse"
    again = store.get(ticket_id)
    assert again is not None and again.claimed_by == "doctor"
    with pytest.raises(KeyError):
        store.claim("no-such-ticket", "nurse")


def test_sqlite_store_keeps_tickets_across_restarts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    store = HandoffStore(url)
    _exercise(store)
    ticket = store.open_ticket("c1", "rest", "crisis", True, [])
    store.claim(ticket.id, "nurse")
    reopened = HandoffStore(url).get(ticket.id)
    assert reopened is not None and reopened.claimed_by == "nurse"


def test_claiming_does_not_reopen_or_change_other_statuses(tmp_path: Path) -> None:
    store = HandoffStore(f"sqlite:///{tmp_path / 'h.db'}")
    ticket = store.open_ticket("c1", "rest", "crisis", True, [])
    store.set_status(ticket.id, "resolved")
    assert store.claim(ticket.id, "nurse").ticket.status == "resolved"


def test_of_many_users_claiming_at_once_one_wins(tmp_path: Path) -> None:
    store = HandoffStore(f"sqlite:///{tmp_path / 'h.db'}")
    ticket = store.open_ticket("c1", "rest", "crisis", True, [])
    users = [f"staff{number}" for number in range(8)]
    with ThreadPoolExecutor(len(users)) as pool:
        claims = list(pool.map(lambda user: store.claim(ticket.id, user), users))
    winners = [c.ticket.claimed_by for c in claims if c.ok]
    assert len(winners) == 1
    assert store.get(ticket.id).claimed_by == winners[0]  # type: ignore[union-attr]
    assert all(c.previous == winners[0] for c in claims if not c.ok)


def _create_v2_schema(engine: sa.engine.Engine) -> None:
    """The tables as schema version 2 left them: no claimer columns."""
    old = sa.MetaData()
    sa.Table(
        "handoff_tickets",
        old,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False, default=False),
        sa.Column("status", sa.String(16), nullable=False, default="open", index=True),
        sa.Column("transcript", sa.Text, nullable=False, default="[]"),
        sa.Column("contact", sa.Text, nullable=True),
        sa.Column("notification", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    version = sa.Table(
        "handoff_schema_version", old, sa.Column("version", sa.Integer, primary_key=True)
    )
    old.create_all(engine)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(version.insert().values(version=2))
        conn.execute(
            old.tables["handoff_tickets"]
            .insert()
            .values(
                id="old-ticket",
                conversation_id="c-old",
                channel="rest",
                reason="patient_asked",
                urgent=False,
                status="claimed",  # claimed before claimers were recorded
                transcript="[]",
                created_at=now,
                updated_at=now,
            )
        )


def _check_migrated(url: str) -> None:
    engine = sa.create_engine(url, future=True)
    try:
        _create_v2_schema(engine)
    finally:
        engine.dispose()
    store = HandoffStore(url)
    try:
        columns = {
            c["name"] for c in sa.inspect(store.engine).get_columns("handoff_tickets")
        }
        assert {
            "claimed_by",
            "taken_over_from",
            "client_key",
            "suspected_flood",
            "language",
        } <= columns
        with store.engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version FROM handoff_schema_version"))
            assert max(row[0] for row in versions) == SCHEMA_VERSION == 5
        old = store.get("old-ticket")
        assert old is not None and old.status == "claimed" and old.claimed_by is None
        assert old.client_key is None and old.suspected_flood is False
        assert old.language is None  # before v5: the inbox shows English
        # A ticket claimed before there was a claimer can be claimed by whoever
        # handles it now.
        assert store.claim("old-ticket", "nurse").ok
        _exercise(store)
        HandoffStore(url).engine.dispose()  # opening it again changes nothing
    finally:
        store.engine.dispose()


def test_a_version_2_sqlite_database_gets_the_claimer_columns(tmp_path: Path) -> None:
    _check_migrated(f"sqlite:///{tmp_path / 'v2.db'}")


@contextlib.contextmanager
def _postgres_url() -> Iterator[str]:
    """KAT_TEST_POSTGRES_URL when set, else a fresh database dropped afterwards (so a
    schema migration here never touches a database another checkout's tests use)."""
    url = os.environ.get("KAT_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    services.require("postgres")
    with services.fresh_database("kat_handoff") as name:
        yield services.pg_url(name)


def test_postgres_store() -> None:
    with _postgres_url() as url:
        store = HandoffStore(url)
        try:
            _exercise(store)
        finally:
            store.engine.dispose()


def test_a_version_2_postgres_database_gets_the_claimer_columns() -> None:
    services.require("postgres")
    with services.fresh_database("kat_handoff_v2") as name:
        _check_migrated(services.pg_url(name))
