"""Shared fixtures: project paths, the domain as a dict, tracker factories."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def make_tracker(
    text: str = "",
    intent: str = "",
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    sender_id: str = "test-patient",
) -> Any:
    """A rasa_sdk Tracker as the action server would receive it."""
    from rasa_sdk import Tracker

    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": entities or [],
    }
    return Tracker(
        sender_id=sender_id,
        slots=slots or {},
        latest_message=latest,
        events=events or [{"event": "user", "text": text, "parse_data": latest}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.fixture
def tracker_factory():  # type: ignore[no-untyped-def]
    return make_tracker


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The real action server and Rasa server on free ports (tests/e2e/harness.py)."""
    from tests.e2e.harness import MODEL, Servers

    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}; run `make test` (it trains first)")
    # With the web chat's socket.io channel on too (tests/e2e/test_fuzz.py uses it).
    harness = Servers(
        workdir=Path(tmp_path_factory.mktemp("servers")),
        extra_env={
            "KAT_WEB_SESSION_SECRET": "e2e-web-session-secret-0123456789abcdef",
            "KAT_WEB_ORIGINS": "http://127.0.0.1:8080",
        },
    )
    try:
        harness.start()
    except Exception:
        print(harness.log_tail("actions"), harness.log_tail("rasa"), sep="\n---\n")
        harness.stop_all()
        raise
    yield harness
    harness.stop_all()


@pytest.fixture
def temp_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A hand-off store in a temporary SQLite file, used by default_store()."""
    from kat.handoff_store import default_store

    monkeypatch.setenv("KAT_HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'handoff.db'}")
    return default_store()


@pytest.fixture(autouse=True)
def rasa_originals() -> Iterator[None]:
    """Every test ends with Rasa's own code: a test that installs the speed-ups
    (components/speedups.py) does not leave them installed for the next one."""
    yield
    from components import speedups

    speedups.uninstall()


def in_ci() -> bool:
    """CI sets CI=true (.ci/run); there every service and file a test needs is there."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """With CI=true a skipped test fails, with the skip's reason: in CI, PostgreSQL,
    Redis, RabbitMQ, Chromium and ../shared are all there (.ci/run checks them
    first), so a skip can only hide a test that did not run. Elsewhere a missing
    service still skips, with its reason."""
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI=true), which counts as a failure: {reason}"
