"""The web chat's patient-side features, in real headless Chromium against the real servers
(as tests/e2e/test_webchat_e2e.py, whose module-scoped fixtures start the stack again here).

- Unread count: while the widget is minimised, a staff reply shows a badge on the launcher,
  in its accessible name and in the page title ("(1) ..."); opening the widget clears it.
- Save transcript: a plain-text file made in the browser ("You: ...", "Clinic assistant:
  ...", "Clinic team: ..."), with a dated header line and no markup.
- End chat: confirmed inside the widget, clears this device's copy of the conversation and
  starts a new session; the server's conversation is untouched.
All from the keyboard (focus, Enter).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict

import pytest

from tests.e2e import test_webchat_e2e as webchat
from tests.e2e.harness import Servers
from tests.e2e.test_webchat_e2e import (
    ARTIFACTS,
    CLINICAL_REPLY,
    FAQ_ANSWER,
    GREETING,
    open_chat,
    say,
    session_of,
    settle,
    staff_reply,
    wait_for_bot,
)

stack = webchat.stack
browser = webchat.browser

pytestmark = pytest.mark.e2e
STAFF_TEXT = "Hi, this is Sam, a nurse at the clinic."


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
