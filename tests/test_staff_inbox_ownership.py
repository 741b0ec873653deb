"""Ticket ownership in the inbox, with two staff users (nurse, doctor) on the real app.

"Claimed" used to be only a status: a second user re-claimed, replied to and resolved a
ticket the first was handling. Now the claimer is recorded, only they reply or resolve
(409 with a JSON error naming the claimer), and claiming someone else's ticket needs an
explicit ``{"take_over": true}``, which is recorded on the ticket and logged.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.test_staff_inbox_app import (
    API_TOKEN,
    running_inbox,
    staff_client,
)


async def test_a_claim_records_the_claimer_in_the_ticket_json(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as nurse:
        ticket = inbox.ticket()
        listed = (await nurse.get("/api/tickets")).json()["tickets"]
        assert listed[0]["claimed_by"] is None
        claimed = await nurse.post_json(f"/api/tickets/{ticket.id}/claim")
        assert claimed.status_code == 200
        assert claimed.json()["claimed_by"] == "nurse"
        detail = (await nurse.get(f"/api/tickets/{ticket.id}")).json()
        assert detail["status"] == "claimed" and detail["claimed_by"] == "nurse"
        assert detail["taken_over_from"] is None
        listed = (await nurse.get("/api/tickets")).json()["tickets"]
        assert listed[0]["claimed_by"] == "nurse"


async def test_only_the_claimer_replies_or_resolves(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, staff_client(
        inbox, "nurse"
    ) as nurse, staff_client(inbox, "doctor") as doctor:
        ticket = inbox.ticket()
        assert (
            await nurse.post_json(f"/api/tickets/{ticket.id}/claim")
        ).status_code == 200

        reclaim = await doctor.post_json(f"/api/tickets/{ticket.id}/claim")
        assert reclaim.status_code == 409
        assert reclaim.json()["claimed_by"] == "nurse"
        assert "take_over" in reclaim.json()["error"]
        reply = await doctor.post_json(
            f"/api/tickets/{ticket.id}/reply", {"text": "Doctor here"}
        )
        assert reply.status_code == 409
        assert reply.json()["claimed_by"] == "nurse"
        assert "nurse" in reply.json()["error"]
        resolve = await doctor.post_json(f"/api/tickets/{ticket.id}/resolve")
        assert resolve.status_code == 409

        # Nothing of the doctor's reached the patient or the ticket.
        assert inbox.rasa.posts == []
        after = inbox.store.get(ticket.id)
        assert after is not None
        assert after.status == "claimed" and after.claimed_by == "nurse"
        assert inbox.staff_messages(ticket.id) == []

        # The claimer still can.
        mine = await nurse.post_json(f"/api/tickets/{ticket.id}/reply", {"text": "Hi"})
        assert mine.status_code == 200, mine.text
        done = await nurse.post_json(f"/api/tickets/{ticket.id}/resolve")
        assert done.status_code == 200
        assert inbox.store.get(ticket.id).status == "resolved"  # type: ignore[union-attr]


async def test_a_take_over_is_explicit_recorded_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_inbox(tmp_path) as inbox, staff_client(
        inbox, "nurse"
    ) as nurse, staff_client(inbox, "doctor") as doctor:
        ticket = inbox.ticket()
        await nurse.post_json(f"/api/tickets/{ticket.id}/claim")
        for refused in ({}, {"take_over": False}):
            reply = await doctor.post_json(f"/api/tickets/{ticket.id}/claim", refused)
            assert reply.status_code == 409
        bad = await doctor.post_json(
            f"/api/tickets/{ticket.id}/claim", {"take_over": "yes"}
        )
        assert bad.status_code == 400  # true or false, nothing else
        taken = await doctor.post_json(
            f"/api/tickets/{ticket.id}/claim", {"take_over": True}
        )
        assert taken.status_code == 200, taken.text
        assert taken.json()["claimed_by"] == "doctor"
        assert taken.json()["taken_over_from"] == "nurse"
        detail = (await doctor.get(f"/api/tickets/{ticket.id}")).json()
        assert detail["claimed_by"] == "doctor"
        assert detail["taken_over_from"] == "nurse"

        # Now the nurse is the one refused, and the doctor replies.
        late = await nurse.post_json(f"/api/tickets/{ticket.id}/reply", {"text": "Hi"})
        assert late.status_code == 409 and late.json()["claimed_by"] == "doctor"
        reply = await doctor.post_json(f"/api/tickets/{ticket.id}/reply", {"text": "Hi"})
        assert reply.status_code == 200
    taken_over = [
        r.getMessage() for r in caplog.records if "taken over" in r.getMessage()
    ]
    assert len(taken_over) == 1
    assert ticket.id in taken_over[0]
    assert "doctor" in taken_over[0] and "nurse" in taken_over[0]


async def test_a_reply_to_an_open_unclaimed_ticket_claims_it_for_the_replier(
    tmp_path: Path,
) -> None:
    async with running_inbox(tmp_path) as inbox, staff_client(
        inbox, "nurse"
    ) as nurse, staff_client(inbox, "doctor") as doctor:
        ticket = inbox.ticket()
        reply = await doctor.post_json(
            f"/api/tickets/{ticket.id}/reply", {"text": "Doctor here"}
        )
        assert reply.status_code == 200
        after = inbox.store.get(ticket.id)
        assert after is not None
        assert after.status == "claimed" and after.claimed_by == "doctor"
        refused = await nurse.post_json(
            f"/api/tickets/{ticket.id}/reply", {"text": "Nurse here"}
        )
        assert refused.status_code == 409
        assert [m["text"] for m in inbox.staff_messages(ticket.id)] == ["Doctor here"]


async def test_resolving_an_unclaimed_ticket_records_who_resolved_it(
    tmp_path: Path,
) -> None:
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as nurse:
        ticket = inbox.ticket()
        assert (await nurse.post_json(f"/api/tickets/{ticket.id}/resolve")).json()["ok"]
        after = inbox.store.get(ticket.id)
        assert after is not None
        assert after.status == "resolved" and after.claimed_by == "nurse"


async def test_the_api_token_user_is_bound_by_the_same_rule(tmp_path: Path) -> None:
    """The helpdesk bridge (bearer token, user "api") is one more staff user."""
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as nurse:
        ticket = inbox.ticket()
        await nurse.post_json(f"/api/tickets/{ticket.id}/claim")
        bearer = {"Authorization": f"Bearer {API_TOKEN}"}
        refused = await nurse.post(
            f"/api/tickets/{ticket.id}/reply",
            json={"text": "from the helpdesk"},
            headers=bearer,
        )
        assert refused.status_code == 409
        assert refused.json()["claimed_by"] == "nurse"
