"""The web chat end to end, in real headless Chromium against the real servers.

Rasa (with the project's credentials.yml, so the secured socket.io channel), the action
server, the staff inbox and the web chat's static server (python -m webchat) all run as
in `make run`. The browser loads the demo page and talks to Rasa over socket.io; a raw
python-socketio client plays the attacker who knows a patient's session id. Screenshots
go to artifacts/ (not in git).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
import socketio

from tests.e2e.harness import RawClient, Servers, eventually
from tests.e2e.webchat_stack import PASSWORD, webchat_stack

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
INJECTION = (
    '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=1</script> '
    "see https://example.org/info. or javascript:window.__pwned=1"
)
GREETING = "What would you like to know"
FAQ_ANSWER = "best known as an anesthetic"
CRISIS_REPLY = "Your safety comes first"
CLINICAL_REPLY = "clinician will follow up"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    with webchat_stack(Path(tmp_path_factory.mktemp("webchat"))) as started:
        yield started


@pytest.fixture(scope="module")
def browser(stack: Dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def open_chat(browser: Any, web_url: str, width: int = 1100, height: int = 800) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda msg: msg.type == "error" and page.console_errors.append(msg.text),
    )
    page.goto(web_url)
    wait_for_bot(page, GREETING)
    return page


def bot_texts(page: Any) -> List[str]:
    return list(page.locator(".kat-msg-bot").all_inner_texts())


def wait_for_bot(page: Any, text: str, timeout: float = 60) -> None:
    page.locator(".kat-msg-bot", has_text=text).last.wait_for(timeout=timeout * 1000)


def settle(page: Any, quiet: float = 2.0, timeout: float = 30) -> None:
    """Wait until no new assistant message has arrived for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = page.locator(".kat-msg-bot").count()
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.2)
    raise TimeoutError("the assistant kept sending messages")


def say(page: Any, text: str) -> None:
    page.fill("#kat-input", text)
    page.press("#kat-input", "Enter")


def session_of(page: Any) -> Dict[str, Any]:
    saved = page.evaluate(
        "JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage)"
        ".find(k => k.startsWith('kat-chat:'))))"
    )
    return dict(saved["session"])


def staff_reply(servers: Servers, conversation_id: str, text: str) -> None:
    staff = requests.Session()
    login = staff.post(
        f"{servers.inbox_url}/api/login",
        json={"username": "nurse", "password": PASSWORD},
        timeout=10,
    )
    assert login.status_code == 200
    # As the inbox page does: every POST repeats the CSRF token the login set.
    staff.headers["X-CSRF-Token"] = staff.cookies["kat_csrf"]

    def ticket_ids() -> List[str]:
        tickets = staff.get(f"{servers.inbox_url}/api/tickets", timeout=10).json()
        return [
            t["id"] for t in tickets["tickets"] if t["conversation_id"] == conversation_id
        ]

    assert eventually(lambda: bool(ticket_ids())), "no hand-off ticket for the web chat"
    ticket = ticket_ids()[0]
    assert staff.post(
        f"{servers.inbox_url}/api/tickets/{ticket}/claim", json={}, timeout=10
    ).ok
    reply = staff.post(
        f"{servers.inbox_url}/api/tickets/{ticket}/reply", json={"text": text}, timeout=30
    )
    assert reply.status_code == 200, reply.text


