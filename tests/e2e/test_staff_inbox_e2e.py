"""Hand-off end to end: ticket, signed webhook, staff reply on the patient's channel,
resolve, and the assistant answering again.

Real servers: Rasa, the action server and the staff inbox. The patient uses Rasa's
callback channel — a push channel whose replies Rasa POSTs to a local HTTP server here
(standing in for the patient's phone, as SMS or Telegram would). The staff notification
goes to another local HTTP server that checks the HMAC signature.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import requests

from kat.handoff_store import HandoffStore
from kat.notify import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from staff_inbox.auth import hash_password
from tests.e2e.harness import Servers
from tests.http_receiver import Receiver

pytestmark = pytest.mark.e2e

SECRET = "e2e-webhook-secret"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    workdir = Path(tmp_path_factory.mktemp("inbox"))
    phone, hook = Receiver(), Receiver()
    credentials = workdir / "credentials.yml"
    credentials.write_text(f'rest:\ncallback:\n  url: "{phone.url}"\n')
    servers = Servers(
        workdir=workdir,
        credentials=str(credentials),
        extra_env={
            "KAT_NOTIFY_URL": hook.url,
            "KAT_NOTIFY_SECRET": SECRET,
            "KAT_STAFF_USERS": f"nurse:{hash_password(PASSWORD)}",
            "KAT_STAFF_API_TOKEN": "",
        },
    )
    try:
        servers.start()
        servers.start_inbox()
        yield {"servers": servers, "phone": phone, "hook": hook}
    finally:
        servers.stop_all()
        phone.close()
        hook.close()


def patient_says(servers: Servers, sender: str, text: str) -> None:
    reply = requests.post(
        f"{servers.rasa_url}/webhooks/callback/webhook",
        json={"sender": sender, "message": text},
        timeout=60,
    )
    assert reply.status_code == 200


def login(servers: Servers) -> requests.Session:
    return servers.inbox_session("nurse", PASSWORD)


def tickets_of(
    staff: requests.Session, servers: Servers, sender: str
) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
    """This conversation's tickets as listed, and the first one in full."""
    listed = staff.get(f"{servers.inbox_url}/api/tickets", timeout=10).json()
    mine = [t for t in listed["tickets"] if t["conversation_id"] == sender]
    detail = staff.get(f"{servers.inbox_url}/api/tickets/{mine[0]['id']}", timeout=10)
    return mine, detail.json()


