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
from kat.event_privacy import MASK
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


# --- Same rows as Rasa's own store (the plain SQL replaces Rasa's ORM queries) ---------


def _conversation(domain: Any, sender: str, start: float) -> Any:
    """Two sessions: the second starts at ``start + 100``; slots differ per session."""
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        SessionStarted,
        SlotSet,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    first = [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start + 1),
        ActionExecuted("action_listen", timestamp=start + 2),
        UserUttered("hello", {"name": "greet"}, timestamp=start + 3),
        SlotSet("handoff_active", True, timestamp=start + 4),
        BotUttered("hi there", timestamp=start + 5),
    ]
    second = [
        ActionExecuted("action_session_start", timestamp=start + 100),
        SessionStarted(timestamp=start + 101),
        ActionExecuted("action_listen", timestamp=start + 102),
        UserUttered("what is ketamine", {"name": "faq"}, timestamp=start + 103),
    ]
    # Rasa reads back the events from the latest SessionStarted on (not the
    # action_session_start just before it).
    return (
        DialogueStateTracker.from_events(sender, first + second, slots=domain.slots),
        len(second) - 1,
    )


def _sqlite_stores(domain: Any, path: Any) -> Any:
    from rasa.core.tracker_store import SQLTrackerStore

    db = str(path / "tracker.db")
    return (
        ResilientSQLTrackerStore(domain, dialect="sqlite", db=db),
        SQLTrackerStore(domain, dialect="sqlite", db=db),
    )


async def _check_same_rows_as_rasa(ours: Any, rasas: Any, domain: Any) -> None:
    for writer, reader in ((ours, rasas), (rasas, ours)):
        sender = f"rows-{uuid.uuid4().hex}"
        tracker, in_second_session = _conversation(domain, sender, 1_000.0)
        await writer.save(tracker)
        # Saving a reloaded tracker with nothing new writes nothing (as in Rasa, the
        # count of stored events is per latest session, as retrieve() returns it).
        await writer.save(await reader.retrieve(sender))
        for store in (ours, rasas):
            latest = await store.retrieve(sender)
            full = await store.retrieve_full_tracker(sender)
            assert latest is not None and full is not None
            assert len(latest.events) == in_second_session
            assert [e.as_dict() for e in full.events] == [
                e.as_dict() for e in tracker.events
            ]
            assert latest.latest_message.text == "what is ketamine"
        # Appending after a reload stores only the new events, in order.
        from rasa.shared.core.events import BotUttered

        reloaded = await reader.retrieve(sender)
        reloaded.update(BotUttered("an answer", timestamp=1_104.0))
        await reader.save(reloaded)
        for store in (ours, rasas):
            full = await store.retrieve_full_tracker(sender)
            assert [e.type_name for e in full.events][-2:] == ["user", "bot"]
            assert len(full.events) == len(tracker.events) + 1
        with ours.engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT type_name, intent_name, action_name FROM events "
                    "WHERE sender_id = :s ORDER BY id"
                ),
                {"s": sender},
            ).fetchall()
        assert rows[0] == ("action", None, "action_session_start")
        assert ("user", "faq", None) in rows
    assert await ours.retrieve("nobody-here") is None


async def test_sqlite_rows_match_rasas_store(rasa_domain: Any, tmp_path: Any) -> None:
    ours, rasas = _sqlite_stores(rasa_domain, tmp_path)
    await _check_same_rows_as_rasa(ours, rasas, rasa_domain)
    # The embedded store keeps its connection open instead of one per request.
    assert isinstance(ours.engine.pool, sa.pool.QueuePool)


async def test_postgresql_rows_match_rasas_store(rasa_domain: Any, database: str) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    ours = _store(ResilientSQLTrackerStore, rasa_domain, database)
    rasas = _store(SQLTrackerStore, rasa_domain, database)
    try:
        await _check_same_rows_as_rasa(ours, rasas, rasa_domain)
    finally:
        ours.engine.dispose()
        rasas.engine.dispose()


# --- The contact form's answers leave the stored events (kat/event_privacy.py) --------


