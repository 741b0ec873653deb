"""Rasa's SQL tracker store, made robust to a database restart.

Rasa 3.6's ``SQLTrackerStore`` retries only while it starts. Once running, its pooled
connections go stale when PostgreSQL restarts (or a proxy drops idle connections): the
next request on each stale connection fails with ``OperationalError`` and the patient's
message is lost with an HTTP 500. Here the engine is rebuilt with SQLAlchemy's
``pool_pre_ping``: every checkout tests the connection first and replaces it silently if
the server went away. Same tables, same configuration keys as ``type: SQL``.

Used from endpoints.yml and endpoints.production.yml as
``type: components.tracker_store.ResilientSQLTrackerStore``. On SQLite (the embedded
default) it also turns on the WAL journal (see ``_sqlite_fast_durable``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs

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
    last commits). Measured in README, Performance.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class ResilientSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose connection pool survives a database restart."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stock: sa.engine.Engine = getattr(self, "engine")  # noqa: B009 - set by Rasa
        url = stock.url
        stock.dispose()
        options = create_engine_kwargs(url)
        options["pool_pre_ping"] = True
        if url.get_backend_name() != "sqlite":
            options["pool_recycle"] = int(
                os.environ.get(POOL_RECYCLE_ENV, DEFAULT_POOL_RECYCLE)
            )
        self.engine = sa.create_engine(url, **options)
        if url.get_backend_name() == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_fast_durable)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        logger.debug("SQL tracker store: connection pool with pre-ping")
