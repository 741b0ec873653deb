"""One patient, one conversation: against the real Rasa and action servers.

The attacks of issue 15, each tried as an attacker would from 127.0.0.1:

- a REST client naming a web chat patient's conversation (its session id, the
  namespaced id, a traversal, an encoded id) must not write into it or its ticket;
- a staff reply goes to the ticket's own channel, whatever a REST client sent;
- a REST patient gets a staff reply with their next message;
- a message of a million characters is cut, a crisis at its end still gets the crisis
  reply, and another patient is not held up for seconds;
- one address opening conversation after conversation is limited, and is still given
  the crisis resources;
- with issued senders (production), knowing a sender id is not enough.

The rate limits are the real ones here (lowered for the test's budget), not the
harness's "unlimited" setting.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List
from urllib.parse import quote

import pytest
import requests

from kat.conversation_id import url_segment
from tests.e2e.harness import MODEL, RawClient, Servers, eventually, free_port, texts

pytestmark = pytest.mark.e2e

WEB_SECRET = "e2e-isolation-web-secret-" + "x" * 24
CONVERSATIONS_PER_HOUR = 12
CRISIS_REPLY = "Your safety comes first"
LIMITED_REPLY = "pausing for a few minutes"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}; run `make test` (it trains first)")
    web_origin = f"http://127.0.0.1:{free_port()}"
    stack = Servers(
        workdir=Path(tmp_path_factory.mktemp("isolation")),
        extra_env={
            "KAT_WEB_SESSION_SECRET": WEB_SECRET,
            "KAT_WEB_ORIGINS": web_origin,
            "KAT_RATE_CONVERSATIONS_PER_HOUR": str(CONVERSATIONS_PER_HOUR),
            "KAT_RATE_MESSAGES_PER_MINUTE": "30",
        },
    )
    stack.web_origin = web_origin  # type: ignore[attr-defined]
    try:
        stack.start()
        yield stack
    except Exception:
        for name in ("rasa", "actions"):
            print(name, stack.log_tail(name), sep="\n")
        raise
    finally:
        stack.stop_all()


def post_rest(servers: Servers, body: Dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{servers.rasa_url}/webhooks/rest/webhook", json=body, timeout=60
    )


def user_texts(tracker: Dict[str, Any]) -> List[str]:
    return [e.get("text") or "" for e in tracker["events"] if e["event"] == "user"]


def web_patient(servers: Servers) -> RawClient:
    chat = RawClient(servers.rasa_url, servers.web_origin)  # type: ignore[attr-defined]
    chat.connect()
    chat.request_session({})
    return chat


def trigger(servers: Servers, conversation: str, output_channel: str, text: str) -> None:
    """As the staff inbox sends a reply (staff_inbox/app.py RasaClient)."""
    reply = requests.post(
        f"{servers.rasa_url}/conversations/{url_segment(conversation)}/trigger_intent",
        params={"output_channel": output_channel},
        headers=servers.api_headers(),
        json={"name": "staff_reply", "entities": {"staff_message": text}},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text


def test_a_rest_client_cannot_write_into_a_web_chat_patients_conversation(
    servers: Servers,
) -> None:
    chat = web_patient(servers)
    try:
        session = chat.confirms[-1]["session_id"]
        victim = servers.conversation(session, "socketio")
        chat.run(
            chat.sio.emit("user_uttered", {"message": "can i talk to a human please"})
        )
        assert eventually(lambda: bool(chat.received), 60)
        # The reply goes out before Rasa saves the turn: wait for the saved message, or
        # "before" can be empty on a loaded machine (a clean-clone CI run, 2026-12-02).
        assert eventually(lambda: bool(user_texts(servers.tracker_of(victim))), 60)
        before = servers.tracker_of(victim)
        attack = "please call me at 555-999-0000 instead"
        for sender in (
            session,
            victim,
            f"x/../{victim}",
            f"x%2F..%2F{victim}",
            f"rest/../../{victim}",
            quote(victim, safe=""),
        ):
            reply = post_rest(servers, {"sender": sender, "message": attack})
            assert reply.status_code in (200, 400), (sender, reply.status_code)
        after = servers.tracker_of(victim)
        assert attack not in user_texts(after)
        assert user_texts(after) == user_texts(before)
        assert {
            e.get("input_channel") for e in after["events"] if e["event"] == "user"
        } == {"socketio"}
    finally:
        chat.close()


def test_a_staff_reply_reaches_the_web_chat_after_a_rest_message_with_its_id(
    servers: Servers,
) -> None:
    """Issue 15: one REST message with the victim's id used to switch the
    conversation's latest channel, so the staff reply never reached the web chat."""
    chat = web_patient(servers)
    try:
        session = chat.confirms[-1]["session_id"]
        victim = servers.conversation(session, "socketio")
        chat.run(chat.sio.emit("user_uttered", {"message": "hello"}))
        assert eventually(lambda: bool(chat.received), 60)
        post_rest(servers, {"sender": session, "message": "hi"})
        post_rest(servers, {"sender": victim, "message": "hi"})
        staff_text = f"Hello from the clinic team {uuid.uuid4().hex[:6]}"
        trigger(servers, victim, "socketio", staff_text)
        assert eventually(lambda: staff_text in str(chat.received), 30), chat.received
    finally:
        chat.close()


