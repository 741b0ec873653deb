"""Rasa's SQL tracker store, made robust to a database restart.

Rasa 3.6's ``SQLTrackerStore`` retries only while it starts. Once running, its pooled
connections go stale when PostgreSQL restarts (or a proxy drops idle connections): the
next request on each stale connection fails with ``OperationalError`` and the patient's
message is lost with an HTTP 500. Here the engine is rebuilt with SQLAlchemy's
``pool_pre_ping``: every checkout tests the connection first and replaces it silently if
the server went away. Same tables, same configuration keys as ``type: SQL``.

Used from endpoints.yml and endpoints.production.yml as
``type: components.tracker_store.ResilientSQLTrackerStore``. On SQLite (the embedded
default) it also turns on the WAL journal (see ``_sqlite_fast_durable``) and keeps its
connections open in a pool (SQLAlchemy 1.4 opens and closes a SQLite file per request).

Reads and writes are the same SQL Rasa's store runs, written once as plain statements:
Rasa builds them through the ORM on every message, and on a 2-core machine that ORM
work (query compilation, cache keys, unit of work) was over a quarter of the Rasa
server's CPU per message (docs/performance.md). Same rows, same order, same session
semantics; ``tests/test_tracker_store.py`` checks both stores read each other's data.

Unlike Rasa's store, once the contact form is over it rewrites the stored events that
hold the patient's name and contact details: those live on the ticket only
(kat/event_privacy.py; tests/test_tracker_store.py, tests/e2e/test_personal_data_e2e.py).
And when a turn ran ``action_forget_conversation`` (the patient confirmed "forget me"),
it deletes every stored event of the conversation instead of saving the turn
(kat/data_rights.py; tests/e2e/test_data_rights_e2e.py).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import (
    SQLTrackerStore,
    create_engine_kwargs,
    ensure_schema_exists,
)
from rasa.shared.core.events import SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from kat.data_rights import delete_conversation, forget_ran
from kat.event_privacy import CONTACT_SLOTS, contact_values, masked
from kat.paths import make_private

logger = logging.getLogger(__name__)

# Seconds after which a pooled connection is replaced even if it still answers
# (keeps connections shorter-lived than typical proxy/load-balancer idle timeouts).
POOL_RECYCLE_ENV = "KAT_DB_POOL_RECYCLE"
DEFAULT_POOL_RECYCLE = 1800


def _sqlite_fast_durable(dbapi_connection: Any, _: Any) -> None:
    """WAL journal with synchronous=NORMAL for the embedded SQLite tracker.

    Every message commits; in the default rollback-journal mode each commit syncs the
    file several times. With WAL a commit is one append, readers don't block the
    writer, and a crash of the process loses nothing (only a power cut can lose the
    last commits). Measured in docs/performance.md.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# Rasa's ``_event_query``: a sender's events since its latest session start (all of
# them if it never started one), in insertion order. Rasa's table is always ``events``.
_LATEST_SESSION = (
    "FROM events AS e CROSS JOIN (SELECT MAX(timestamp) AS start FROM events "
    "WHERE sender_id = :sender_id AND type_name = :session_started) AS s "
    "WHERE e.sender_id = :sender_id AND (s.start IS NULL OR e.timestamp >= s.start)"
)
SELECT_SESSION_EVENTS = "SELECT e.data " + _LATEST_SESSION + " ORDER BY e.id"
COUNT_SESSION_EVENTS = "SELECT COUNT(*) " + _LATEST_SESSION
SELECT_ALL_EVENTS = "SELECT data FROM events WHERE sender_id = :sender_id ORDER BY id"
# The rows that can hold the contact form's answers (kat/event_privacy.py).
SELECT_MASKABLE_EVENTS = (
    "SELECT id, data FROM events WHERE sender_id = :sender_id "
    "AND type_name IN ('user', 'slot')"
)
UPDATE_EVENT_DATA = "UPDATE events SET data = :data WHERE id = :id"
CONTACT_FORM = "handoff_contact_form"


class ResilientSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose connection pool survives a database restart."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stock: sa.engine.Engine = getattr(self, "engine")  # noqa: B009 - set by Rasa
        url = stock.url
        stock.dispose()
        options = create_engine_kwargs(url)
        options["pool_pre_ping"] = True
        if url.get_backend_name() == "sqlite":
            # One open connection reused instead of one opened per request (SQLAlchemy
            # 1.4's default for SQLite files). Each checkout is exclusive, so sharing
            # it across threads is safe.
            options["poolclass"] = sa.pool.QueuePool
            options["connect_args"] = {"check_same_thread": False}
        else:
            options["pool_recycle"] = int(
                os.environ.get(POOL_RECYCLE_ENV, DEFAULT_POOL_RECYCLE)
            )
        self.engine = sa.create_engine(url, **options)
        if url.get_backend_name() == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_fast_durable)
            if url.database:  # conversations are private to the servers' user
                make_private(Path(url.database))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        logger.debug("SQL tracker store: connection pool with pre-ping")
        table = self.SQLEvent.__table__
        if table.name != "events":  # the statements above name it
            raise ValueError(f"unexpected events table {table.name!r}")
        self._insert = table.insert()
        self._select_events = sa.text(SELECT_SESSION_EVENTS)
        self._select_all_events = sa.text(SELECT_ALL_EVENTS)
        self._count_events = sa.text(COUNT_SESSION_EVENTS)
        self._select_maskable = sa.text(SELECT_MASKABLE_EVENTS)
        self._update_data = sa.text(UPDATE_EVENT_DATA)
        with self.session_scope() as session:
            ensure_schema_exists(session)  # Rasa checks this on every request

    async def _retrieve(
        self, sender_id: Text, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        query = (
            self._select_all_events
            if fetch_events_from_all_sessions
            else self._select_events
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query, self._params(sender_id)).fetchall()
        events = [json.loads(data) for (data,) in rows]
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Insert the events of the current session that are not stored yet."""
        await self.stream_events(tracker)
        with self.engine.begin() as connection:
            if forget_ran(list(tracker.events)):
                # The patient confirmed "forget me" (actions/data_rights.py): nothing of
                # the conversation stays, not even this turn; the next message starts
                # a new one.
                delete_conversation(connection, tracker.sender_id)
                return
            stored = connection.execute(
                self._count_events, self._params(tracker.sender_id)
            ).scalar()
            rows = [
                self._row(tracker.sender_id, event.type_name, event.as_dict())
                for event in list(tracker.events)[int(stored or 0) :]
            ]
            if rows:
                connection.execute(self._insert, rows)
            self._mask_contact_details(connection, tracker)

    def _mask_contact_details(
        self, connection: sa.engine.Connection, tracker: DialogueStateTracker
    ) -> None:
        """Once the contact form is over, its answers leave the stored events: they
        live on the ticket only (kat/event_privacy.py). Rewrites only the rows that
        hold them, in the transaction that saved the turn."""
        if tracker.active_loop_name == CONTACT_FORM:
            return
        values = contact_values(
            {"event": "slot", "name": e.key, "value": e.value}
            for e in tracker.events
            if isinstance(e, SlotSet) and e.key in CONTACT_SLOTS and e.value
        )
        if not values:
            return
        rows = connection.execute(self._select_maskable, self._params(tracker.sender_id))
        for row_id, data in rows.fetchall():
            clean = masked(json.loads(data), values)
            if clean is not None:
                connection.execute(
                    self._update_data, {"id": row_id, "data": json.dumps(clean)}
                )

    @staticmethod
    def _params(sender_id: Text) -> Dict[str, Any]:
        return {"sender_id": sender_id, "session_started": SessionStarted.type_name}

    @staticmethod
    def _row(sender_id: Text, type_name: Text, data: Dict[str, Any]) -> Dict[str, Any]:
        return {
            "sender_id": sender_id,
            "type_name": type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {})
            .get("intent", {})
            .get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }
