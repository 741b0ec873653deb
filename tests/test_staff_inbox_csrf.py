"""Cross-site request forgery against the staff inbox is refused (staff_inbox/csrf.py).

In Chromium a page on another port of the same host forged staff replies that reached
the patient: the session cookie is SameSite=Strict, but ports do not make another site,
and text/plain bodies were parsed as JSON. Each refusal here is checked against the real
app (tests/test_staff_inbox_app.py running_inbox): the reply gets the refusal status,
the ticket gets no staff message and nothing reaches Rasa (the patient).
tests/e2e/test_staff_inbox_e2e.py does the same attack from a real page in Chromium.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import httpx
import pytest

from tests.test_staff_inbox_app import (
    API_TOKEN,
    PASSWORDS,
    Inbox,
    StaffClient,
    running_inbox,
    staff_client,
)


def _headers(inbox: Inbox, staff: StaffClient, **extra: str) -> Dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "Origin": inbox.url,
        "X-CSRF-Token": staff.cookies.get("kat_csrf") or "",
    }
    headers.update(extra)
    return {key: value for key, value in headers.items() if value != "-"}


async def _forged_reply(
    inbox: Inbox, staff: httpx.AsyncClient, headers: Dict[str, str]
) -> httpx.Response:
    ticket = inbox.ticket()
    reply = await staff.post(
        f"/api/tickets/{ticket.id}/reply",
        content=b'{"text": "forged reply"}',
        headers=headers,
    )
    assert inbox.staff_messages(ticket.id) == [], reply.text
    assert inbox.rasa.posts == []
    return reply


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "-",  # none at all
        "application/jsonp",
    ],
)
async def test_a_post_that_is_not_application_json_gets_415(
    tmp_path: Path, content_type: str
) -> None:
    """Only these content types can be sent cross-origin without a CORS preflight (an
    HTML form or a "simple" fetch): refusing them refuses forms outright."""
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        reply = await _forged_reply(
            inbox, staff, _headers(inbox, staff, **{"Content-Type": content_type})
        )
        assert reply.status_code == 415
        assert "application/json" in reply.json()["error"]
        login = await staff.post(
            "/api/login",
            content=b'{"username": "nurse", "password": "nurse-password"}',
            headers=_headers(inbox, staff, **{"Content-Type": content_type}),
        )
        assert login.status_code == 415


async def test_json_with_a_charset_is_still_json(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        ticket = inbox.ticket()
        reply = await staff.post(
            f"/api/tickets/{ticket.id}/reply",
            content=b'{"text": "hello"}',
            headers=_headers(
                inbox, staff, **{"Content-Type": "Application/JSON; charset=utf-8"}
            ),
        )
        assert reply.status_code == 200, reply.text


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:1",  # another port of the same host: the reported attack
        "https://127.0.0.1:{port}",  # another scheme
        "http://localhost:{port}",  # another host name
        "http://127.0.0.1.evil.example:{port}",
        "null",  # sandboxed frames, some redirects, data: URLs
        "",
    ],
)
async def test_a_post_from_another_origin_gets_403(tmp_path: Path, origin: str) -> None:
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        port = inbox.url.rsplit(":", 1)[1]
        reply = await _forged_reply(
            inbox, staff, _headers(inbox, staff, Origin=origin.format(port=port))
        )
        assert reply.status_code == 403
        assert "origin" in reply.json()["error"]


async def test_the_referer_is_checked_when_there_is_no_origin(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        reply = await _forged_reply(
            inbox,
            staff,
            _headers(inbox, staff, Origin="-", Referer="http://127.0.0.1:1/attack.html"),
        )
        assert reply.status_code == 403
        ticket = inbox.ticket()
        same = await staff.post(
            f"/api/tickets/{ticket.id}/reply",
            json={"text": "hello"},
            headers=_headers(inbox, staff, Origin="-", Referer=f"{inbox.url}/"),
        )
        assert same.status_code == 200, same.text


async def test_a_configured_public_origin_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a TLS proxy the Host the app sees is not the address staff type."""
    monkeypatch.setenv(
        "KAT_INBOX_ORIGIN", "https://inbox.clinic.example, https://other.example:8443"
    )
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        for origin in ("https://inbox.clinic.example", "https://other.example:8443"):
            ticket = inbox.ticket()
            reply = await staff.post(
                f"/api/tickets/{ticket.id}/reply",
                json={"text": "hello"},
                headers=_headers(inbox, staff, Origin=origin),
            )
            assert reply.status_code == 200, (origin, reply.text)
        refused = await staff.post(
            f"/api/tickets/{ticket.id}/reply",
            json={"text": "hello"},
            headers=_headers(inbox, staff, Origin="https://evil.example"),
        )
        assert refused.status_code == 403


