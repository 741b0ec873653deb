"""staff_inbox/app.py: how a staff reply is addressed to the patient's conversation.

The Rasa side is a local receiver (tests/http_receiver.py) standing in for Rasa's HTTP
API: the test reads the exact path and query the inbox requested.

``running_inbox`` (used by the other tests/test_staff_inbox_*.py files too) starts the
real Sanic app on a free port in the test's own event loop — the same server code
``python -m staff_inbox`` runs, so log records land in caplog — and ``staff_client``
logs a user in through the real /api/login as the inbox page does (same Origin, the
CSRF token from the ``kat_csrf`` cookie on every POST).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Optional
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sanic import Sanic

from kat.handoff_store import HandoffStore, Ticket
from staff_inbox.app import RasaClient, create_app
from staff_inbox.auth import StaffAuth, hash_password
from tests.http_receiver import Receiver

PASSWORDS = {"nurse": "nurse-password", "doctor": "doctor-password"}
API_TOKEN = "machine-token-0123456789"


@dataclass
class Inbox:
    url: str
    store: HandoffStore
    rasa: Receiver  # stands in for Rasa's HTTP API: every trigger_intent lands here
    app: Sanic

    def ticket(self, channel: str = "callback") -> Ticket:
        return self.store.open_ticket(
            f"patient-{uuid.uuid4().hex}",
            channel,
            "clinical_question",
            False,
            [{"from": "patient", "text": "is this normal?"}],
        )

    def staff_messages(self, ticket_id: str) -> List[Dict[str, Any]]:
        ticket = self.store.get(ticket_id)
        assert ticket is not None
        return [m for m in ticket.transcript if m.get("from") == "staff"]


@contextlib.asynccontextmanager
async def running_inbox(
    tmp_path: Path, accounts: Optional[Dict[str, Any]] = None, **app_kwargs: Any
) -> AsyncIterator[Inbox]:
    """The inbox on 127.0.0.1:<free port> with users nurse and doctor (or the given
    accounts) and a bearer token; extra keyword arguments go to create_app (a
    throttle with a fake clock…)."""
    Sanic.test_mode = True  # many apps in one process
    store = HandoffStore(f"sqlite:///{tmp_path / f'h-{uuid.uuid4().hex}.db'}")
    auth = StaffAuth(
        store,
        users={name: hash_password(pw) for name, pw in PASSWORDS.items()},
        api_token=API_TOKEN,
        accounts=accounts,
    )
    rasa = Receiver()
    app = create_app(
        store,
        auth,
        RasaClient(rasa.url, "x" * 40),
        name=f"inbox_{uuid.uuid4().hex}",
        **app_kwargs,
    )
    # A socket of our own: Sanic reads port=0 as "8000" (``port or 8000``), which
    # made every inbox of a test run share port 8000 with whatever else used it.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(
        sock=sock, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    port = sock.getsockname()[1]
    try:
        yield Inbox(f"http://127.0.0.1:{port}", store, rasa, app)
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
        rasa.close()


class StaffClient(httpx.AsyncClient):
    """A logged-in browser-like client: POSTs carry the page's Origin and the token."""

    async def post_json(self, path: str, body: Any = None) -> httpx.Response:
        headers = {"Origin": str(self.base_url).rstrip("/")}
        token = self.cookies.get("kat_csrf")
        if token:
            headers["X-CSRF-Token"] = token
        return await self.post(path, json={} if body is None else body, headers=headers)


@contextlib.asynccontextmanager
async def staff_client(
    inbox: Inbox, username: str = "nurse", password: Optional[str] = None
) -> AsyncIterator[StaffClient]:
    async with StaffClient(base_url=inbox.url, timeout=30) as client:
        reply = await client.post_json(
            "/api/login",
            {"username": username, "password": password or PASSWORDS[username]},
        )
        assert reply.status_code == 200, reply.text
        yield client


def trigger_query(post: Dict[str, Any]) -> Dict[str, List[str]]:
    return parse_qs(urlsplit(post["path"]).query)


