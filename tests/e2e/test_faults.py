"""Faults in the embedded (default) profile, end to end with real processes.

One set of servers for the module — action server, Rasa (SQLite tracker), staff inbox —
whose staff-notification receiver is down at first. The tests run in file order and each
leaves every server running again:

* the action server stops: FAQ and crisis still answer, the custom-action paths tell the
  patient to contact the team; started again on the same port, hand-off works again;
* the notification receiver is down when a ticket opens: the ticket is kept, the
  notification marked failed, and the inbox's retry loop delivers it once the receiver
  is up;
* Rasa restarts mid-conversation: the consent form, slots and ticket carry on from the
  SQLite tracker.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest

from kat.event_privacy import MASK
from kat.handoff_store import HandoffStore, Ticket
from kat.notify import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from staff_inbox.auth import hash_password
from tests.e2e.harness import MODEL, Servers, free_port, texts
from tests.http_receiver import Receiver

pytestmark = pytest.mark.e2e

SECRET = "e2e-faults-webhook-secret"
CLINICAL = "i've been dizzy since my session yesterday, is that normal?"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}; run `make train`")
    workdir = Path(tmp_path_factory.mktemp("faults"))
    hook_port = free_port()  # nothing listens here until the receiver test starts one
    servers = Servers(
        workdir=workdir,
        extra_env={
            "KAT_NOTIFY_URL": f"http://127.0.0.1:{hook_port}/",
            "KAT_NOTIFY_SECRET": SECRET,
            "KAT_NOTIFY_RETRY_SECONDS": "2",
            "KAT_STAFF_USERS": f"nurse:{hash_password('e2e faults password')}",
        },
    )
    store = HandoffStore(servers.env()["KAT_HANDOFF_DB_URL"])
    try:
        servers.start()
        servers.start_inbox()
        yield {"servers": servers, "store": store, "hook_port": hook_port}
    except Exception:
        print(servers.log_tail("actions"), servers.log_tail("rasa"), sep="\n---\n")
        raise
    finally:
        servers.stop_all()
        store.engine.dispose()


def wait_for_ticket(
    store: HandoffStore, sender: str, timeout: float = 10
) -> Optional[Ticket]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ticket = store.open_ticket_for(Servers.conversation(sender))
        if ticket is not None:
            return ticket
        time.sleep(0.2)
    return None


def test_action_server_down_then_back(setup: Dict[str, Any]) -> None:
    servers: Servers = setup["servers"]
    store: HandoffStore = setup["store"]
    servers.stop("actions")
    try:
        # Domain responses need no action server: FAQ and crisis answer as always.
        faq = f"down-{uuid.uuid4().hex}"
        servers.say(faq, "what are the side effects")
        assert servers.bot_actions_after_last_user(faq) == ["utter_faq/side_effects"]

        crisis = f"down-{uuid.uuid4().hex}"
        reply = texts(servers.say(crisis, "i want to kill myself"))
        actions = servers.bot_actions_after_last_user(crisis)
        assert actions[0] == "utter_crisis_help"
        assert "988" in reply and "911" in reply
        assert "utter_handoff_unavailable" in actions

        # The custom-action paths: the patient is told to contact the team directly,
        # and no ticket pretends to exist.
        clinical = f"down-{uuid.uuid4().hex}"
        reply = texts(servers.say(clinical, CLINICAL))
        assert "utter_handoff_unavailable" in servers.bot_actions_after_last_user(
            clinical
        )
        assert "contact the team directly" in reply
        assert store.open_ticket_for(servers.conversation(clinical)) is None

        contra = f"down-{uuid.uuid4().hex}"
        reply = texts(servers.say(contra, "i'm on lexapro, is ketamine ok for me?"))
        actions = servers.bot_actions_after_last_user(contra)
        assert "utter_handoff_unavailable" in actions, actions
        assert "contact the team directly" in reply
    finally:
        servers.start_actions()  # same port: Rasa's endpoint needs no change

    # Back: the same kind of message now opens a ticket.
    again = f"back-{uuid.uuid4().hex}"
    reply = texts(servers.say(again, CLINICAL))
    assert "clinician will follow up" in reply
    ticket = wait_for_ticket(store, again)
    assert ticket is not None and ticket.reason == "clinical_question"
    assert servers.tracker(again)["slots"]["handoff_ticket_id"] == ticket.id
    # The conversation that met the outage is served normally too.
    servers.say(clinical, "what is ketamine")
    assert servers.bot_actions_after_last_user(clinical) == ["utter_faq/what_is_ketamine"]


def test_notification_receiver_down_then_up(setup: Dict[str, Any]) -> None:
    servers: Servers = setup["servers"]
    store: HandoffStore = setup["store"]
    sender = f"notify-{uuid.uuid4().hex}"
    assert "clinician will follow up" in texts(servers.say(sender, CLINICAL))
    ticket = wait_for_ticket(store, sender)
    assert ticket is not None

    # Receiver down: four attempts with backoff (~11 s), then "failed" on the ticket.
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        current = store.get(ticket.id)
        if current and (current.notification or {}).get("status") == "failed":
            break
        time.sleep(0.5)
    current = store.get(ticket.id)
    assert current is not None and current.notification is not None
    assert current.notification["status"] == "failed"
    assert current.notification["error"]
    assert current.status == "open"  # the ticket itself is kept

    hook = Receiver(port=setup["hook_port"])
    try:
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            current = store.get(ticket.id)
            if current and (current.notification or {}).get("status") == "delivered":
                break
            time.sleep(0.5)
        current = store.get(ticket.id)
        assert current is not None and current.notification is not None
        assert current.notification["status"] == "delivered", current.notification
        assert current.status == "open"
        mine = [p for p in hook.posts if json.loads(p["body"])["ticket_id"] == ticket.id]
        assert mine, "the receiver never got this ticket's notification"
        post = mine[-1]
        assert verify(
            SECRET,
            post["headers"][TIMESTAMP_HEADER],
            post["body"],
            post["headers"][SIGNATURE_HEADER],
        )
        assert b"dizzy" not in post["body"]
    finally:
        hook.close()


def test_rasa_restart_keeps_the_conversation(setup: Dict[str, Any]) -> None:
    servers: Servers = setup["servers"]
    store: HandoffStore = setup["store"]
    sender = f"restart-{uuid.uuid4().hex}"
    assert "Would you like the team to contact you" in texts(
        servers.say(sender, "can i talk to a human please")
    )
    assert "What name should the team use" in texts(servers.say(sender, "yes"))
    before = servers.tracker(sender)
    ticket_id = before["slots"]["handoff_ticket_id"]
    assert ticket_id and before["slots"]["handoff_active"] is True

    servers.stop("rasa")
    servers.start_rasa()  # same port, same SQLite tracker file

    # The consent form continues where it stopped.
    assert "phone number or e-mail" in texts(servers.say(sender, "Sam Lee"))
    assert "the team will use those details only" in texts(
        servers.say(sender, "sam.lee@example.com")
    )
    after = servers.tracker(sender)
    # The contact form's answers live on the ticket only (kat/event_privacy.py).
    assert [e["text"] for e in after["events"] if e["event"] == "user"] == [
        "can i talk to a human please",
        "yes",
        MASK,
        MASK,
    ]
    assert after["slots"]["handoff_ticket_id"] == ticket_id
    assert after["slots"]["handoff_active"] is True
    ticket = store.get(ticket_id)
    assert ticket is not None and ticket.status == "open"
    assert ticket.contact == {"name": "Sam Lee", "email": "sam.lee@example.com"}
