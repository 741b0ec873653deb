"""A ticket's life as a state machine (issue 16 item 4), against the real inbox app.

Rasa's side is a local receiver (tests/http_receiver.py); "Rasa fails" is that
receiver answering 503, so the inbox's call really fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kat.handoff_store import HandoffStore, IllegalTransition
from tests.test_staff_inbox_app import running_inbox, staff_client


def test_the_store_refuses_every_transition_out_of_resolved(tmp_path: Path) -> None:
    store = HandoffStore(f"sqlite:///{tmp_path / 'h.db'}")
    ticket = store.open_ticket("rest:p", "rest", "patient_asked", False, [])
    store.set_status(ticket.id, "claimed")
    with pytest.raises(IllegalTransition):
        store.set_status(ticket.id, "open")  # claimed -> open
    store.set_status(ticket.id, "resolved")
    for status in ("open", "claimed", "resolved"):
        with pytest.raises(IllegalTransition):
            store.set_status(ticket.id, status)
    assert store.get(ticket.id).status == "resolved"  # type: ignore[union-attr]


async def test_a_resolved_ticket_is_not_claimed_answered_or_resolved_again(
    tmp_path: Path,
) -> None:
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        ticket = inbox.store.open_ticket("rest:p", "rest", "patient_asked", False, [])
        assert (
            await staff.post_json(f"/api/tickets/{ticket.id}/resolve")
        ).status_code == 200
        for action, body in (("claim", {}), ("reply", {"text": "hi"}), ("resolve", {})):
            reply = await staff.post_json(f"/api/tickets/{ticket.id}/{action}", body)
            assert reply.status_code == 409, (action, reply.text)
        assert inbox.store.get(ticket.id).status == "resolved"  # type: ignore[union-attr]
        # Nothing more went to Rasa than the one hand-back.
        assert len(inbox.rasa.posts) == 1


async def test_a_failed_hand_back_keeps_the_ticket_open_and_tells_staff(
    tmp_path: Path,
) -> None:
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        ticket = inbox.store.open_ticket("rest:p", "rest", "patient_asked", False, [])
        inbox.rasa.fail_first = 10**6  # Rasa answers 503 from now on
        reply = await staff.post_json(f"/api/tickets/{ticket.id}/resolve")
        assert reply.status_code == 502
        assert reply.json()["patient_told"] is False
        # Not resolved while the assistant still waits for a person.
        assert inbox.store.get(ticket.id).status != "resolved"  # type: ignore[union-attr]


async def test_a_reply_that_was_not_delivered_shows_as_not_delivered(
    tmp_path: Path,
) -> None:
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        ticket = inbox.store.open_ticket("rest:p", "rest", "patient_asked", False, [])
        sent = await staff.post_json(f"/api/tickets/{ticket.id}/reply", {"text": "one"})
        assert sent.status_code == 200 and sent.json()["delivered"] is True
        inbox.rasa.fail_first = 10**6  # Rasa answers 503 from now on
        failed = await staff.post_json(f"/api/tickets/{ticket.id}/reply", {"text": "two"})
        assert failed.status_code == 502 and failed.json()["delivered"] is False
        shown = (await staff.get(f"/api/tickets/{ticket.id}")).json()["transcript"]
    assert [(m["text"], m["delivered"]) for m in shown if m["from"] == "staff"] == [
        ("one", True),
        ("two", False),
    ]
