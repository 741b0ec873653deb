"""Retention on real rows: Rasa's own SQLTrackerStore writes the conversations, the
hand-off store the tickets; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator, Tuple

import pytest
import sqlalchemy as sa

from kat import retention
from kat.handoff_store import HandoffStore
from kat.handoff_store import tickets as tickets_table
from tests import services

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def save_conversation(
    store: Any, sender: str, *days_ago: float, now: datetime = NOW
) -> None:
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = []
    for age in days_ago:
        stamp = (now - timedelta(days=age)).timestamp()
        events += [
            UserUttered("hello", {"name": "greet"}, timestamp=stamp),
            ActionExecuted("utter_greet", timestamp=stamp),
        ]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def ticket(store: HandoffStore, conversation: str, status: str, days_ago: float) -> str:
    opened = store.open_ticket(conversation, "rest", "patient_asked", False, [])
    if status != "open":
        store.set_status(opened.id, status)
    with store.engine.begin() as conn:
        conn.execute(
            tickets_table.update()
            .where(tickets_table.c.id == opened.id)
            .values(updated_at=NOW - timedelta(days=days_ago))
        )
    return opened.id


def senders(store: Any) -> set:
    with store.engine.connect() as conn:
        return {
            r[0] for r in conn.execute(sa.text("SELECT DISTINCT sender_id FROM events"))
        }


def check_retention(tracker_store: Any, handoff: HandoffStore) -> None:
    save_conversation(tracker_store, "old", 200, 120)
    save_conversation(tracker_store, "old-but-active", 200, 2)  # latest event counts
    save_conversation(tracker_store, "recent", 1)
    save_conversation(tracker_store, "old-with-open-ticket", 150)
    old_resolved = ticket(handoff, "old", "resolved", 100)
    recent_resolved = ticket(handoff, "recent", "resolved", 5)
    old_open = ticket(handoff, "old-with-open-ticket", "open", 150)
    old_claimed = ticket(handoff, "x", "claimed", 150)

    dry = retention.run(tracker_store.engine, handoff, 90, dry_run=True, now=NOW)
    assert (dry.conversations, dry.events, dry.tickets) == (1, 4, 1)
    assert "would delete" in str(dry)
    assert len(senders(tracker_store)) == 4 and handoff.get(old_resolved)

    done = retention.run(tracker_store.engine, handoff, 90, now=NOW)
    assert (done.conversations, done.events, done.tickets) == (1, 4, 1)
    assert senders(tracker_store) == {"old-but-active", "recent", "old-with-open-ticket"}
    assert handoff.get(old_resolved) is None
    for kept in (recent_resolved, old_open, old_claimed):
        assert handoff.get(kept) is not None
    # Rasa still reads what is left, and starts afresh for the purged conversation.
    assert asyncio.run(tracker_store.retrieve("old")) is None
    active = asyncio.run(tracker_store.retrieve("old-but-active"))
    assert active is not None and len(active.events) == 4
    # A second run finds nothing more; a shorter period takes more.
    again = retention.run(tracker_store.engine, handoff, 90, now=NOW)
    assert (again.conversations, again.tickets) == (0, 0)
    shorter = retention.run(tracker_store.engine, handoff, 1, now=NOW)
    assert (shorter.conversations, shorter.tickets) == (1, 1)  # "old-but-active", recent


def test_sqlite(tmp_path: Path) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    tracker_store = SQLTrackerStore(
        Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db")
    )
    check_retention(tracker_store, HandoffStore(f"sqlite:///{tmp_path / 'h.db'}"))


@contextlib.contextmanager
def postgres_stores() -> Iterator[Tuple[Any, HandoffStore]]:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    services.require("postgres")
    with services.fresh_database("kat_retention") as name:
        tracker_store = SQLTrackerStore(
            Domain.empty(),
            dialect="postgresql",
            host=services.PG_HOST,
            port=services.PG_PORT,
            db=name,
            username=services.PG_USER,
            password=services.PG_PASSWORD,
        )
        handoff = HandoffStore(services.pg_url(name))
        try:
            yield tracker_store, handoff
        finally:
            tracker_store.engine.dispose()
            handoff.engine.dispose()


def test_postgresql() -> None:
    with postgres_stores() as (tracker_store, handoff):
        check_retention(tracker_store, handoff)


def test_an_empty_tracker_database_and_bad_days(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    handoff = HandoffStore(f"sqlite:///{tmp_path / 'h.db'}")
    report = retention.run(engine, handoff, 30, now=NOW)
    assert (report.conversations, report.tickets) == (0, 0)
    with pytest.raises(ValueError):
        retention.cutoff_for(0)


def test_command_uses_the_profile_days_and_env_databases(tmp_path: Path) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    assert retention.profile_days() >= 1
    tracker_store = SQLTrackerStore(
        Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db")
    )
    # Ten years old: older than any retention period a clinic would set.
    today = datetime.now(timezone.utc)
    save_conversation(tracker_store, "ancient", 3650, now=today)
    save_conversation(tracker_store, "today", 0, now=today)
    env = {
        "KAT_TRACKER_DB": str(tmp_path / "tracker.db"),
        "KAT_HANDOFF_DB_URL": f"sqlite:///{tmp_path / 'h.db'}",
        "PYTHONPATH": str(ROOT),
        "PATH": "",
    }

    def command(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "kat.retention", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    assert "would delete 1 conversations" in command("--dry-run")
    assert senders(tracker_store) == {"ancient", "today"}
    out = command()
    assert "deleted 1 conversations" in out and "ancient" not in out
    assert senders(tracker_store) == {"today"}


def test_tracker_database_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KAT_TRACKER_DB_URL", "KAT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAT_TRACKER_DB", "/data/t.db")
    monkeypatch.setenv("KAT_HANDOFF_DB_URL", "postgresql://db/kat")
    assert retention.tracker_db_url() == "sqlite:////data/t.db"
    monkeypatch.setenv("KAT_PROFILE", "production")
    assert retention.tracker_db_url() == "postgresql://db/kat"
    monkeypatch.setenv("KAT_TRACKER_DB_URL", "postgresql://other/kat")
    assert retention.tracker_db_url() == "postgresql://other/kat"
