"""The production tracker store survives PostgreSQL dropping its connections.

Real PostgreSQL (a fresh database per test). ``pg_terminate_backend`` kills the store's
pooled connections from the server side — what a restart does to them. Rasa's own
``SQLTrackerStore`` then fails the next request; ours reconnects.
"""

from __future__ import annotations

import uuid
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from components.tracker_store import ResilientSQLTrackerStore
from tests import services
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    services.require("postgres")
    with services.fresh_database("kat_unit") as name:
        yield name


@pytest.fixture(scope="module")
def rasa_domain() -> Any:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml"))


def _store(cls: Any, domain: Any, database: str) -> Any:
    return cls(
        domain=domain,
        dialect="postgresql",
        host=services.PG_HOST,
        port=services.PG_PORT,
        db=database,
        username=services.PG_USER,
        password=services.PG_PASSWORD,
    )


def _kill_connections(database: str) -> int:
    engine = sa.create_engine(services.pg_url("postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            killed = conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            ).scalar()
    finally:
        engine.dispose()
    return int(killed or 0)


async def _save_conversation(store: Any, domain: Any, sender: str) -> None:
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker.from_events(
        sender,
        [UserUttered("hello"), SlotSet("handoff_active", True)],
        slots=domain.slots,
    )
    await store.save(tracker)


async def test_survives_dropped_connections(rasa_domain: Any, database: str) -> None:
    store = _store(ResilientSQLTrackerStore, rasa_domain, database)
    assert store.engine.pool._pre_ping is True
    sender = f"pg-{uuid.uuid4().hex}"
    await _save_conversation(store, rasa_domain, sender)
    assert _kill_connections(database) >= 1

    tracker = await store.retrieve(sender)
    assert tracker is not None
    assert tracker.get_slot("handoff_active") is True
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["hello"]
    store.engine.dispose()


async def test_rasas_own_store_fails_without_pre_ping(
    rasa_domain: Any, database: str
) -> None:
    """Why the subclass exists: the stock store loses the first request afterwards."""
    from rasa.core.tracker_store import SQLTrackerStore

    store = _store(SQLTrackerStore, rasa_domain, database)
    sender = f"pg-{uuid.uuid4().hex}"
    await _save_conversation(store, rasa_domain, sender)
    assert _kill_connections(database) >= 1
    with pytest.raises(sa.exc.OperationalError):
        await store.retrieve(sender)
    store.engine.dispose()


def test_embedded_sqlite_tracker_uses_the_wal_journal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rasa.shared.core.domain import Domain

    from components.tracker_store import ResilientSQLTrackerStore

    store = ResilientSQLTrackerStore(
        Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db")
    )
    with store.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        sync = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    assert (mode, sync) == ("wal", 1)  # 1 = NORMAL