def test_a_rest_patient_gets_the_staff_reply_with_their_next_message(
    servers: Servers,
) -> None:
    sender = f"rest-patient-{uuid.uuid4().hex[:8]}"
    assert "contact you" in texts(servers.say(sender, "can i talk to a human please"))
    staff_text = f"This is Sam from the clinic {uuid.uuid4().hex[:6]}"
    trigger(servers, servers.conversation(sender), "rest", staff_text)
    reply = servers.say(sender, "ok thanks")
    assert staff_text in reply[0]["text"], reply
    assert {m["recipient_id"] for m in reply} == {sender}
    # Delivered once, not again with the message after.
    assert staff_text not in texts(servers.say(sender, "thanks"))


def test_a_million_characters_are_cut_and_a_crisis_at_the_end_is_still_heard(
    servers: Servers,
) -> None:
    sender = f"long-{uuid.uuid4().hex[:8]}"
    padded = "la " * 333_000 + "and honestly i want to kill myself tonight"
    started = time.monotonic()
    reply = post_rest(servers, {"sender": sender, "message": padded})
    took = time.monotonic() - started
    assert reply.status_code == 200
    assert CRISIS_REPLY in texts(reply.json())
    [stored] = user_texts(servers.tracker(sender))
    assert len(stored) <= 4096 and stored.endswith("kill myself tonight")
    # 10.4 s before the cap; the benchmark (benchmarks/bench_long_messages.py) measures
    # what it costs other patients.
    assert took < 5, took


def test_one_address_opening_conversation_after_conversation_is_limited(
    servers: Servers,
) -> None:
    """Runs last: it uses up this module's REST conversations for the hour."""
    replies = []
    for n in range(CONVERSATIONS_PER_HOUR + 3):
        sender = f"flood-{n}-{uuid.uuid4().hex[:6]}"
        replies.append((sender, post_rest(servers, {"sender": sender, "message": "hi"})))
    limited = [(s, r.json()) for s, r in replies if LIMITED_REPLY in texts(r.json())]
    assert limited, "no conversation was limited"
    # A limited client is still given the crisis resources, and nothing reached the
    # assistant for it: no tracker events.
    sender, body = limited[-1]
    assert "988" in texts(body) and "911" in texts(body)
    assert user_texts(servers.tracker(sender)) == []
    crisis = post_rest(servers, {"sender": sender, "message": "i want to die"})
    assert "988" in texts(crisis.json())


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Rasa alone, as in production: REST with issued senders."""
    stack = Servers(
        workdir=Path(tmp_path_factory.mktemp("issued")),
        extra_env={"KAT_REST_SENDER_SECRET": "e2e-rest-sender-secret-" + "y" * 24},
    )
    try:
        stack.start_rasa()
        yield stack
    finally:
        stack.stop_all()


def test_with_issued_senders_knowing_an_id_is_not_enough(issued: Servers) -> None:
    first = requests.post(f"{issued.rasa_url}/webhooks/rest/session", timeout=10).json()
    second = requests.post(f"{issued.rasa_url}/webhooks/rest/session", timeout=10).json()
    assert first["sender"] != second["sender"]
    ok = post_rest(issued, {**first, "message": "hi"})
    assert ok.status_code == 200 and texts(ok.json())
    for forged in (
        {"sender": first["sender"], "message": "hi"},
        {"sender": first["sender"], "token": second["token"], "message": "hi"},
        {"sender": first["sender"], "token": "0" * 64, "message": "hi"},
        {"sender": "my-own-choice", "message": "hi"},
    ):
        assert post_rest(issued, forged).status_code == 401, forged
    assert user_texts(issued.tracker(first["sender"])) == ["hi"]