def _contact_form_turns(domain: Any, sender: str, finished: bool) -> Any:
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = [
        UserUttered("can i talk to a person", {"name": "request_human"}),
        ActionExecuted("handoff_contact_form"),
        ActiveLoop("handoff_contact_form"),
        UserUttered("yes", {"name": "affirm"}),
        SlotSet("contact_consent", True),
        UserUttered("Sam Lee", {"name": "nlu_fallback"}),
        SlotSet("contact_name", "Sam Lee"),
        UserUttered("+1 415 555 0199", {"name": "nlu_fallback"}),
        SlotSet("contact_details", "+1 415 555 0199"),
    ]
    if finished:
        events += [
            ActiveLoop(None),
            ActionExecuted("action_save_handoff_contact"),
            SlotSet("contact_name", None),
            SlotSet("contact_details", None),
        ]
    return DialogueStateTracker.from_events(sender, events, slots=domain.slots)


async def _check_contact_masking(store: Any, domain: Any) -> None:
    sender = f"contact-{uuid.uuid4().hex}"

    def stored() -> str:
        with store.engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :s"), {"s": sender}
            ).fetchall()
        return " ".join(data for (data,) in rows)

    # While the form runs, it needs the answers: they are kept.
    await store.save(_contact_form_turns(domain, sender, finished=False))
    assert "Sam Lee" in stored() and "555 0199" in stored()
    # Once it is over, no stored row holds them.
    await store.save(_contact_form_turns(domain, sender, finished=True))
    assert "Sam Lee" not in stored() and "555 0199" not in stored()
    tracker = await store.retrieve(sender)
    texts = [e.text for e in tracker.events if e.type_name == "user"]
    assert texts == ["can i talk to a person", "yes", MASK, MASK]
    assert tracker.get_slot("contact_name") is None
    assert tracker.get_slot("contact_consent") is True


async def test_sqlite_store_masks_the_contact_form_answers(
    rasa_domain: Any, tmp_path: Any
) -> None:
    ours, _ = _sqlite_stores(rasa_domain, tmp_path)
    await _check_contact_masking(ours, rasa_domain)


async def test_postgresql_store_masks_the_contact_form_answers(
    rasa_domain: Any, database: str
) -> None:
    await _check_contact_masking(
        _store(ResilientSQLTrackerStore, rasa_domain, database), rasa_domain
    )


# --- "Forget me": the turn that ran the forget action deletes the conversation -------


async def _check_forget(store: Any, domain: Any) -> None:
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        SessionStarted,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    sender = f"forget-{uuid.uuid4().hex}"
    other = f"other-{uuid.uuid4().hex}"

    def rows(sender_id: str) -> int:
        with store.engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text("SELECT COUNT(*) FROM events WHERE sender_id = :s"),
                    {"s": sender_id},
                ).scalar()
            )

    first = [
        SessionStarted(),
        UserUttered("my name is Sam, i take lexapro", {"name": "clinical_question"}),
        BotUttered("passed to the team"),
    ]
    await store.save(DialogueStateTracker.from_events(other, first, domain.slots))
    # An earlier session and this one: all of it goes, not only the current session.
    earlier = DialogueStateTracker.from_events(sender, first, domain.slots)
    await store.save(earlier)
    asked = first + [
        SessionStarted(),
        UserUttered("forget me", {"name": "request_forget"}),
        ActionExecuted("utter_forget_confirm"),
        ActionExecuted("action_listen"),
        UserUttered("yes", {"name": "affirm"}),
    ]
    # The question alone deletes nothing.
    await store.save(DialogueStateTracker.from_events(sender, asked, domain.slots))
    assert rows(sender) == len(asked)
    confirmed = asked + [
        ActionExecuted("action_forget_conversation"),
        BotUttered("Done: this chat ... deleted."),
    ]
    await store.save(DialogueStateTracker.from_events(sender, confirmed, domain.slots))
    assert rows(sender) == 0
    assert await store.retrieve(sender) is None  # the next message starts afresh
    assert rows(other) == len(first)  # nobody else's conversation is touched


async def test_sqlite_store_forgets_a_conversation(
    rasa_domain: Any, tmp_path: Any
) -> None:
    ours, _ = _sqlite_stores(rasa_domain, tmp_path)
    await _check_forget(ours, rasa_domain)


async def test_postgresql_store_forgets_a_conversation(
    rasa_domain: Any, database: str
) -> None:
    store = _store(ResilientSQLTrackerStore, rasa_domain, database)
    try:
        await _check_forget(store, rasa_domain)
    finally:
        store.engine.dispose()