def test_clinical_question_reaches_a_person_and_back(setup: Dict[str, Any]) -> None:
    servers: Servers = setup["servers"]
    phone: Receiver = setup["phone"]
    hook: Receiver = setup["hook"]
    sender = f"patient-{uuid.uuid4().hex}"

    patient_says(
        servers, sender, "i've been dizzy since my session yesterday, is that normal?"
    )
    phone.wait_for("clinician will follow up")

    # Staff are notified at once, with a valid signature and no patient text.
    deadline = time.monotonic() + 30
    while not hook.posts and time.monotonic() < deadline:
        time.sleep(0.2)
    post = hook.posts[0]
    assert verify(
        SECRET,
        post["headers"][TIMESTAMP_HEADER],
        post["body"],
        post["headers"][SIGNATURE_HEADER],
    )
    assert b"dizzy" not in post["body"]
    ticket_id = json.loads(post["body"])["ticket_id"]

    staff = login(servers)
    listed = staff.get(f"{servers.inbox_url}/api/tickets", timeout=10).json()["tickets"]
    assert ticket_id in [t["id"] for t in listed]
    detail = staff.get(f"{servers.inbox_url}/api/tickets/{ticket_id}", timeout=10).json()
    assert "dizzy" in detail["transcript"][0]["text"]
    # The delivery is recorded right after the receiver answers (in the action server's
    # notification thread): poll briefly rather than race it.
    deadline = time.monotonic() + 15
    while detail["notification"]["status"] != "delivered" and time.monotonic() < deadline:
        time.sleep(0.2)
        detail = staff.get(
            f"{servers.inbox_url}/api/tickets/{ticket_id}", timeout=10
        ).json()
    assert detail["notification"]["status"] == "delivered"

    # The patient writes again while the ticket is open: added and acknowledged.
    patient_says(servers, sender, "it's a bit better now")
    phone.wait_for("I've added this to your message")
    detail = staff.get(f"{servers.inbox_url}/api/tickets/{ticket_id}", timeout=10).json()
    assert detail["transcript"][-1]["text"] == "it's a bit better now"

    assert staff.post(
        f"{servers.inbox_url}/api/tickets/{ticket_id}/claim", json={}, timeout=10
    ).ok
    reply = staff.post(
        f"{servers.inbox_url}/api/tickets/{ticket_id}/reply",
        json={
            "text": "Hi, this is Sam, a nurse. Please sit down and drink some water; I'll call you."
        },
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    phone.wait_for("Message from the clinic team: Hi, this is Sam")

    assert staff.post(
        f"{servers.inbox_url}/api/tickets/{ticket_id}/resolve", json={}, timeout=30
    ).json()["patient_told"]
    phone.wait_for("The clinic team has closed your request")

    before = len(phone.posts)
    patient_says(servers, sender, "what is ketamine")
    deadline = time.monotonic() + 30
    while len(phone.posts) == before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert servers.bot_actions_of(sender) == ["utter_faq/what_is_ketamine"]


def test_authorisation(setup: Dict[str, Any]) -> None:
    servers: Servers = setup["servers"]
    inbox = servers.inbox_url
    # No credentials: 401 everywhere that holds patient data.
    assert requests.get(f"{inbox}/api/tickets", timeout=10).status_code == 401
    assert requests.get(f"{inbox}/api/tickets/x", timeout=10).status_code == 401
    assert (
        requests.post(
            f"{inbox}/api/tickets/x/reply", json={"text": "hi"}, timeout=10
        ).status_code
        == 401
    )
    assert (
        requests.post(
            f"{inbox}/api/login",
            json={"username": "nurse", "password": "nope"},
            timeout=10,
        ).status_code
        == 401
    )
    # A patient cannot read tickets: the patient-facing server has no such route,
    # and the inbox does not accept the patient's channel or Rasa's token.
    assert requests.get(f"{servers.rasa_url}/api/tickets", timeout=10).status_code == 404
    bearer = {"Authorization": f"Bearer {servers.token}"}
    assert (
        requests.get(f"{inbox}/api/tickets", headers=bearer, timeout=10).status_code
        == 401
    )
    # A session cannot be replayed after logout.
    staff = login(servers)
    cookie = staff.cookies.get("kat_staff")
    assert staff.get(f"{inbox}/api/tickets", timeout=10).status_code == 200
    assert staff.post(f"{inbox}/api/logout", json={}, timeout=10).status_code == 200
    replay = requests.get(
        f"{inbox}/api/tickets", cookies={"kat_staff": cookie}, timeout=10
    )
    assert replay.status_code == 401


ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_inbox_page_in_real_chromium(setup: Dict[str, Any]) -> None:
    """Log in, see the urgent ticket, read markup as inert text, reply; screenshot kept."""
    from playwright.sync_api import sync_playwright

    servers: Servers = setup["servers"]
    phone: Receiver = setup["phone"]
    sender = f"browser-{uuid.uuid4().hex}"
    injection = '<img src=x onerror="window.pwned=1">'
    patient_says(servers, sender, f"i'm on lexapro, is ketamine ok for me? {injection}")
    phone.wait_for("only a clinician can answer")
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        page.goto(servers.inbox_url)
        page.fill("#username", "nurse")
        page.fill("#password", PASSWORD)
        page.click("#login button[type=submit]")
        page.wait_for_selector(".ticket")
        assert not page.is_visible("#login"), "the login form stays hidden once logged in"
        page.locator(".ticket", has_text="clinical question").first.click()
        page.wait_for_selector(".msg.patient")
        transcript = page.inner_text("#detail")
        assert injection in transcript  # shown as text ...
        assert page.evaluate("window.pwned") is None  # ... and never executed
        assert page.locator("#detail img").count() == 0
        page.fill("#reply-text", "Thanks for asking - a clinician will call you today.")
        page.click("#send-reply")
        page.wait_for_selector(".msg.staff")
        page.screenshot(path=str(ARTIFACTS / "staff-inbox.png"), full_page=True)
        browser.close()
    phone.wait_for("a clinician will call you today")
    assert (ARTIFACTS / "staff-inbox.png").stat().st_size > 10_000
    # The consent question was open when the staff reply came: the form ends instead of
    # asking it again under the clinician's message.
    time.sleep(2)
    mine = [
        json.loads(p["body"]).get("text", "")
        for p in phone.posts
        if json.loads(p["body"]).get("recipient_id") == sender
    ]
    staff_at = max(i for i, t in enumerate(mine) if "clinician will call you" in t)
    assert not any("contact you directly" in t for t in mine[staff_at + 1 :]), mine
    assert any("contact you directly" in t for t in mine[:staff_at])
    events = servers.tracker_of(sender)["events"]
    loops = [e.get("name") for e in events if e.get("event") == "active_loop"]
    assert loops[-1] is None


def test_what_a_patient_writes_after_a_crisis_is_on_the_urgent_ticket(
    setup: Dict[str, Any]
) -> None:
    """The person who picks up an urgent ticket reads everything written after the
    alarm, not only the message that raised it."""
    servers: Servers = setup["servers"]
    phone: Receiver = setup["phone"]
    sender = f"crisis-{uuid.uuid4().hex}"
    patient_says(servers, sender, "i dont want to be alive anymore")
    phone.wait_for("988")
    patient_says(servers, sender, "what are the side effects")
    phone.wait_for("I'm still here with you")
    patient_says(servers, sender, "i already took the whole bottle")
    staff = login(servers)
    deadline = time.monotonic() + 30
    texts_on_ticket: List[str] = []
    while time.monotonic() < deadline:
        mine, detail = tickets_of(staff, servers, sender)
        texts_on_ticket = [m.get("text") for m in detail["transcript"]]
        if "i already took the whole bottle" in texts_on_ticket:
            break
        time.sleep(0.5)
    assert len(mine) == 1 and detail["urgent"] is True
    assert "i dont want to be alive anymore" in texts_on_ticket
    assert "what are the side effects" in texts_on_ticket
    assert "i already took the whole bottle" in texts_on_ticket


def test_contact_details_only_with_consent_and_never_logged(
    setup: Dict[str, Any]
) -> None:
    servers: Servers = setup["servers"]
    phone: Receiver = setup["phone"]
    sender = f"consent-{uuid.uuid4().hex}"
    patient_says(servers, sender, "can i talk to a human please")
    phone.wait_for("Would you like the team to contact you")
    patient_says(servers, sender, "yes")
    phone.wait_for("What name should the team use")
    patient_says(servers, sender, "Sam Lee")
    phone.wait_for("phone number or e-mail")
    # An answer that is neither a phone number nor an e-mail address (a hesitant "no"
    # or "not sure" is a deny, which the form does not take as an answer at all).
    patient_says(servers, sender, "it's in my other phone")
    phone.wait_for("couldn't read that as a phone number")
    patient_says(servers, sender, "sam.lee@example.com")
    phone.wait_for("the team will use those details only")

    staff = login(servers)
    _, detail = tickets_of(staff, servers, sender)
    assert detail["contact"] == {"name": "Sam Lee", "email": "sam.lee@example.com"}
    for name in ("rasa", "actions", "inbox"):
        assert "sam.lee@example.com" not in servers.log_tail(name, lines=100000)

    declined = f"declined-{uuid.uuid4().hex}"
    patient_says(servers, declined, "i want to speak to a nurse")
    phone.wait_for("Would you like the team to contact you")
    patient_says(servers, declined, "no thanks")
    phone.wait_for("The team will reply to you here")


# --- Cross-site request forgery, in real Chromium ----------------------------------
# The inbox alone (no model needed), with a local receiver standing in for Rasa's HTTP
# API: every staff reply the inbox sends towards a patient lands there.

DOCTOR_PASSWORD = "another correct horse"


@pytest.fixture(scope="module")
def inbox_alone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    workdir = Path(tmp_path_factory.mktemp("inbox-alone"))
    rasa = Receiver()
    servers = Servers(
        workdir=workdir,
        extra_env={
            "RASA_URL": rasa.url.rstrip("/"),
            "KAT_STAFF_USERS": f"nurse:{hash_password(PASSWORD)},"
            f"doctor:{hash_password(DOCTOR_PASSWORD)}",
            "KAT_STAFF_API_TOKEN": "",
        },
    )
    try:
        servers.start_inbox()
        store = HandoffStore(f"sqlite:///{workdir / 'handoff.db'}")
        yield {"servers": servers, "rasa": rasa, "store": store}
    except Exception:
        print(servers.log_tail("inbox"))
        raise
    finally:
        servers.stop_all()
        rasa.close()


class AttackerSite:
    """Another port of the same host (127.0.0.1) serving one page."""

    def __init__(self, html: str) -> None:
        body = html.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/attack.html"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


ATTACK_PAGE = """<!doctype html><html><body>
<form id="form" method="POST" action="{reply}" enctype="text/plain" target="sink">
<input type="hidden" name='{{"text": "FORGED by a form", "x": "' value='"}}'>
</form>
<iframe name="sink"></iframe>
<script>
(async () => {{
  const results = {{}};
  try {{
    await fetch("{reply}", {{ method: "POST", mode: "no-cors", credentials: "include",
      headers: {{ "Content-Type": "text/plain" }},
      body: JSON.stringify({{ text: "FORGED by fetch" }}) }});
    results.plain = "sent";
  }} catch (e) {{ results.plain = "error"; }}
  try {{
    const r = await fetch("{reply}", {{ method: "POST", credentials: "include",
      headers: {{ "Content-Type": "application/json", "X-CSRF-Token": "guess" }},
      body: JSON.stringify({{ text: "FORGED as JSON" }}) }});
    results.json = r.status;
  }} catch (e) {{ results.json = "blocked"; }}
  window.results = results;
  document.getElementById("form").submit();
}})();
</script></body></html>"""


def chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(
        executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
    )


def log_in_page(
    page: Any, url: str, user: str = "nurse", password: str = PASSWORD
) -> None:
    page.goto(url)
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#inbox:not([hidden])")


def test_a_page_on_another_port_cannot_forge_a_staff_reply(
    inbox_alone: Dict[str, Any]
) -> None:
    """The reported attack: logged in to the inbox, staff open a page served from
    another port of the same host; it posts a reply with the staff cookie (a
    "simple" fetch and an HTML form, both text/plain, and a JSON fetch). No reply
    reaches the patient and the ticket gets no staff message."""
    from playwright.sync_api import sync_playwright

    servers: Servers = inbox_alone["servers"]
    rasa: Receiver = inbox_alone["rasa"]
    store: HandoffStore = inbox_alone["store"]
    ticket = store.open_ticket(
        f"forge-{uuid.uuid4().hex}", "callback", "clinical_question", False, []
    )
    reply_url = f"{servers.inbox_url}/api/tickets/{ticket.id}/reply"
    attacker = AttackerSite(ATTACK_PAGE.format(reply=reply_url))
    before = len(rasa.posts)
    try:
        with sync_playwright() as playwright:
            browser = chromium(playwright)
            context = browser.new_context()
            inbox_page = context.new_page()
            log_in_page(inbox_page, servers.inbox_url)
            answers: List[Tuple[str, int]] = []
            evil = context.new_page()
            evil.on(
                "response",
                lambda r: answers.append((r.request.method, r.status))
                if r.url == reply_url
                else None,
            )
            evil.goto(attacker.url)
            evil.wait_for_function("window.results !== undefined", timeout=15000)
            # The form's answer loads into the iframe: wait until it has come back.
            deadline = time.monotonic() + 15
            while len(answers) < 2 and time.monotonic() < deadline:
                evil.wait_for_timeout(200)
            results = evil.evaluate("window.results")
            browser.close()
    finally:
        attacker.close()
    time.sleep(1)
    assert len(rasa.posts) == before, [p["body"] for p in rasa.posts[before:]]
    assert b"FORGED" not in b"".join(p["body"] for p in rasa.posts)
    after = store.get(ticket.id)
    assert after is not None
    assert [m for m in after.transcript if m.get("from") == "staff"] == []
    # The two text/plain posts were refused as such; the JSON one never left the
    # browser (the inbox answers no CORS preflight).
    assert [status for method, status in answers if method == "POST"] == [415, 415]
    assert results["json"] == "blocked", results


def test_the_inbox_page_still_replies_in_chromium(inbox_alone: Dict[str, Any]) -> None:
    """Same origin, JSON, the CSRF token from the cookie: the real page logs in and
    its reply reaches the patient on the ticket's channel."""
    from playwright.sync_api import expect, sync_playwright

    servers: Servers = inbox_alone["servers"]
    rasa: Receiver = inbox_alone["rasa"]
    store: HandoffStore = inbox_alone["store"]
    ticket = store.open_ticket(
        f"page-{uuid.uuid4().hex}",
        "telegram",
        "patient_asked",
        False,
        [{"from": "patient", "text": "can someone call me"}],
    )
    before = len(rasa.posts)
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        page = browser.new_page()
        log_in_page(page, servers.inbox_url)
        page.locator(f".ticket[data-id='{ticket.id}']").click()
        page.wait_for_selector(".msg.patient")
        assert page.inner_text("#claimer") == "Not claimed yet"
        page.fill("#reply-text", "Hello, this is the clinic - we will call you.")
        page.click("#send-reply")
        page.wait_for_selector(".msg.staff")
        # The reply claimed the ticket: the page says so, in the detail and the list.
        expect(page.locator("#claimer")).to_have_text("Claimed by you")
        item = page.locator(f".ticket[data-id='{ticket.id}'] .claimer")
        assert item.inner_text().strip() == "by nurse"
        browser.close()
    [sent] = rasa.posts[before:]
    assert json.loads(sent["body"])["entities"] == {
        "staff_message": "Hello, this is the clinic - we will call you."
    }
    assert "output_channel=telegram" in sent["path"]
    after = store.get(ticket.id)
    assert after is not None
    assert [m["text"] for m in after.transcript if m.get("from") == "staff"] == [
        "Hello, this is the clinic - we will call you."
    ]


def test_a_second_user_sees_the_claimer_and_takes_over_only_on_purpose(
    inbox_alone: Dict[str, Any]
) -> None:
    """Two staff in two browsers: the doctor sees the nurse's claim, a reply of theirs
    is refused with the reason, and only a confirmed take-over hands the ticket over."""
    from playwright.sync_api import expect, sync_playwright

    servers: Servers = inbox_alone["servers"]
    rasa: Receiver = inbox_alone["rasa"]
    store: HandoffStore = inbox_alone["store"]
    ticket = store.open_ticket(
        f"owner-{uuid.uuid4().hex}",
        "callback",
        "clinical_question",
        True,
        [{"from": "patient", "text": "still dizzy"}],
    )
    before = len(rasa.posts)
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        nurse = browser.new_context().new_page()
        log_in_page(nurse, servers.inbox_url)
        nurse.locator(f".ticket[data-id='{ticket.id}']").click()
        nurse.click("#claim")
        expect(nurse.locator("#claimer")).to_have_text("Claimed by you")

        doctor = browser.new_context().new_page()
        dialogs: List[str] = []
        answers = iter([False, True])  # the first take-over question: "no"

        def answer(dialog: Any) -> None:
            dialogs.append(dialog.message)
            if dialog.type == "confirm" and not next(answers):
                dialog.dismiss()
            else:
                dialog.accept()

        doctor.on("dialog", answer)
        log_in_page(doctor, servers.inbox_url, "doctor", DOCTOR_PASSWORD)
        item = doctor.locator(f".ticket[data-id='{ticket.id}']")
        assert item.locator(".claimer").inner_text().strip() == "by nurse"
        item.click()
        doctor.wait_for_selector("#claimer")
        assert doctor.inner_text("#claimer") == "Claimed by nurse"
        assert doctor.inner_text("#claim") == "Take over from nurse"
        doctor.fill("#reply-text", "Doctor here")
        doctor.click("#send-reply")
        deadline = time.monotonic() + 10
        while not dialogs and time.monotonic() < deadline:
            doctor.wait_for_timeout(100)
        assert "claimed by nurse" in dialogs[-1], dialogs
        doctor.click("#claim")  # "Take it over?" - dismissed
        doctor.wait_for_timeout(500)
        assert store.get(ticket.id).claimed_by == "nurse"  # type: ignore[union-attr]
        doctor.click("#claim")  # accepted this time
        expect(doctor.locator("#claimer")).to_have_text(
            "Claimed by you (taken over from nurse)"
        )
        browser.close()
    after = store.get(ticket.id)
    assert after is not None
    assert after.claimed_by == "doctor" and after.taken_over_from == "nurse"
    assert [m for m in after.transcript if m.get("from") == "staff"] == []
    assert len(rasa.posts) == before  # the refused reply never left the inbox
    assert "taken over by doctor from nurse" in servers.log_tail("inbox", 200)
