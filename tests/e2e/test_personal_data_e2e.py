"""The contact form's answers are on the ticket only (embedded profile, SQLite).

The real servers; the conversation read back three ways once the form is over: Rasa's
tracker API (what the staff inbox reads), the tracker store's SQLite file itself, and
the hand-off ticket. PostgreSQL and RabbitMQ: tests/e2e/test_faults_production.py.
"""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from kat.event_privacy import MASK
from kat.handoff_store import HandoffStore
from tests.e2e.harness import Servers, texts

pytestmark = pytest.mark.e2e
NAME, PHONE = "Robin Okafor", "+1 415 555 0187"


def stored_rows(servers: Servers, conversation: str) -> str:
    db = sqlite3.connect(str(servers.workdir / "tracker.db"))
    try:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ?", (conversation,)
        ).fetchall()
    finally:
        db.close()
    assert len(rows) > 10
    return " ".join(data for (data,) in rows)


def test_contact_details_leave_the_conversation_once_on_the_ticket(
    servers: Servers,
) -> None:
    sender = f"contact-{uuid.uuid4().hex[:8]}"
    conversation = servers.conversation(sender)
    assert "Would you like the team to contact you" in texts(
        servers.say(sender, "can i talk to a person please")
    )
    servers.say(sender, "yes")
    servers.say(sender, NAME)
    # Mid-form the name is still needed, and still there.
    assert NAME in stored_rows(servers, conversation)
    assert "the team will use those details only" in texts(servers.say(sender, PHONE))

    ticket = HandoffStore(f"sqlite:///{servers.workdir / 'handoff.db'}").open_ticket_for(
        conversation
    )
    assert ticket is not None and ticket.contact is not None
    assert ticket.contact["name"] == NAME

    tracker = servers.tracker(sender)
    users = [e["text"] for e in tracker["events"] if e["event"] == "user"]
    assert users == ["can i talk to a person please", "yes", MASK, MASK]
    assert tracker["slots"]["contact_name"] is None
    assert tracker["slots"]["contact_details"] is None
    digits = "".join(c for c in PHONE if c.isdigit())
    for text in (str(tracker), stored_rows(servers, conversation)):
        assert NAME not in text and "555 0187" not in text and digits not in text

    # The conversation goes on as before: a thanks gets its own reply, a message is
    # acknowledged, and both are on the ticket (components/safety_policy.py).
    assert "You're welcome" in texts(servers.say(sender, "thanks, one more thing"))
    assert "added this to your message" in texts(
        servers.say(sender, "my appointment letter never arrived")
    )
    store = HandoffStore(f"sqlite:///{servers.workdir / 'handoff.db'}")
    later = store.open_ticket_for(conversation)
    assert later is not None
    written = [m.get("text") for m in later.transcript]
    assert written[-2:] == [
        "thanks, one more thing",
        "my appointment letter never arrived",
    ]
