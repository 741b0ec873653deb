"""Everything in var/ is private to the servers' user, whatever the umask.

Conversations (SQLite tracker store), tickets (hand-off store) and their WAL files were
0644, readable by every local user. Each test sets a permissive umask first.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterator

import pytest

from kat.paths import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_the_hand_off_store_and_its_folder(tmp_path: Path, monkeypatch, open_umask) -> None:  # type: ignore[no-untyped-def]
    from kat.handoff_store import HandoffStore, default_db_url

    var = tmp_path / "var"
    monkeypatch.setenv("KAT_VAR_DIR", str(var))
    monkeypatch.delenv("KAT_HANDOFF_DB_URL", raising=False)
    store = HandoffStore(default_db_url())
    store.open_ticket("c1", "rest", "patient_asked", False, [])
    assert mode(var) == PRIVATE_DIR_MODE
    for path in var.iterdir():
        assert mode(path) == PRIVATE_FILE_MODE, path.name


def test_the_sqlite_tracker_store_and_its_wal(tmp_path: Path, open_umask) -> None:  # type: ignore[no-untyped-def]
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from components.tracker_store import ResilientSQLTrackerStore

    database = tmp_path / "tracker.db"
    store = ResilientSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(database))
    import asyncio

    asyncio.run(store.save(DialogueStateTracker("someone", [])))
    files = [p for p in tmp_path.iterdir() if p.name.startswith("tracker.db")]
    assert database in files
    for path in files:
        assert mode(path) == PRIVATE_FILE_MODE, path.name