def test_conversation_injection_reload_and_staff_reply(
    stack: Dict[str, Any], browser: Any
) -> None:
    servers: Servers = stack["servers"]
    page = open_chat(browser, stack["web_url"])

    # Greeting (sent by the widget for a new session) with its quick replies.
    assert page.locator(".kat-reply", has_text="What is KAT?").is_visible()
    assert page.get_attribute(".kat-log", "aria-live") == "polite"
    assert page.get_attribute(".kat-log", "role") == "log"

    # The typing indicator shows while the assistant answers, and goes with the answer.
    page.evaluate(
        """() => {
          const typing = document.querySelector('.kat-typing');
          window.__typingSeen = false;
          new MutationObserver(() => { if (!typing.hidden) window.__typingSeen = true; })
            .observe(typing, {attributes: true});
        }"""
    )
    say(page, "what is ketamine?")
    wait_for_bot(page, FAQ_ANSWER)
    assert page.evaluate("window.__typingSeen") is True
    assert page.locator(".kat-typing").is_hidden()
    assert page.locator(".kat-replies").count() == 0  # old quick replies are gone

    # Markup is shown as text and never runs; only http(s)/tel/mailto become links.
    before = page.locator(".kat-msg-bot").count()
    say(page, INJECTION)
    page.locator(".kat-msg-user", has_text="onerror").wait_for()
    # (wait_for_function would need eval, which the page's CSP rightly forbids)
    page.locator(".kat-msg-bot").nth(before).wait_for(timeout=60_000)
    user_text = page.locator(".kat-msg-user").last.inner_text()
    assert '<img src=x onerror="window.__pwned=1">' in user_text
    assert "<script>window.__pwned=1</script>" in user_text
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".kat-chat img").count() == 0
    assert page.locator(".kat-chat script").count() == 0
    safe_link = page.locator('.kat-msg-user a[href="https://example.org/info"]')
    assert safe_link.count() == 1
    assert safe_link.get_attribute("rel") == "noopener noreferrer"
    assert safe_link.get_attribute("target") == "_blank"
    assert page.locator('.kat-chat a[href^="javascript:"]').count() == 0

    # A clinical question goes to a person; the staff reply reaches the open chat live.
    say(page, "what dose should I take?")
    wait_for_bot(page, CLINICAL_REPLY)
    session = session_of(page)
    assert len(session["session_id"]) == 43 and len(session["resume_token"]) == 64
    staff_reply(
        servers,
        servers.conversation(session["session_id"], "socketio"),
        "Hi, this is Sam, a nurse at the clinic.",
    )
    wait_for_bot(page, "Message from the clinic team: Hi, this is Sam")
    settle(page)
    # Only the latest suggested replies are offered (older ones are removed).
    assert page.locator(".kat-replies").count() <= 1

    # Reload: the same conversation, on the same session, shown again.
    shown = bot_texts(page)
    page.fill("#kat-input", "a draft I have not sent")
    page.reload()
    wait_for_bot(page, FAQ_ANSWER)
    assert bot_texts(page) == shown
    assert page.input_value("#kat-input") == "a draft I have not sent"
    page.locator(".kat-status:empty").wait_for(state="attached")
    assert session_of(page) == session
    assert "could not continue" not in page.inner_text(".kat-log")
    page.screenshot(path=str(ARTIFACTS / "webchat-desktop.png"))

    tracker = servers.tracker(session["session_id"], "socketio")
    said = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    assert "what is ketamine?" in said and "what dose should I take?" in said
    assert tracker["latest_input_channel"] == "socketio"
    assert page.console_errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_crisis_at_phone_width_keyboard_only(stack: Dict[str, Any], browser: Any) -> None:
    page = open_chat(browser, stack["web_url"], width=360, height=740)
    # Keyboard only: tab to the input, type, Enter.
    page.focus("#kat-input")
    page.keyboard.type("I want to kill myself")
    page.keyboard.press("Enter")
    wait_for_bot(page, CRISIS_REPLY)
    crisis = page.locator(".kat-msg-bot", has_text=CRISIS_REPLY).last.inner_text()
    assert "911" in crisis and "988" in crisis

    # The footer stays in view, with tel: links, at 360 px and without sideways scrolling.
    footer = page.locator(".kat-footer")
    assert footer.is_visible()
    assert "not for emergencies" in footer.inner_text()
    assert page.locator('.kat-footer a[href="tel:911"]').count() == 1
    assert page.locator('.kat-footer a[href="tel:988"]').count() == 1
    box = footer.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert box["y"] + box["height"] <= 740
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # Labelled controls and a visible focus ring.
    assert page.locator("label[for=kat-input]").inner_text() == "Your message"
    page.focus(".kat-human")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate(
        "getComputedStyle(document.activeElement).outlineStyle + ' ' + "
        "getComputedStyle(document.activeElement).outlineWidth"
    )
    assert outline == "solid 3px"
    page.screenshot(path=str(ARTIFACTS / "webchat-360px.png"))
    assert (ARTIFACTS / "webchat-360px.png").stat().st_size > 10_000
    page.context.close()


