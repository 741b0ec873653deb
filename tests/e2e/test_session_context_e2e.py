"""A new session keeps the open ticket and an earlier crisis (the real servers).

Rasa starts a new session of a conversation after 60 minutes of quiet (domain.yml's
``session_expiration_time``, as shipped). The test moves the clock instead of waiting:
it shifts every stored event of the conversation two hours into the past, in the
tracker store's own SQLite file, as if the patient had been quiet that long. Rasa then
starts a new session on the next message, carrying the slots over
(kat/session_context.py).
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any, Dict, List

import pytest

from kat.handoff_store import HandoffStore
from tests.e2e.harness import Servers, texts

pytestmark = pytest.mark.e2e
QUIET_SECONDS = 2 * 3600  # longer than the shipped 60-minute session


def move_clock(servers: Servers, conversation: str, seconds: float) -> None:
    """Every stored event of ``conversation`` ``seconds`` older (column and event)."""
    db = sqlite3.connect(str(servers.workdir / "tracker.db"))
    try:
        with db:
            changed = db.execute(
                "UPDATE events SET timestamp = timestamp - ?, data = json_set(data, "
                "'$.timestamp', json_extract(data, '$.timestamp') - ?) "
                "WHERE sender_id = ?",
                (seconds, seconds, conversation),
            ).rowcount
    finally:
        db.close()
    assert changed > 3


def store(servers: Servers) -> HandoffStore:
    return HandoffStore(f"sqlite:///{servers.workdir / 'handoff.db'}")


def sessions(servers: Servers, sender: str) -> int:
    events: List[Dict[str, Any]] = servers.tracker(sender)["events"]
    return sum(1 for e in events if e["event"] == "session_started")


def test_after_an_hour_of_quiet_a_crisis_conversation_is_still_a_crisis(
    servers: Servers,
) -> None:
    sender = f"session-crisis-{uuid.uuid4().hex[:8]}"
    conversation = servers.conversation(sender)
    first = texts(servers.say(sender, "i want to kill myself tonight"))
    assert "988" in first
    ticket = store(servers).open_ticket_for(conversation)
    assert ticket is not None and ticket.urgent and ticket.reason == "crisis"
    before = sessions(servers, sender)

    move_clock(servers, conversation, QUIET_SECONDS)
    reply = texts(servers.say(sender, "what are the side effects"))

    assert sessions(servers, sender) == before + 1  # a new session did start
    assert "still here with you" in reply and "988" in reply  # utter_crisis_followup
    assert "dissociation" not in reply.lower()  # not the cheerful FAQ answer
    assert servers.bot_actions_after_last_user(sender)[-1:] == ["action_add_to_handoff"]
    later = store(servers).open_ticket_for(conversation)
    assert later is not None and later.id == ticket.id and later.urgent
    assert [m["text"] for m in later.transcript][-1] == "what are the side effects"


def test_after_an_hour_of_quiet_the_message_still_goes_onto_the_open_ticket(
    servers: Servers,
) -> None:
    sender = f"session-ticket-{uuid.uuid4().hex[:8]}"
    conversation = servers.conversation(sender)
    servers.say(sender, "i'd like to talk to a person please")
    servers.say(sender, "no thanks")  # no contact details: the team replies here
    ticket = store(servers).open_ticket_for(conversation)
    assert ticket is not None and not ticket.urgent

    move_clock(servers, conversation, QUIET_SECONDS)
    reply = texts(servers.say(sender, "hello? did anyone read my message"))

    assert "added this to your message" in reply  # utter_handoff_added
    later = store(servers).open_ticket_for(conversation)
    assert later is not None and later.id == ticket.id
    assert later.transcript[-1]["text"] == "hello? did anyone read my message"
    slots = servers.tracker(sender)["slots"]
    assert slots["handoff_active"] is True and slots["crisis_at"] is None
