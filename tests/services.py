"""The production profile's services in tests: PostgreSQL, Redis and RabbitMQ.

They run on this machine and in CI. Tests that need one skip (with the reason) only when
it truly does not answer. Every test run gets its own PostgreSQL database, Redis key
prefix and RabbitMQ queue, removed afterwards, so runs never see each other's data.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from typing import Dict, Iterator, Tuple

import pytest

PG_HOST = os.environ.get("KAT_DB_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("KAT_DB_PORT", "5432"))
PG_USER = os.environ.get("KAT_DB_USER", "postgres")
PG_PASSWORD = os.environ.get("KAT_DB_PASSWORD", "")
REDIS_HOST = os.environ.get("KAT_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("KAT_REDIS_PORT", "6379"))
RABBIT_HOST = os.environ.get("KAT_RABBITMQ_HOST", "127.0.0.1")
RABBIT_PORT = int(os.environ.get("KAT_RABBITMQ_PORT", "5672"))
RABBIT_USER = os.environ.get("KAT_RABBITMQ_USER", "guest")
RABBIT_PASSWORD = os.environ.get("KAT_RABBITMQ_PASSWORD", "guest")


def reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require(*services: str) -> None:
    """Skip the calling test (with the reason) if a service does not accept connections."""
    where: Dict[str, Tuple[str, int]] = {
        "postgres": (PG_HOST, PG_PORT),
        "redis": (REDIS_HOST, REDIS_PORT),
        "rabbitmq": (RABBIT_HOST, RABBIT_PORT),
    }
    for name in services:
        host, port = where[name]
        if not reachable(host, port):
            pytest.skip(f"{name} is not reachable on {host}:{port}")


def pg_url(database: str) -> str:
    auth = PG_USER + (f":{PG_PASSWORD}" if PG_PASSWORD else "")
    return f"postgresql://{auth}@{PG_HOST}:{PG_PORT}/{database}"


def _admin_execute(sql: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(pg_url("postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(sql))
    finally:
        engine.dispose()


@contextlib.contextmanager
def fresh_database(prefix: str = "kat_test") -> Iterator[str]:
    """A new, empty PostgreSQL database for one test run; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_for_postgres(timeout: float = 60) -> None:
    """Until PostgreSQL accepts connections and answers a query."""
    import sqlalchemy as sa

    deadline = time.monotonic() + timeout
    last: Exception = RuntimeError("not tried")
    while time.monotonic() < deadline:
        engine = sa.create_engine(pg_url("postgres"))
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return
        except Exception as exc:  # noqa: BLE001 - any failure: not up yet
            last = exc
            time.sleep(0.5)
        finally:
            engine.dispose()
    raise TimeoutError(f"PostgreSQL not accepting connections: {last}")


def production_env(database: str, run_id: str) -> Dict[str, str]:
    """The environment of the production profile for one test run (scripts/env.sh
    gives the same variables their defaults outside tests)."""
    return {
        "KAT_PROFILE": "production",
        "KAT_DB_HOST": PG_HOST,
        "KAT_DB_PORT": str(PG_PORT),
        "KAT_DB_NAME": database,
        "KAT_DB_USER": PG_USER,
        "KAT_DB_PASSWORD": PG_PASSWORD,
        "KAT_DB_SSLMODE": "prefer",
        "KAT_HANDOFF_DB_URL": pg_url(database),
        "KAT_REDIS_HOST": REDIS_HOST,
        "KAT_REDIS_PORT": str(REDIS_PORT),
        "KAT_REDIS_PASSWORD": "",
        "KAT_REDIS_DB": "0",
        "KAT_REDIS_KEY_PREFIX": f"kate2e{run_id}",
        "KAT_RABBITMQ_HOST": RABBIT_HOST,
        "KAT_RABBITMQ_PORT": str(RABBIT_PORT),
        "KAT_RABBITMQ_USER": RABBIT_USER,
        "KAT_RABBITMQ_PASSWORD": RABBIT_PASSWORD,
        "KAT_RABBITMQ_QUEUE": f"kat_e2e_events_{run_id}",
        # The web chat's replies across servers (channels/socketio_redis.py).
        "KAT_WEB_REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/0",
        "KAT_WEB_REDIS_CHANNEL": f"kate2e{run_id}-webchat",
    }
