"""The clinic's loop end to end: patients' messages in, the review queue, a label, the
export, and the Insights page, with roles (real servers; the browser is Chromium).

Real processes: Rasa, the action server and the staff inbox, sharing the tracker store
(SQLite) and the hand-off store. Nothing is faked.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
import requests
import yaml

from staff_inbox.auth import hash_password
from tests.e2e.harness import Servers, texts
from tests.e2e.test_staff_inbox_e2e import ARTIFACTS, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e
PASSWORD = "clinic loop password"
SECRET_TEXT = "zebra crossing question about effects lasting"


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    workdir = Path(tmp_path_factory.mktemp("clinic_loop"))
    hashed = hash_password(PASSWORD)
    servers = Servers(
        workdir=workdir,
        extra_env={
            "KAT_STAFF_USERS": f"rev:{hashed}:reviewer:Robin Reviewer,jo:{hashed}:clinician",
            "KAT_STAFF_API_TOKEN": "",
        },
    )
    try:
        servers.start()
        servers.start_inbox()
        yield {"servers": servers}
    finally:
        servers.stop_all()


def login(servers: Servers, who: str) -> requests.Session:
    return servers.inbox_session(who, PASSWORD)


def test_messages_in_queue_label_export(loop: Dict[str, Any]) -> None:
    servers: Servers = loop["servers"]
    sender = f"loop-{uuid.uuid4().hex[:8]}"
    assert texts(servers.say(sender, "book me a flight to boston please"))
    crisis = f"loop-crisis-{uuid.uuid4().hex[:8]}"
    assert "988" in texts(servers.say(crisis, "i want to kill myself"))

    reviewer = login(servers, "rev")
    queue = reviewer.get(f"{servers.inbox_url}/api/review", timeout=30).json()
    mine = [
        e for e in queue["entries"] if e["text"] == "book me a flight to boston please"
    ]
    assert [e["reason"] for e in mine] == ["out_of_scope"]
    assert not any("kill myself" in e["text"] for e in queue["entries"])
    assert "faq/side_effects" in queue["labels"]

    entry = mine[0]
    bad = reviewer.post(
        f"{servers.inbox_url}/api/review/{entry['id']}/label",
        json={"label": "made_up_intent"},
        timeout=10,
    )
    assert bad.status_code == 400
    ok = reviewer.post(
        f"{servers.inbox_url}/api/review/{entry['id']}/label",
        json={"label": "out_of_scope"},
        timeout=10,
    )
    assert ok.status_code == 200
    exported = reviewer.get(f"{servers.inbox_url}/api/review/export", timeout=30)
    assert exported.status_code == 200
    assert "attachment" in exported.headers["Content-Disposition"]
    nlu = yaml.safe_load(exported.text)["nlu"]
    assert {
        "intent": "out_of_scope",
        "examples": "- book me a flight to boston please\n",
    } in nlu

    # Roles: a clinician has no queue; a reviewer has no tickets.
    clinician = login(servers, "jo")
    assert clinician.get(f"{servers.inbox_url}/api/review", timeout=10).status_code == 403
    assert reviewer.get(f"{servers.inbox_url}/api/tickets", timeout=10).status_code == 403
    # The label and the export are in the audit trail (read here from its table).
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{servers.workdir / 'handoff.db'}")
    with engine.connect() as conn:
        actions = [
            (r.username, r.action)
            for r in conn.execute(sa.text("SELECT username, action FROM staff_audit"))
        ]
    assert ("rev", "label") in actions and ("rev", "export") in actions


def test_insights_and_the_queue_in_chromium(loop: Dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    servers: Servers = loop["servers"]
    sender = f"loop-page-{uuid.uuid4().hex[:8]}"
    servers.say(sender, "what is ketamine")
    servers.say(sender, SECRET_TEXT)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(servers.inbox_url)
        page.fill("#username", "rev")
        page.fill("#password", PASSWORD)
        page.click("#login button[type=submit]")
        page.wait_for_selector("#clinic-links:not([hidden])")
        assert page.inner_text("#who") == "Robin Reviewer"
        assert not page.is_visible("#inbox")  # no tickets for a reviewer
        page.click("text=Insights")
        page.wait_for_selector("h1")
        report = page.inner_text("body")
        assert "Patient messages per day" in report
        assert SECRET_TEXT not in report and sender not in report  # no text, no ids
        assert page.locator("svg").count() >= 1  # the chart, rendered on the server
        page.screenshot(path=str(ARTIFACTS / "insights.png"), full_page=True)
        page.goto(f"{servers.inbox_url}/static/review.html")
        page.wait_for_selector("#queue tbody tr")
        assert (
            "book me a flight" in page.inner_text("#queue")
            or page.locator("#queue tbody tr").count() >= 1
        )
        page.screenshot(path=str(ARTIFACTS / "review-queue.png"), full_page=True)
        browser.close()
    assert (ARTIFACTS / "insights.png").stat().st_size > 10_000
