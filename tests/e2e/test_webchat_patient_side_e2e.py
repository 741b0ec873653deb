"""The web chat's patient-side features, in real headless Chromium against the real servers
(as tests/e2e/test_webchat_e2e.py, whose module-scoped fixtures start the stack again here).

- Unread count: while the widget is minimised, a staff reply shows a badge on the launcher,
  in its accessible name and in the page title ("(1) ..."); opening the widget clears it.
- Save transcript: a plain-text file made in the browser ("You: ...", "Clinic assistant:
  ...", "Clinic team: ..."), with a dated header line and no markup.
- End chat: confirmed inside the widget, clears this device's copy of the conversation and
  starts a new session; the server's conversation is untouched.
- Waiting for a person: while the conversation has a hand-off ticket that is not resolved
  (the Rasa server reads the hand-off store: the ``handoff_status`` socket event), a
  status line says a member of the team will reply here, with the clinic's usual reply
  time (this module's clinic profile fills ``reply_time`` in); staff replies are marked
  as the clinic team's; when staff resolve the ticket the line goes.
All from the keyboard (focus, Enter).

The stack is tests/e2e/webchat_stack.py's, with a copy of content/ whose clinic profile
has a reply time (the shipped one is a placeholder).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from tests.e2e import test_webchat_e2e as webchat
from tests.e2e.harness import RawClient, Servers, eventually
from tests.e2e.test_webchat_e2e import (
    ARTIFACTS,
    CLINICAL_REPLY,
    CRISIS_REPLY,
    FAQ_ANSWER,
    GREETING,
    open_chat,
    say,
    session_of,
    settle,
    staff_reply,
    wait_for_bot,
)
from tests.e2e.webchat_stack import PASSWORD, webchat_stack

browser = webchat.browser

pytestmark = pytest.mark.e2e
STAFF_TEXT = "Hi, this is Sam, a nurse at the clinic."
REPLY_TIME = "within one business day"
REPLY_TIME_ES = "en un plazo de un día hábil"
PROFILE = {"reply_time": REPLY_TIME, "reply_time_es": REPLY_TIME_ES}
WAITING = f"A member of the team will reply here; usually {REPLY_TIME}."
WAITING_ES = f"Un miembro del equipo le responderá aquí; por lo general, {REPLY_TIME_ES}."


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    with webchat_stack(Path(tmp_path_factory.mktemp("patient")), profile=PROFILE) as s:
        yield s


def press(page: Any, selector: str) -> None:
    """Keyboard only: focus the control and press Enter."""
    page.focus(selector)
    page.keyboard.press("Enter")


def save_transcript(page: Any) -> str:
    with page.expect_download() as info:
        press(page, ".kat-save")
    download = info.value
    assert download.suggested_filename.startswith("chat-transcript-")
    assert download.suggested_filename.endswith(".txt")
    return Path(download.path()).read_text(encoding="utf-8")


def test_unread_count_while_minimised_then_staff_line_in_the_transcript(
    stack: Dict[str, Any], browser: Any
) -> None:
    servers: Servers = stack["servers"]
    page = open_chat(browser, stack["web_url"])
    title = page.title()
    assert page.locator(".kat-badge").is_hidden()

    say(page, "what dose should I take?")
    wait_for_bot(page, CLINICAL_REPLY)
    settle(page)
    press(page, ".kat-close")  # minimise
    assert page.locator(".kat-panel").is_hidden()
    assert page.locator(".kat-badge").is_hidden()
    assert page.title() == title

    session = session_of(page)
    staff_reply(
        servers, servers.conversation(session["session_id"], "socketio"), STAFF_TEXT
    )
    badge = page.locator(".kat-badge")
    badge.wait_for(state="visible", timeout=30_000)
    settle(page)
    count = int(badge.inner_text())
    assert count >= 1
    words = "1 unread message" if count == 1 else f"{count} unread messages"
    assert page.get_attribute(".kat-launcher", "aria-label") == f"Chat with us, {words}"
    assert page.title() == f"({count}) {title}"
    announcer = page.locator(".kat-announcer")
    assert announcer.get_attribute("aria-live") == "polite"
    assert words in announcer.inner_text()
    page.screenshot(path=str(ARTIFACTS / "webchat-unread.png"))

    # A reload keeps the count (it belongs to this tab's conversation).
    page.reload()
    page.locator(".kat-badge").wait_for(state="visible")
    assert page.title() == f"({count}) {title}"

    # Opening (keyboard) clears the count and restores the title.
    press(page, ".kat-launcher")
    page.locator(".kat-panel").wait_for(state="visible")
    assert page.locator(".kat-badge").is_hidden()
    assert page.title() == title
    assert page.get_attribute(".kat-launcher", "aria-label") is None
    assert page.evaluate("document.activeElement.id") == "kat-input"

    text = save_transcript(page)
    assert "You: what dose should I take?" in text
    assert f"Clinic team: {STAFF_TEXT}" in text
    assert "Message from the clinic team" not in text
    assert "Clinic assistant: " in text and CLINICAL_REPLY in text
    assert "<" not in text
    page.context.close()


def test_save_transcript_is_plain_text_with_a_dated_header(
    stack: Dict[str, Any], browser: Any
) -> None:
    page = open_chat(browser, stack["web_url"])
    say(page, "what is ketamine?")
    wait_for_bot(page, FAQ_ANSWER)
    settle(page)
    requests_seen = []
    page.on("request", lambda r: requests_seen.append(r.url))

    text = save_transcript(page)
    assert requests_seen == [] or all(u.startswith("blob:") for u in requests_seen)
    lines = text.splitlines()
    today = page.evaluate(
        "(() => { const d = new Date(); return d.getFullYear() + '-' + "
        "String(d.getMonth() + 1).padStart(2, '0') + '-' + "
        "String(d.getDate()).padStart(2, '0'); })()"
    )
    assert lines[0].startswith("Chat transcript") and today in lines[0]
    assert "You: what is ketamine?" in lines
    assert any(
        line.startswith("Clinic assistant: ") and GREETING in line for line in lines
    )
    assert any(
        line.startswith("Clinic assistant: ") and FAQ_ANSWER in line for line in lines
    )
    assert "<" not in text
    # Every line is a header, a speaker's line, a blank line or an indented continuation.
    for line in lines[1:]:
        assert (
            line == ""
            or line.startswith("    ")
            or re.match(r"^(You|Clinic assistant|Clinic team( \(.+\))?|Note): ", line)
        ), line
    page.context.close()


def test_end_chat_clears_this_device_and_starts_a_new_session(
    stack: Dict[str, Any], browser: Any
) -> None:
    servers: Servers = stack["servers"]
    page = open_chat(browser, stack["web_url"], width=360, height=740)  # a phone
    say(page, "what is ketamine?")
    wait_for_bot(page, FAQ_ANSWER)
    settle(page)
    old = session_of(page)

    # The confirmation is in the widget; "Keep chatting" (or Escape) keeps everything.
    page.on("dialog", lambda d: pytest.fail(f"a browser dialog opened: {d.message}"))
    press(page, ".kat-end")
    confirm = page.locator(".kat-confirm")
    assert confirm.is_visible()
    assert "End this chat?" in confirm.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(ARTIFACTS / "webchat-end-chat-360px.png"))
    assert page.evaluate("document.activeElement.className") == "kat-confirm-yes"
    press(page, ".kat-confirm-no")
    assert confirm.is_hidden()
    assert page.evaluate("document.activeElement.className").startswith(
        "kat-tool kat-end"
    )
    page.keyboard.press("Enter")
    assert confirm.is_visible()
    page.keyboard.press("Escape")
    assert confirm.is_hidden() and page.locator(".kat-panel").is_visible()
    assert FAQ_ANSWER in page.inner_text(".kat-log")

    press(page, ".kat-end")
    press(page, ".kat-confirm-yes")
    assert confirm.is_hidden()
    assert page.locator(".kat-msg-user").count() == 0
    assert FAQ_ANSWER not in page.inner_text(".kat-log")
    wait_for_bot(page, GREETING)  # a fresh session is greeted
    settle(page)
    new = session_of(page)
    assert new["session_id"] != old["session_id"]
    assert new["resume_token"] != old["resume_token"]
    log = page.inner_text(".kat-log")
    assert "what is ketamine?" not in log and FAQ_ANSWER not in log
    assert "could not continue" not in log
    stored = page.evaluate(
        "JSON.stringify(sessionStorage) + JSON.stringify(localStorage)"
    )
    assert "what is ketamine?" not in stored and old["session_id"] not in stored

    # A reload brings back only the new conversation.
    page.reload()
    wait_for_bot(page, GREETING)
    page.locator(".kat-status:empty").wait_for(state="attached")
    log = page.inner_text(".kat-log")
    assert "what is ketamine?" not in log and FAQ_ANSWER not in log
    assert session_of(page) == new

    # The clinic's side of the old conversation is untouched.
    said = [
        e.get("text")
        for e in servers.tracker(old["session_id"], "socketio")["events"]
        if e["event"] == "user"
    ]
    assert "what is ketamine?" in said
    assert page.console_errors == []  # type: ignore[attr-defined]
    page.context.close()


def ticket_of(staff: Any, servers: Servers, conversation: str) -> Dict[str, Any]:
    listed = staff.get(f"{servers.inbox_url}/api/tickets", timeout=10).json()["tickets"]
    mine = [t for t in listed if t["conversation_id"] == conversation]
    assert mine, "no ticket for this conversation"
    return dict(mine[0])


def ask_for_a_nurse(page: Any) -> None:
    """As a patient: ask for a person, and decline to be contacted outside the chat (as
    tests/e2e/test_staff_inbox_e2e.py's contact form test does)."""
    say(page, "can i talk to a nurse")
    wait_for_bot(page, "Would you like the team to contact you")
    settle(page)
    say(page, "no thanks")
    wait_for_bot(page, "The team will reply to you here")


def handoff_answers(client: RawClient) -> List[Dict[str, Any]]:
    answers: List[Dict[str, Any]] = []
    client.sio.on("handoff_status", lambda data: answers.append(data))
    return answers


def test_waiting_for_a_person_until_staff_close_the_ticket(
    stack: Dict[str, Any], browser: Any
) -> None:
    servers: Servers = stack["servers"]
    page = open_chat(browser, stack["web_url"])
    line = page.locator(".kat-handoff")
    say(page, "what is ketamine?")
    wait_for_bot(page, FAQ_ANSWER)
    settle(page)
    assert line.is_hidden()  # no ticket: no line

    ask_for_a_nurse(page)
    line.wait_for(state="visible", timeout=15_000)
    assert line.inner_text() == WAITING
    assert line.get_attribute("role") == "status"
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "webchat-waiting-for-a-person.png"))

    # The server's word, not the reply text: a reload (a new socket) asks again.
    page.reload()
    wait_for_bot(page, "The team will reply to you here")
    line.wait_for(state="visible", timeout=15_000)
    assert line.inner_text() == WAITING

    # Another session cannot learn this one's status: it asks for its own only.
    session = session_of(page)
    conversation = servers.conversation(session["session_id"], "socketio")
    other = RawClient(servers.rasa_url, stack["web_url"])
    try:
        other.connect()
        other.request_session({})
        answers = handoff_answers(other)
        other.run(other.sio.emit("handoff_status", {"session_id": session["session_id"]}))
        assert eventually(lambda: bool(answers), 10)
        assert answers[-1] == {"open": False}
    finally:
        other.close()

    # A staff reply is marked as the clinic team's, not the assistant's.
    staff_reply(servers, conversation, STAFF_TEXT)
    wait_for_bot(page, STAFF_TEXT)
    reply = page.locator(".kat-msg-staff", has_text=STAFF_TEXT)
    assert reply.count() == 1
    assert reply.locator(".kat-staff-label").inner_text() == "Clinic team"
    assert page.locator(".kat-msg-staff", has_text=FAQ_ANSWER).count() == 0
    settle(page)
    assert line.is_visible()  # claimed and answered, still open

    # Staff close it in the inbox: the line goes at the next check.
    staff = servers.inbox_session("nurse", PASSWORD)
    ticket = ticket_of(staff, servers, conversation)
    closed = staff.post(
        f"{servers.inbox_url}/api/tickets/{ticket['id']}/resolve", json={}, timeout=30
    )
    assert closed.json()["patient_told"], closed.text
    wait_for_bot(page, "closed your request")
    line.wait_for(state="hidden", timeout=45_000)
    assert line.inner_text() == ""
    # It stays gone after a reload, and the staff reply keeps its mark.
    page.reload()
    wait_for_bot(page, "closed your request")
    page.locator(".kat-status:empty").wait_for(state="attached")
    page.wait_for_timeout(3000)
    assert line.is_hidden()
    assert page.locator(".kat-msg-staff", has_text=STAFF_TEXT).count() == 1
    assert page.console_errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_an_urgent_hand_off_points_to_the_emergency_numbers(
    stack: Dict[str, Any], browser: Any
) -> None:
    """After a crisis the ticket is urgent: no "usually within one business day"."""
    page = open_chat(browser, stack["web_url"], width=360, height=740)
    say(page, "I want to kill myself")
    wait_for_bot(page, CRISIS_REPLY)
    line = page.locator(".kat-handoff")
    line.wait_for(state="visible", timeout=15_000)
    text = line.inner_text()
    assert "911" in text and "988" in text and REPLY_TIME not in text
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.context.close()


def test_the_spanish_widget_says_it_in_spanish(
    stack: Dict[str, Any], browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.goto(stack["web_url"] + "/?lang=es")
    wait_for_bot(page, "¿Qué le gustaría saber?")  # the Spanish page greets in Spanish
    assert page.get_attribute(".kat-chat", "lang") == "es"
    ask_for_a_nurse(page)
    line = page.locator(".kat-handoff")
    line.wait_for(state="visible", timeout=15_000)
    assert line.inner_text() == WAITING_ES
    context.close()