@pytest.mark.parametrize(
    "conversation_id, path_segment",
    [
        ("web:abc123", "web:abc123"),  # ":" is no separator (the client may unquote it)
        ("x/../victim", "x%2F..%2Fvictim"),
        ("sms:+15550100100", "sms:+15550100100"),  # as it is: Sanic does not unquote
        ("a?b#c", "a%3Fb%23c"),
        ("%2F..%2Fvictim", "%252F..%252Fvictim"),
    ],
)
def test_a_conversation_id_is_one_quoted_path_segment(
    conversation_id: str, path_segment: str
) -> None:
    receiver = Receiver()
    try:
        client = RasaClient(receiver.url, "x" * 40)
        asyncio.run(
            client.trigger(
                conversation_id, "staff_reply", {"staff_message": "hi"}, "callback"
            )
        )
        [post] = receiver.posts
        path = post["path"].split("?", 1)[0]
        assert path == f"/conversations/{path_segment}/trigger_intent"
    finally:
        receiver.close()


def test_the_client_asks_for_the_output_channel_it_is_given() -> None:
    receiver = Receiver()
    try:
        client = RasaClient(receiver.url, "x" * 40)
        asyncio.run(client.trigger("c1", "staff_reply", {}, "telegram"))
        [post] = receiver.posts
        assert trigger_query(post) == {"output_channel": ["telegram"]}
    finally:
        receiver.close()


@pytest.mark.parametrize("channel", ["callback", "twilio", "socketio"])
async def test_a_staff_reply_and_the_hand_back_go_to_the_tickets_channel(
    tmp_path: Path, channel: str
) -> None:
    """Not "latest": the patient's latest input channel may not be where they are
    waiting (a REST probe, a second device); the ticket records the channel."""
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        ticket = inbox.ticket(channel=channel)
        reply = await staff.post_json(
            f"/api/tickets/{ticket.id}/reply", {"text": "Hello from the nurse"}
        )
        assert reply.status_code == 200, reply.text
        resolved = await staff.post_json(f"/api/tickets/{ticket.id}/resolve")
        assert resolved.json() == {"ok": True, "patient_told": True}
    sent, handed_back = inbox.rasa.posts
    assert trigger_query(sent) == {"output_channel": [channel]}
    assert trigger_query(handed_back) == {"output_channel": [channel]}


async def test_a_clients_suspected_floods_are_one_item_and_real_tickets_stay_apart(
    tmp_path: Path,
) -> None:
    """Issue 15: a flood of urgent tickets sorted first and could bury a real crisis.
    The tickets are kept (listed one by one with ?floods=open), but the list shows
    them as one item per client."""
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        real = inbox.store.open_ticket("web:real", "socketio", "crisis", True, [])
        for n in range(30):
            inbox.store.open_ticket(
                f"rest:bot-{n}",
                "rest",
                "crisis",
                True,
                [],
                client_key="abcdef0123456789",
                suspected_flood=n >= 3,
            )
        listed = (await staff.get("/api/tickets")).json()
        everything = (await staff.get("/api/tickets?floods=open")).json()
    assert real.id in [t["id"] for t in listed["tickets"]]
    assert len(listed["tickets"]) == 1 + 3
    [flood] = listed["floods"]
    assert flood["tickets"] == 27 and flood["urgent"] == 27
    assert flood["client_key"] == "abcdef0123456789" and flood["channels"] == ["rest"]
    assert len(everything["tickets"]) == 31


def test_each_call_to_rasa_carries_a_fresh_short_lived_token_in_its_header() -> None:
    import time

    import jwt

    secret = "j" * 40
    receiver = Receiver()
    failing = Receiver(fail_first=1)
    try:
        client = RasaClient(receiver.url, secret)
        asyncio.run(client.trigger("sms:+1", "staff_reply", {"staff_message": "hi"}, "x"))
        [post] = receiver.posts
        scheme, token = post["headers"]["Authorization"].split(" ", 1)
        claims = jwt.decode(token, secret, algorithms=["HS256"])
        assert scheme == "Bearer" and claims["user"]["username"] == "staff-inbox"
        assert claims["exp"] - time.time() <= 300
        assert token not in post["path"] and "token" not in post["path"]
        assert json.loads(post["body"]) == {
            "name": "staff_reply",
            "entities": {"staff_message": "hi"},
        }
        # Rasa refusing is an error the inbox reports, never a silent success.
        with pytest.raises(RuntimeError, match="503"):
            asyncio.run(RasaClient(failing.url, secret).trigger("c", "i", {}, "x"))
    finally:
        receiver.close()
        failing.close()


