"""A staff reply that did not reach the patient shows as not delivered, with why.

Real servers: Rasa (with the Twilio and web chat channels), the action server and the
staff inbox. What is faked: only Twilio's API, a local receiver (TWILIO_API_BASE) that
accepts messages until the test makes it answer as Twilio does when it refuses one:
HTTP 400 with error 63016 (a WhatsApp reply outside the 24-hour window) or 21610 (an
SMS to a recipient who has opted out). The web chat is a real socket.io client, closed
before the reply.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Set, Tuple

import pytest
import requests
from twilio.request_validator import RequestValidator

from kat import delivery
from staff_inbox.auth import hash_password
from tests.e2e.harness import RawClient, Servers, eventually
from tests.e2e.test_twilio_channel import ACCOUNT, TOKEN, form, webhook_url
from tests.http_receiver import Receiver

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
ORIGIN = "http://127.0.0.1:8080"
TWILIO_ERRORS = {
    "whatsapp": (63016, "Failed to send freeform message outside the allowed window."),
    "sms": (21610, "Attempt to send to unsubscribed recipient"),
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    workdir = Path(tmp_path_factory.mktemp("delivery"))
    refusing: Set[str] = set()  # recipients Twilio refuses from now on

    def twilio(post: Dict[str, Any]) -> Optional[Tuple[int, Any]]:
        to = urllib.parse.parse_qs(post["body"].decode()).get("To", [""])[0]
        if to not in refusing:
            return None
        code, message = TWILIO_ERRORS["whatsapp" if to.startswith("whatsapp:") else "sms"]
        return 400, {"code": code, "message": message, "status": 400}

    api = Receiver(
        reply_json={"sid": "SM" + "1" * 32, "status": "queued"}, respond=twilio
    )
    credentials = workdir / "credentials.yml"
    credentials.write_text(
        "channels.rest.RestInput:\n"
        "channels.twilio.TwilioInput:\n"
        f'  account_sid: "{ACCOUNT}"\n'
        f'  auth_token: "{TOKEN}"\n'
        '  twilio_number: "+15550000000"\n'
        "channels.socketio.SocketIOInput:\n"
        "  user_message_evt: user_uttered\n"
        "  bot_message_evt: bot_uttered\n"
        "  session_persistence: true\n"
        '  session_secret: "e2e-delivery-web-session-secret-0123456789"\n'
        f'  cors_allowed_origins: "{ORIGIN}"\n'
    )
    servers = Servers(
        workdir=workdir,
        credentials=str(credentials),
        extra_env={
            "TWILIO_API_BASE": api.url,
            "KAT_STAFF_USERS": f"nurse:{hash_password(PASSWORD)}",
            "KAT_STAFF_API_TOKEN": "",
        },
    )
    try:
        servers.start()
        servers.start_inbox()
        yield {"servers": servers, "api": api, "refusing": refusing}
    finally:
        servers.stop_all()
        api.close()


def staff(servers: Servers) -> requests.Session:
    return servers.inbox_session("nurse", PASSWORD)


def ticket_of(servers: Servers, conversation: str) -> Dict[str, Any]:
    inbox = staff(servers)
    listed = inbox.get(f"{servers.inbox_url}/api/tickets", timeout=10).json()
    [ticket] = [t for t in listed["tickets"] if t["conversation_id"] == conversation]
    return dict(
        inbox.get(f"{servers.inbox_url}/api/tickets/{ticket['id']}", timeout=10).json()
    )


def reply(servers: Servers, ticket_id: str, text: str) -> requests.Response:
    return staff(servers).post(
        f"{servers.inbox_url}/api/tickets/{ticket_id}/reply",
        json={"text": text},
        timeout=60,
    )


def text_in(servers: Servers, phone: str, body: str) -> None:
    params = {**form(phone, body)}
    if phone.startswith("whatsapp:"):
        params["To"] = "whatsapp:+15550000000"
    url = webhook_url(servers)
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    answer = requests.post(
        url, data=params, headers={"X-Twilio-Signature": signature}, timeout=60
    )
    assert answer.status_code == 204


def staff_lines(ticket: Dict[str, Any]) -> list:
    return [
        (m["text"], m.get("delivered"), m.get("why"))
        for m in ticket["transcript"]
        if m["from"] == "staff"
    ]


@pytest.mark.parametrize(
    "phone, why",
    [("whatsapp:+15551110001", "whatsapp_window"), ("+15551110002", "provider_error")],
)
def test_a_reply_twilio_refuses_shows_as_not_delivered_with_why(
    stack: Dict[str, Any], phone: str, why: str
) -> None:
    servers: Servers = stack["servers"]
    conversation = servers.conversation(phone, "twilio")
    text_in(servers, phone, "can i talk to a person please")
    text_in(servers, phone, "no")
    ticket = ticket_of(servers, conversation)
    assert reply(servers, ticket["id"], "Hi, this is the clinic").status_code == 200

    stack["refusing"].add(phone)  # e.g. a day later: the window has closed
    failed = reply(servers, ticket["id"], "Are you still there?")
    assert failed.status_code == 502
    assert failed.json()["delivered"] is False and failed.json()["why"] == why
    assert failed.json()["error"] == delivery.explain(why)
    assert staff_lines(ticket_of(servers, conversation)) == [
        ("Hi, this is the clinic", True, None),
        ("Are you still there?", False, why),
    ]


def test_a_reply_to_a_closed_web_chat_shows_as_not_delivered(
    stack: Dict[str, Any],
) -> None:
    servers: Servers = stack["servers"]
    chat = RawClient(servers.rasa_url, ORIGIN)
    chat.connect()
    session = chat.request_session({})["session_id"]
    conversation = servers.conversation(session, "socketio")
    chat.run(chat.sio.emit("user_uttered", {"message": "can i talk to a person please"}))
    assert eventually(
        lambda: any("contact you" in m.get("text", "") for m in chat.received)
    )
    ticket = ticket_of(servers, conversation)

    assert reply(servers, ticket["id"], "Hello from the clinic").status_code == 200
    assert eventually(
        lambda: any("Hello from the clinic" in m.get("text", "") for m in chat.received)
    )
    chat.close()  # the patient closed the tab
    failed = reply(servers, ticket["id"], "Shall we call you?")
    assert failed.status_code == 502 and failed.json()["why"] == "web_chat_closed"
    assert staff_lines(ticket_of(servers, conversation))[-2:] == [
        ("Hello from the clinic", True, None),
        ("Shall we call you?", False, "web_chat_closed"),
    ]
