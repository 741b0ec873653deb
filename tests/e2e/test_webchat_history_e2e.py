"""The web chat's "Keep this chat on this device", in real headless Chromium against the
real servers (the stack of tests/e2e/test_webchat_e2e.py, started again for this module).

- Off by default: a new tab (or the browser closed and opened again) starts afresh.
- Ticked: the conversation and a keep token (never the resume token) are kept in
  localStorage with an expiry; a new browser context with the same storage (the tab
  closed, the patient back later) shows the history and continues the same session on
  the server.
- Unticking or "End chat" removes the kept copy, and the server refuses the tokens it
  held (kat/web_revocations.py): after End chat the session's resume and keep tokens,
  after unticking or "forget me" the keep tokens issued until then.
- Expiry: in the browser (the stored expiry in the past) and on the server (a keep token
  past its time, or one whose time was changed, gets a new session).
- The copy belongs to the page's origin: a page of another origin does not see it.
All from the keyboard.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Dict, List, Optional

import pytest

from tests.e2e import test_webchat_e2e as webchat
from tests.e2e.harness import RawClient, Servers, eventually
from tests.e2e.test_webchat_e2e import (
    ARTIFACTS,
    FAQ_ANSWER,
    GREETING,
    open_chat,
    say,
    session_of,
    settle,
    wait_for_bot,
)
from tests.e2e.webchat_stack import SECRET

stack = webchat.stack
browser = webchat.browser

pytestmark = pytest.mark.e2e
HOURS = 24  # content/clinic_profile.yml, web_history_hours

KEPT_COPY = """() => {
  const key = Object.keys(localStorage).find(k => k.startsWith('kat-chat:keep:'));
  return key ? JSON.parse(localStorage.getItem(key)) : null;
}"""


def kept_copy(page: Any) -> Optional[Dict[str, Any]]:
    copy = page.evaluate(KEPT_COPY)
    return dict(copy) if copy else None


def all_storage(page: Any) -> str:
    return str(
        page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")
    )


def toggle_keep(page: Any) -> None:
    """Keyboard only: focus the checkbox, Space."""
    page.focus("#kat-keep")
    page.keyboard.press("Space")


def keep_on(page: Any) -> Dict[str, Any]:
    assert not page.is_checked("#kat-keep")
    toggle_keep(page)
    assert page.is_checked("#kat-keep")
    assert eventually(lambda: bool((kept_copy(page) or {}).get("keep_token")), 15)
    copy = kept_copy(page)
    assert copy is not None
    return copy


def user_texts(servers: Servers, session_id: str) -> List[str]:
    events = servers.tracker(session_id, "socketio")["events"]
    return [e.get("text") for e in events if e["event"] == "user"]


def resumes(stack: Dict[str, Any], request: Dict[str, Any]) -> bool:
    """Whether the server resumes a session for this ``session_request`` (a client of
    its own, as a copy taken off the device would be used)."""
    client = RawClient(stack["servers"].rasa_url, stack["web_url"])
    try:
        client.connect()
        return bool(
            client.request_session(request)["session_id"] == request["session_id"]
        )
    finally:
        client.close()


def as_kept(copy: Dict[str, Any]) -> Dict[str, Any]:
    return {k: copy[k] for k in ("session_id", "keep_token", "keep_until")}


def reopen(browser: Any, page: Any, web_url: str) -> Any:
    """The tab closed and the site opened again later: a new browser context with the
    same cookies and localStorage (sessionStorage, which belongs to the tab, is gone)."""
    storage = page.context.storage_state()
    page.context.close()
    context = browser.new_context(
        storage_state=storage, viewport={"width": 1100, "height": 800}
    )
    again = context.new_page()
    again.console_errors = []  # type: ignore[attr-defined]
    again.on(
        "console",
        lambda msg: msg.type == "error" and again.console_errors.append(msg.text),
    )
    again.goto(web_url)
    return again


def test_off_by_default_a_new_tab_starts_fresh(
    stack: Dict[str, Any], browser: Any
) -> None:
    page = open_chat(browser, stack["web_url"])
    keep = page.locator("#kat-keep")
    assert keep.is_visible() and not keep.is_checked()
    label = page.locator("label[for=kat-keep]").inner_text()
    assert label == "Keep this chat on this device"
    hint = page.locator("#kat-keep-hint").inner_text()
    assert f"{HOURS} hours" in hint and "shared" in hint
    assert keep.get_attribute("aria-describedby") == "kat-keep-hint"
    say(page, "what is ketamine?")
    wait_for_bot(page, FAQ_ANSWER)
    settle(page)
    first = session_of(page)
    assert kept_copy(page) is None
    assert "what is ketamine?" not in str(page.evaluate("JSON.stringify(localStorage)"))

    # Another tab of the same browser: its own sessionStorage, nothing kept to share.
    tab = page.context.new_page()
    tab.goto(stack["web_url"])
    wait_for_bot(tab, GREETING)
    settle(tab)
    assert tab.locator(".kat-msg-user").count() == 0
    assert FAQ_ANSWER not in tab.inner_text(".kat-log")
    assert session_of(tab)["session_id"] != first["session_id"]
    tab.close()

    # The browser closed and opened again: fresh too.
    again = reopen(browser, page, stack["web_url"])
    wait_for_bot(again, GREETING)
    settle(again)
    assert again.locator(".kat-msg-user").count() == 0
    assert FAQ_ANSWER not in again.inner_text(".kat-log")
    assert session_of(again)["session_id"] != first["session_id"]
    again.context.close()


def test_kept_chat_comes_back_and_continues_the_same_session(
    stack: Dict[str, Any], browser: Any
) -> None:
    servers: Servers = stack["servers"]
    page = open_chat(browser, stack["web_url"])
    say(page, "what is ketamine?")
    wait_for_bot(page, FAQ_ANSWER)
    settle(page)
    session = session_of(page)
    before = time.time()
    copy = keep_on(page)

    # What is kept: the messages, the session id, a keep token and its expiry — not
    # the resume token, which stays in this tab only.
    assert copy["session_id"] == session["session_id"]
    assert session["resume_token"] not in json.dumps(copy)
    assert len(copy["keep_token"]) == 64 and copy["keep_token"] != session["resume_token"]
    assert abs(copy["keep_until"] - (before + HOURS * 3600)) < 120
    assert copy["expires"] == copy["keep_until"] * 1000
    assert any(m.get("text") == "what is ketamine?" for m in copy["messages"])
    assert page.locator(".kat-announcer", has_text="kept on this device").count() == 1
    shown = webchat.bot_texts(page)
    page.screenshot(path=str(ARTIFACTS / "webchat-keep-ticked.png"))

    again = reopen(browser, page, stack["web_url"])
    wait_for_bot(again, FAQ_ANSWER)
    again.locator(".kat-status:empty").wait_for(state="attached")
    assert webchat.bot_texts(again)[: len(shown)] == shown
    assert again.locator(".kat-msg-user", has_text="what is ketamine?").count() == 1
    assert again.is_checked("#kat-keep")
    assert session_of(again)["session_id"] == session["session_id"]
    assert "could not continue" not in again.inner_text(".kat-log")
    # Not greeted again: the conversation goes on.
    assert again.locator(".kat-msg-bot", has_text=GREETING).count() == 1

    # ... on the same session on the server.
    bots = again.locator(".kat-msg-bot").count()
    say(again, "is ketamine addictive?")
    again.locator(".kat-msg-bot").nth(bots).wait_for(timeout=60_000)
    settle(again)
    said = user_texts(servers, session["session_id"])
    assert "what is ketamine?" in said and "is ketamine addictive?" in said
    # Each message moves the expiry on.
    assert eventually(
        lambda: (kept_copy(again) or {}).get("keep_until", 0) >= copy["keep_until"], 10
    )
    assert any(
        m.get("text") == "is ketamine addictive?"
        for m in (kept_copy(again) or {}).get("messages", [])
    )
    assert again.console_errors == []  # type: ignore[attr-defined]
    again.context.close()


def test_unticking_or_ending_the_chat_removes_the_kept_copy(
    stack: Dict[str, Any], browser: Any
) -> None:
    page = open_chat(browser, stack["web_url"])
    say(page, "what is ketamine?")
    wait_for_bot(page, FAQ_ANSWER)
    settle(page)
    taken = as_kept(keep_on(page))
    assert resumes(stack, taken)
    toggle_keep(page)  # untick
    assert not page.is_checked("#kat-keep")
    assert kept_copy(page) is None
    # A copy of the keep token taken before is refused by the server too.
    assert eventually(lambda: not resumes(stack, taken), 10)
    assert page.locator(".kat-announcer", has_text="will not be kept").count() == 1
    # The tab itself still has the conversation (a reload in this tab keeps it).
    page.reload()
    wait_for_bot(page, FAQ_ANSWER)
    assert not page.is_checked("#kat-keep") and kept_copy(page) is None
    again = reopen(browser, page, stack["web_url"])
    wait_for_bot(again, GREETING)
    settle(again)
    assert FAQ_ANSWER not in again.inner_text(".kat-log")

    # Ticked, then "End chat": nothing left on the device, the box is off again.
    say(again, "what is ketamine?")
    wait_for_bot(again, FAQ_ANSWER)
    settle(again)
    old = session_of(again)
    time.sleep(1.1)  # a keep token of a later second than the withdrawal above
    taken = as_kept(keep_on(again))
    assert resumes(stack, taken)
    again.focus(".kat-end")
    again.keyboard.press("Enter")
    again.focus(".kat-confirm-yes")
    again.keyboard.press("Enter")
    wait_for_bot(again, GREETING)
    settle(again)
    assert kept_copy(again) is None
    assert not again.is_checked("#kat-keep")
    stored = all_storage(again)
    assert "what is ketamine?" not in stored and old["session_id"] not in stored
    # The ended session's tokens, copied before, are refused by the server.
    assert not resumes(stack, taken)
    assert not resumes(stack, dict(old))
    later = reopen(browser, again, stack["web_url"])
    wait_for_bot(later, GREETING)
    settle(later)
    assert FAQ_ANSWER not in later.inner_text(".kat-log")
    assert session_of(later)["session_id"] != old["session_id"]
    later.context.close()


def test_an_expired_copy_is_removed_and_the_chat_starts_fresh(
    stack: Dict[str, Any], browser: Any
) -> None:
    page = open_chat(browser, stack["web_url"])
    say(page, "what is ketamine?")
    wait_for_bot(page, FAQ_ANSWER)
    settle(page)
    old = session_of(page)
    keep_on(page)
    # The stored expiry in the past, as if the patient came back after web_history_hours.
    page.evaluate(
        """() => {
          const key = Object.keys(localStorage).find(k => k.startsWith('kat-chat:keep:'));
          const copy = JSON.parse(localStorage.getItem(key));
          copy.expires = Date.now() - 1000;
          localStorage.setItem(key, JSON.stringify(copy));
        }"""
    )
    again = reopen(browser, page, stack["web_url"])
    wait_for_bot(again, GREETING)
    settle(again)
    assert FAQ_ANSWER not in again.inner_text(".kat-log")
    assert again.locator(".kat-msg-user").count() == 0
    assert not again.is_checked("#kat-keep")
    assert kept_copy(again) is None
    assert "what is ketamine?" not in all_storage(again)
    assert session_of(again)["session_id"] != old["session_id"]
    again.context.close()


def test_a_copy_the_server_refuses_is_dropped(
    stack: Dict[str, Any], browser: Any
) -> None:
    """The browser's expiry says yes but the server says no (a keep token that is not
    valid any more, e.g. web_history_hours shortened): the old messages go too."""
    page = open_chat(browser, stack["web_url"])
    say(page, "what is ketamine?")
    wait_for_bot(page, FAQ_ANSWER)
    settle(page)
    old = session_of(page)
    keep_on(page)
    page.evaluate(
        """() => {
          const key = Object.keys(localStorage).find(k => k.startsWith('kat-chat:keep:'));
          const copy = JSON.parse(localStorage.getItem(key));
          copy.keep_token = '0'.repeat(64);
          localStorage.setItem(key, JSON.stringify(copy));
        }"""
    )
    again = reopen(browser, page, stack["web_url"])
    wait_for_bot(again, GREETING)
    settle(again)
    assert FAQ_ANSWER not in again.inner_text(".kat-log")
    assert again.locator(".kat-msg-user").count() == 0
    assert session_of(again)["session_id"] != old["session_id"]
    assert "what is ketamine?" not in all_storage(again)
    assert kept_copy(again) is None and not again.is_checked("#kat-keep")
    again.context.close()


def test_the_server_checks_the_keep_tokens_lifetime(stack: Dict[str, Any]) -> None:
    servers: Servers = stack["servers"]
    client = RawClient(servers.rasa_url, stack["web_url"])
    try:
        client.connect()
        confirm = client.request_session({"keep": True})
        session = confirm["session_id"]
        assert confirm["keep_hours"] == HOURS
        kept = {
            "session_id": session,
            "keep_token": confirm["keep_token"],
            "keep_until": confirm["keep_until"],
        }
        assert client.request_session(kept)["session_id"] == session

        def signed(until: int) -> Dict[str, Any]:
            token = hmac.new(
                SECRET.encode(), f"keep:{session}:{until}".encode(), hashlib.sha256
            ).hexdigest()
            return {"session_id": session, "keep_token": token, "keep_until": until}

        now = int(time.time())
        assert client.request_session(signed(now + 600))["session_id"] == session
        # Past its time: a new session, whatever the browser says.
        assert client.request_session(signed(now - 1))["session_id"] != session
        # Further ahead than web_history_hours allows: refused even when signed.
        assert client.request_session(signed(now + 48 * 3600))["session_id"] != session
        # A later expiry written over a real token: refused.
        moved = {**kept, "keep_until": kept["keep_until"] + 3600}
        assert client.request_session(moved)["session_id"] != session
        # The keep token is not a resume token, nor the other way round.
        assert (
            client.request_session(
                {"session_id": session, "resume_token": kept["keep_token"]}
            )["session_id"]
            != session
        )

        # keep_request: a token for the socket's own session only.
        mine = client.request_session({})["session_id"]
        answers: List[Dict[str, Any]] = []
        client.sio.on("keep_confirm", lambda data: answers.append(data))
        client.run(client.sio.emit("keep_request", {"session_id": session}))
        assert eventually(lambda: bool(answers), 10)
        token = answers[-1]
        assert (
            client.request_session(
                {
                    "session_id": mine,
                    **{k: token[k] for k in ("keep_token", "keep_until")},
                }
            )["session_id"]
            == mine
        )
        assert (
            client.request_session(
                {
                    "session_id": session,
                    **{k: token[k] for k in ("keep_token", "keep_until")},
                }
            )["session_id"]
            != session
        )
    finally:
        client.close()


def test_the_server_refuses_withdrawn_tokens(stack: Dict[str, Any]) -> None:
    """The socket.io protocol without a browser: End chat's ``"end": true`` and, for an
    End chat pressed offline, ``"end"`` with the session's token; ``keep_withdraw``."""
    servers: Servers = stack["servers"]
    client = RawClient(servers.rasa_url, stack["web_url"])
    try:
        client.connect()
        first = client.request_session({"keep": True})
        tab = {k: first[k] for k in ("session_id", "resume_token")}
        kept = {
            "session_id": first["session_id"],
            **{k: first[k] for k in ("keep_token", "keep_until")},
        }
        assert resumes(stack, tab) and resumes(stack, kept)
        # Unticked: the keep token goes, the tab's resume token stays.
        client.run(client.sio.emit("keep_withdraw", {}))
        assert eventually(lambda: not resumes(stack, kept), 10)
        assert resumes(stack, tab)
        # End chat: a new session, and neither token of the old one works again.
        second = client.request_session({"end": True})
        assert second["session_id"] != first["session_id"]
        assert not resumes(stack, tab)
        # End chat pressed offline: the next connect names the ended session with its
        # token; a made-up token ends nothing.
        other = RawClient(servers.rasa_url, stack["web_url"])
        try:
            other.connect()
            third = other.request_session(
                {"end": {"session_id": second["session_id"], "resume_token": "0" * 64}}
            )
            assert third["session_id"] != second["session_id"]
            tab2 = {k: second[k] for k in ("session_id", "resume_token")}
            assert resumes(stack, tab2)
            other.request_session({"end": tab2})
            assert not resumes(stack, tab2)
        finally:
            other.close()
    finally:
        client.close()


