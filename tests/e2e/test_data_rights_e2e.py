""""What do you know about me?" and "forget me", through the real servers (embedded
profile, SQLite); the same scenario on PostgreSQL runs in
tests/e2e/test_faults_production.py (``check_forget_me``).

After the patient confirms, the database is read directly: no stored event of the
conversation (every session), the tickets keep reason, urgency and times only, and the
audit trail has a content-free row per ticket.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Callable, List

import pytest

from kat.audit import PATIENT, AuditLog
from kat.handoff_store import HandoffStore
from tests.e2e.harness import Servers, texts

pytestmark = pytest.mark.e2e
NAME, PHONE = "Robin Okafor", "+1 415 555 0187"
QUESTION = "i take lexapro every morning, can i still do ketamine?"


def check_forget_me(
    servers: Servers, store: HandoffStore, stored_rows: Callable[[str], int]
) -> None:
    sender = f"rights-{uuid.uuid4().hex[:8]}"
    conversation = servers.conversation(sender)
    assert "Would you like the team to contact you" in texts(
        servers.say(sender, "can i talk to a person please")
    )
    servers.say(sender, "yes")
    servers.say(sender, NAME)
    servers.say(sender, PHONE)
    servers.say(sender, QUESTION)  # onto the open ticket
    ticket = store.open_ticket_for(conversation)
    assert ticket is not None and ticket.contact, "the contact form saved nothing"
    assert "lexapro" in str(ticket.transcript)

    summary = texts(servers.say(sender, "what do you know about me?"))
    assert "message(s) from you since" in summary
    assert "You gave contact details" in summary
    assert "Your request to the clinic team is open" in summary
    assert "forget me" in summary
    for secret in (NAME, "555 0187", "lexapro"):
        assert secret not in summary  # never read back

    asked = servers.say(sender, "forget me")
    assert "delete this chat" in texts(asked)
    assert [b["payload"] for b in asked[-1].get("buttons") or []] == ["/affirm", "/deny"]
    assert stored_rows(conversation) > 0  # nothing deleted before the yes

    done = texts(servers.say(sender, "yes"))
    assert "this chat and any contact details you gave are deleted" in done
    assert "stays open with only its reason and time" in done

    assert stored_rows(conversation) == 0
    after = store.tickets_for(conversation)
    assert [t.id for t in after] == [ticket.id]
    assert after[0].transcript == [] and after[0].contact is None
    assert (after[0].reason, after[0].status) == (ticket.reason, "open")
    audit = [
        r for r in AuditLog(store).rows(ticket.id) if r["action"] == "patient_forget"
    ]
    assert [(r["who"], r["detail"]) for r in audit] == [(PATIENT, None)]

    # Writing again starts a new conversation that knows nothing of the old one.
    servers.say(sender, "hi")
    again = texts(servers.say(sender, "what do you know about me"))
    assert "1 message(s) from you" in again or "2 message(s) from you" in again
    assert "You haven't given any contact details" in again


def check_no_means_no(servers: Servers, stored_rows: Callable[[str], int]) -> None:
    sender = f"keep-{uuid.uuid4().hex[:8]}"
    servers.say(sender, "what is ketamine")
    before = stored_rows(servers.conversation(sender))
    servers.say(sender, "delete my data")
    assert "nothing was deleted" in texts(servers.say(sender, "no"))
    assert stored_rows(servers.conversation(sender)) > before


def _sqlite_rows(servers: Servers) -> Callable[[str], int]:
    def rows(conversation: str) -> int:
        db = sqlite3.connect(str(servers.workdir / "tracker.db"))
        try:
            (count,) = db.execute(
                "SELECT COUNT(*) FROM events WHERE sender_id = ?", (conversation,)
            ).fetchone()
        finally:
            db.close()
        return int(count)

    return rows


def _store(servers: Servers) -> HandoffStore:
    return HandoffStore(f"sqlite:///{servers.workdir / 'handoff.db'}")


def test_forget_me_on_sqlite(servers: Servers) -> None:
    check_forget_me(servers, _store(servers), _sqlite_rows(servers))


def test_a_no_deletes_nothing(servers: Servers) -> None:
    check_no_means_no(servers, _sqlite_rows(servers))


def test_after_a_crisis_the_deletion_reply_still_gives_the_crisis_resources(
    servers: Servers,
) -> None:
    sender = f"crisis-{uuid.uuid4().hex[:8]}"
    servers.say(sender, "i want to kill myself tonight")
    servers.say(sender, "please delete this chat")
    replies: List[str] = texts(servers.say(sender, "yes")).splitlines()
    joined = "\n".join(replies)
    assert "deleted" in joined
    assert "988" in joined and "911" in joined
    assert _sqlite_rows(servers)(servers.conversation(sender)) == 0
    # The urgent ticket stays, without the words.
    ticket = _store(servers).open_ticket_for(servers.conversation(sender))
    assert ticket is not None and ticket.urgent and ticket.transcript == []