@pytest.mark.parametrize("secure", [False, True])
async def test_the_login_cookies_are_secure_only_when_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secure: bool
) -> None:
    """KAT_INBOX_SECURE_COOKIE=true behind HTTPS; off by default (the inbox on
    127.0.0.1 over plain HTTP would otherwise never get its cookie back)."""
    if secure:
        monkeypatch.setenv("KAT_INBOX_SECURE_COOKIE", "true")
    else:
        monkeypatch.delenv("KAT_INBOX_SECURE_COOKIE", raising=False)
    async with running_inbox(tmp_path) as inbox, httpx.AsyncClient() as client:
        reply = await client.post(
            f"{inbox.url}/api/login",
            json={"username": "nurse", "password": PASSWORDS["nurse"]},
            headers={"Origin": inbox.url},
        )
    assert reply.status_code == 200
    cookies = {
        c.split("=", 1)[0]: c.lower() for c in reply.headers.get_list("set-cookie")
    }
    assert set(cookies) == {"kat_staff", "kat_csrf"}
    for name, cookie in cookies.items():
        assert "samesite=strict" in cookie and "path=/" in cookie
        assert ("; secure" in cookie) is secure, cookie
        assert ("httponly" in cookie) is (name == "kat_staff")  # the page reads csrf


async def test_every_answer_carries_the_security_headers(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, httpx.AsyncClient() as client:
        answers = [
            await client.get(f"{inbox.url}{path}")
            for path in ("/", "/health", "/api/tickets", "/static/nothing.js")
        ]
    assert [a.status_code for a in answers] == [200, 200, 401, 404]
    for answer in answers:
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        assert answer.headers["Cache-Control"] == "no-store"


async def test_tickets_need_a_login_and_resolved_ones_are_listed_only_on_request(
    tmp_path: Path,
) -> None:
    async with running_inbox(tmp_path) as inbox:
        open_ticket, done = inbox.ticket(), inbox.ticket()
        inbox.store.set_status(done.id, "resolved")
        async with httpx.AsyncClient(base_url=inbox.url) as anonymous:
            for path in ("/api/tickets", f"/api/tickets/{open_ticket.id}"):
                refused = await anonymous.get(path)
                assert refused.status_code == 401
                assert "is this normal" not in refused.text
        async with staff_client(inbox) as staff:
            listed = (await staff.get("/api/tickets")).json()["tickets"]
            resolved = (await staff.get("/api/tickets?status=resolved")).json()
            missing = await staff.get(f"/api/tickets/{uuid.uuid4().hex}")
    assert [t["id"] for t in listed] == [open_ticket.id]
    assert [t["id"] for t in resolved["tickets"]] == [done.id]
    assert missing.status_code == 404


async def test_the_server_retries_failed_notifications_while_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's own listener starts the retry loop (kat.notify.retry_failed) with
    the server and stops it with the server. The staff alert webhook is a local
    receiver."""
    webhook = Receiver()
    monkeypatch.setenv("KAT_NOTIFY_URL", webhook.url)
    monkeypatch.setenv("KAT_NOTIFY_RETRY_SECONDS", "0.05")
    try:
        async with running_inbox(tmp_path) as inbox:
            ticket = inbox.ticket()
            inbox.store.set_notification(ticket.id, "failed", "ConnectionError")
            for _ in range(200):
                if webhook.posts:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)  # the retry records its outcome
        after = inbox.store.get(ticket.id)
        assert after is not None and after.notification is not None
        assert after.notification["status"] == "delivered"
        assert json.loads(webhook.posts[0]["body"])["ticket_id"] == ticket.id
        # Stopped with the server: a failure recorded now is not retried.
        inbox.store.set_notification(ticket.id, "failed", "HTTP 503")
        sent = len(webhook.posts)
        await asyncio.sleep(0.3)
        assert len(webhook.posts) == sent
    finally:
        webhook.close()