def test_another_origin_does_not_see_the_kept_copy(
    stack: Dict[str, Any], browser: Any
) -> None:
    """The kept copy is in the page origin's localStorage: the same server reached as
    another origin (localhost instead of 127.0.0.1) has none of it."""
    page = open_chat(browser, stack["web_url"])
    say(page, "what is ketamine?")
    wait_for_bot(page, FAQ_ANSWER)
    settle(page)
    keep_on(page)
    other = page.context.new_page()
    other.goto(stack["web_url"].replace("127.0.0.1", "localhost") + "/health")
    assert other.evaluate("Object.keys(localStorage).length") == 0
    assert "what is ketamine?" not in all_storage(other)
    page.context.close()


def test_forget_me_clears_this_device_too(stack: Dict[str, Any], browser: Any) -> None:
    """'Forget me' (docs/patient-data.md) deletes the clinic's copy; on its socket.io
    reply (kat_forget_device) the widget deletes its own: the kept copy, the box
    ticked, every earlier message. The session stays (a staff reply can still come)."""
    servers: Servers = stack["servers"]
    page = open_chat(browser, stack["web_url"])
    say(page, "what is ketamine?")
    wait_for_bot(page, FAQ_ANSWER)
    settle(page)
    taken = as_kept(keep_on(page))
    session = session_of(page)
    say(page, "forget me")
    wait_for_bot(page, "delete this chat")
    settle(page)
    page.focus(".kat-reply >> text=Yes, delete it")
    page.keyboard.press("Enter")
    page.locator(".kat-msg-system", has_text="cleared from this device").wait_for()
    settle(page)
    log = page.inner_text(".kat-log")
    assert "this chat and any contact details you gave are deleted" in log
    assert FAQ_ANSWER not in log and "what is ketamine?" not in log
    assert "forget me" not in log
    assert kept_copy(page) is None and not page.is_checked("#kat-keep")
    stored = all_storage(page)
    assert "what is ketamine?" not in stored and FAQ_ANSWER not in stored
    assert session_of(page)["session_id"] == session["session_id"]
    assert "what is ketamine?" not in user_texts(servers, session["session_id"])
    # The server refuses the keep token it had issued (not left to the widget); the
    # tab's own session goes on.
    assert not resumes(stack, taken)
    assert resumes(stack, dict(session))
    # A reload shows only what came after.
    page.reload()
    page.locator(".kat-status:empty").wait_for(state="attached")
    assert FAQ_ANSWER not in page.inner_text(".kat-log")
    assert page.console_errors == []  # type: ignore[attr-defined]
    page.context.close()