def test_a_malformed_configured_origin_stops_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from staff_inbox.csrf import configured_origins

    monkeypatch.setenv("KAT_INBOX_ORIGIN", "inbox.clinic.example")
    with pytest.raises(ValueError, match="KAT_INBOX_ORIGIN"):
        configured_origins()


@pytest.mark.parametrize("token", ["-", "", "wrong", "cookie-but-not-session"])
async def test_a_cookie_session_post_without_the_csrf_token_gets_403(
    tmp_path: Path, token: str
) -> None:
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        if token == "cookie-but-not-session":
            # Another port of the same host can write cookies for this host too: a
            # token the attacker chose, in both the cookie and the header, is no good.
            staff.cookies.delete("kat_csrf")
            staff.cookies.set("kat_csrf", "attacker-chosen", domain="127.0.0.1")
            token = "attacker-chosen"
        reply = await _forged_reply(
            inbox, staff, _headers(inbox, staff, **{"X-CSRF-Token": token})
        )
        assert reply.status_code == 403
        assert "CSRF" in reply.json()["error"]
        for path in ("/api/logout", f"/api/tickets/{inbox.ticket().id}/claim"):
            refused = await staff.post(
                path, json={}, headers=_headers(inbox, staff, **{"X-CSRF-Token": token})
            )
            assert refused.status_code == 403, path
        assert (await staff.get("/api/me")).json()["user"] == "nurse"  # not logged out


async def test_the_login_sets_a_readable_csrf_cookie_and_logout_clears_it(
    tmp_path: Path,
) -> None:
    async with running_inbox(tmp_path) as inbox:
        async with httpx.AsyncClient(base_url=inbox.url) as client:
            login = await client.post(
                "/api/login",
                json={"username": "nurse", "password": PASSWORDS["nurse"]},
                headers={"Origin": inbox.url},
            )
            cookies = {
                value.split("=", 1)[0]: value.lower()
                for value in login.headers.get_list("set-cookie")
            }
            assert "httponly" in cookies["kat_staff"]
            assert "httponly" not in cookies["kat_csrf"]  # the page's script reads it
            assert "samesite=strict" in cookies["kat_csrf"]
            token = client.cookies["kat_csrf"]
            assert len(token) >= 32 and token != client.cookies["kat_staff"]
            logout = await client.post(
                "/api/logout",
                json={},
                headers={"Origin": inbox.url, "X-CSRF-Token": token},
            )
            assert logout.status_code == 200
            assert "kat_csrf" not in client.cookies
            assert "kat_staff" not in client.cookies


async def test_a_session_without_the_csrf_cookie_gets_it_back_from_api_me(
    tmp_path: Path,
) -> None:
    """A session from before the token existed (or a cleared cookie) is not stuck: the
    page asks /api/me first, which sets the token again."""
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        token = staff.cookies["kat_csrf"]
        staff.cookies.delete("kat_csrf")
        assert (await staff.get("/api/me")).status_code == 200
        assert staff.cookies["kat_csrf"] == token


async def test_bearer_callers_need_no_csrf_token_or_origin(tmp_path: Path) -> None:
    """A browser never adds an Authorization header by itself, so a bearer token
    cannot be forged cross-site; the helpdesk bridge is no browser and sends no
    Origin. It still sends JSON."""
    async with running_inbox(tmp_path) as inbox:
        ticket = inbox.ticket()
        async with httpx.AsyncClient(base_url=inbox.url) as bridge:
            bearer = {"Authorization": f"Bearer {API_TOKEN}"}
            reply = await bridge.post(
                f"/api/tickets/{ticket.id}/reply", json={"text": "hello"}, headers=bearer
            )
            assert reply.status_code == 200, reply.text
            plain = await bridge.post(
                f"/api/tickets/{ticket.id}/reply",
                content=b'{"text": "hello"}',
                headers={**bearer, "Content-Type": "text/plain"},
            )
            assert plain.status_code == 415
            elsewhere = await bridge.post(
                f"/api/tickets/{ticket.id}/reply",
                json={"text": "hello"},
                headers={**bearer, "Origin": "http://127.0.0.1:1"},
            )
            assert elsewhere.status_code == 403
        assert len(inbox.staff_messages(ticket.id)) == 1


async def test_the_inbox_pages_own_requests_pass(tmp_path: Path) -> None:
    """Same origin, JSON, the token from the cookie: claim, reply, resolve, logout."""
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        ticket = inbox.ticket()
        for path, body in [
            (f"/api/tickets/{ticket.id}/claim", {}),
            (f"/api/tickets/{ticket.id}/reply", {"text": "hello"}),
            (f"/api/tickets/{ticket.id}/resolve", {}),
            ("/api/logout", {}),
        ]:
            reply = await staff.post_json(path, body)
            assert reply.status_code == 200, (path, reply.text)
        assert len(inbox.staff_messages(ticket.id)) == 1