def test_a_known_session_id_is_not_enough_to_join(
    stack: Dict[str, Any], browser: Any
) -> None:
    servers: Servers = stack["servers"]
    page = open_chat(browser, stack["web_url"])
    victim = session_of(page)["session_id"]

    attacker = RawClient(servers.rasa_url, stack["web_url"])
    attacker.connect()
    try:
        for payload in (
            {"session_id": victim},
            {"session_id": victim, "resume_token": "0" * 64},
        ):
            confirm = attacker.request_session(payload)
            assert confirm["session_id"] != victim
        # A message naming the victim's session still goes to the attacker's own.
        attacker.run(
            attacker.sio.emit(
                "user_uttered", {"message": "attacker was here", "session_id": victim}
            )
        )
        assert eventually(lambda: bool(attacker.received), 60)
        mine = attacker.confirms[-1]["session_id"]
        assert "attacker was here" in [
            e.get("text")
            for e in servers.tracker(mine, "socketio")["events"]
            if e["event"] == "user"
        ]

        received_before = len(attacker.received)
        say(page, "what is ketamine?")
        wait_for_bot(page, FAQ_ANSWER)
        time.sleep(2)
        assert attacker.received[received_before:] == []
        assert all(FAQ_ANSWER not in str(m) for m in attacker.received)
        victim_said = [
            e.get("text")
            for e in servers.tracker(victim, "socketio")["events"]
            if e["event"] == "user"
        ]
        assert "attacker was here" not in victim_said
        assert "attacker was here" not in page.inner_text(".kat-log")
    finally:
        attacker.close()
    page.context.close()


def test_other_origins_are_refused(stack: Dict[str, Any]) -> None:
    servers: Servers = stack["servers"]
    stranger = RawClient(servers.rasa_url, "http://evil.example")
    with pytest.raises(socketio.exceptions.ConnectionError):
        stranger.connect()
    stranger.loop.call_soon_threadsafe(stranger.loop.stop)
    allowed = RawClient(servers.rasa_url, stack["web_url"])
    allowed.connect()
    assert allowed.request_session({})["session_id"]
    allowed.close()


def test_non_text_messages_read_as_on_the_rest_channel(stack: Dict[str, Any]) -> None:
    """A number is its digits, anything else an empty message; each gets a reply."""
    servers: Servers = stack["servers"]
    client = RawClient(servers.rasa_url, stack["web_url"])
    try:
        client.connect()
        session = client.request_session({})["session_id"]
        for sent in (42, None, ["a"], {"b": 1}):
            before = len(client.received)
            client.run(client.sio.emit("user_uttered", {"message": sent}))
            assert eventually(lambda b=before: len(client.received) > b), sent
            time.sleep(0.3)  # the rest of this reply
        said = [
            e.get("text")
            for e in servers.tracker(session, "socketio")["events"]
            if e["event"] == "user"
        ]
        assert said == ["42", "", "", ""]
    finally:
        client.close()


def test_page_security_headers(stack: Dict[str, Any]) -> None:
    page = requests.get(stack["web_url"], timeout=10)
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert f"connect-src 'self' {stack['servers'].rasa_url}" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in page.text  # no inline script: settings are JSON data
    client = requests.get(f"{stack['web_url']}/vendor/socket.io.min.js", timeout=10)
    assert client.status_code == 200 and "Socket.IO v4" in client.text
    assert requests.get(f"{stack['web_url']}/package.json", timeout=10).status_code == 404


def test_socket_down_then_back(stack: Dict[str, Any], browser: Any) -> None:
    """Rasa stops: a calm notice, typed text kept and sent later, a way to reach a person."""
    servers: Servers = stack["servers"]
    page = open_chat(browser, stack["web_url"])
    session = session_of(page)

    servers.stop("rasa")
    page.locator(".kat-status", has_text="Reconnecting").wait_for(timeout=30_000)
    say(page, "what is ketamine?")
    page.locator(".kat-pending-note").wait_for()
    page.click(".kat-human")
    note = page.locator(".kat-msg-system", has_text="talk to a person").last
    note.wait_for()
    assert page.locator('.kat-msg-system a[href="tel:911"]').count() >= 1
    page.screenshot(path=str(ARTIFACTS / "webchat-reconnecting.png"))

    servers.start_rasa()  # same port, same tracker store and secret
    wait_for_bot(page, FAQ_ANSWER, timeout=90)
    assert page.locator(".kat-pending-note").count() == 0
    page.locator(".kat-status:empty").wait_for(state="attached")
    assert session_of(page) == session  # the session was resumed with its token

    # Connected again, "Talk to a person" asks the assistant for a person.
    page.click(".kat-human")
    wait_for_bot(page, "Would you like the team to contact you")
    page.context.close()
