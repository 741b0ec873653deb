"""Named staff with roles, and the audit trail (staff_inbox/roles.py, audit.py), against
the real inbox app. Rasa's side is a local receiver (tests/http_receiver.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import pytest

from staff_inbox.auth import hash_password
from staff_inbox.roles import AccountError, parse_accounts
from tests.test_staff_inbox_app import running_inbox, staff_client

PASSWORD = "a long enough password"
HASH = hash_password(PASSWORD)
ACCOUNTS = parse_accounts(
    f"jo:{HASH}:clinician:Jo Rivera,desk:{HASH}:front_desk,"
    f"rev:{HASH}:reviewer,root:{HASH}:admin,old:{HASH}"
)
CONTACT = {"name": "Sam Lee", "phone": "+14155550199"}


def test_accounts_carry_roles_and_a_display_name() -> None:
    assert ACCOUNTS["jo"].roles == {"clinician"}
    assert ACCOUNTS["jo"].shown_as == "Jo Rivera"
    assert ACCOUNTS["desk"].shown_as == "desk"
    assert ACCOUNTS["old"].roles == {"clinician"}  # written as before roles existed
    multi = parse_accounts(f"x:{HASH}:front_desk+reviewer")["x"]
    assert multi.can("tickets") and multi.can("insights") and not multi.can("audit")
    with pytest.raises(AccountError):
        parse_accounts(f"x:{HASH}:nurse")
    with pytest.raises(AccountError):
        parse_accounts("x")


# (role's account, method, path suffix, allowed)
BOUNDARIES = [
    ("rev", "get", "/api/tickets", False),
    ("rev", "get", "/api/tickets/{id}", False),
    ("rev", "post", "/api/tickets/{id}/claim", False),
    ("rev", "post", "/api/tickets/{id}/reply", False),
    ("rev", "post", "/api/tickets/{id}/resolve", False),
    ("rev", "get", "/api/audit", False),
    ("desk", "get", "/api/audit", False),
    ("jo", "get", "/api/audit", False),
    ("desk", "get", "/api/tickets", True),
    ("desk", "post", "/api/tickets/{id}/reply", True),
    ("jo", "post", "/api/tickets/{id}/reply", True),
    ("root", "get", "/api/audit", True),
    ("root", "get", "/api/tickets/{id}", True),
]


@pytest.mark.parametrize("who, method, path, allowed", BOUNDARIES)
async def test_each_role_boundary(
    tmp_path: Path, who: str, method: str, path: str, allowed: bool
) -> None:
    async with running_inbox(tmp_path, accounts=ACCOUNTS) as inbox:
        ticket = inbox.store.open_ticket("rest:p", "rest", "patient_asked", False, [])
        async with staff_client(inbox, who, PASSWORD) as staff:
            url = path.format(id=ticket.id)
            if method == "get":
                reply = await staff.get(url)
            else:
                reply = await staff.post_json(url, {"text": "hello"})
        if allowed:
            assert reply.status_code == 200, reply.text
        else:
            assert reply.status_code == 403, reply.text
            assert "role does not allow" in reply.json()["error"]


async def test_contact_details_by_role_and_every_view_audited(tmp_path: Path) -> None:
    async with running_inbox(tmp_path, accounts=ACCOUNTS) as inbox:
        with_contact = inbox.store.open_ticket(
            "rest:a", "rest", "patient_asked", False, []
        )
        inbox.store.set_contact(with_contact.id, CONTACT)  # given with consent
        seen: Dict[str, object] = {}
        for who in ("jo", "desk"):
            async with staff_client(inbox, who, PASSWORD) as staff:
                seen[who] = (await staff.get(f"/api/tickets/{with_contact.id}")).json()[
                    "contact"
                ]
        assert seen == {"jo": CONTACT, "desk": CONTACT}
        async with staff_client(inbox, "root", PASSWORD) as admin:
            trail = (await admin.get("/api/audit")).json()["audit"]
    views = [(r["who"], r["action"]) for r in trail if r["ticket_id"] == with_contact.id]
    assert views == [("jo", "view_contact"), ("desk", "view_contact")]
    assert "Sam" not in str(trail) and "4155550199" not in str(trail)


async def test_claim_reply_resolve_are_audited_with_who_and_shown_on_the_ticket(
    tmp_path: Path,
) -> None:
    async with running_inbox(tmp_path, accounts=ACCOUNTS) as inbox:
        ticket = inbox.store.open_ticket("rest:b", "rest", "clinical_question", True, [])
        async with staff_client(inbox, "jo", PASSWORD) as jo:
            assert (
                await jo.post_json(f"/api/tickets/{ticket.id}/claim")
            ).status_code == 200
            assert (
                await jo.post_json(
                    f"/api/tickets/{ticket.id}/reply", {"text": "hi there"}
                )
            ).status_code == 200
            inbox.rasa.fail_first = 10**6  # Rasa answers 503 from now on
            failed = await jo.post_json(f"/api/tickets/{ticket.id}/reply", {"text": "x"})
            assert failed.status_code == 502
        async with staff_client(inbox, "desk", PASSWORD) as desk:
            taken = await desk.post_json(
                f"/api/tickets/{ticket.id}/claim", {"take_over": True}
            )
            assert taken.status_code == 200
            inbox.rasa.fail_first = 0
            assert (
                await desk.post_json(f"/api/tickets/{ticket.id}/resolve")
            ).status_code == 200
            shown = (await desk.get(f"/api/tickets/{ticket.id}")).json()
    history = [(r["who"], r["action"], r["detail"]) for r in shown["history"]]
    assert history == [
        ("jo", "claim", None),
        ("jo", "reply", None),
        ("jo", "reply_not_delivered", "assistant_error"),
        ("desk", "take_over", "from jo"),
        ("desk", "resolve", None),
    ]
    assert [m.get("by") for m in shown["transcript"] if m["from"] == "staff"] == [
        "jo",
        "jo",
    ]
    assert all("hi there" not in str(r) for r in shown["history"])


async def test_me_says_who_and_which_roles(tmp_path: Path) -> None:
    async with running_inbox(tmp_path, accounts=ACCOUNTS) as inbox:
        async with staff_client(inbox, "jo", PASSWORD) as jo:
            me = (await jo.get("/api/me")).json()
    assert me == {"user": "jo", "name": "Jo Rivera", "roles": ["clinician"]}


async def test_the_reply_names_the_staff_member_only_if_the_profile_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from kat.clinic_profile import cached_profile
    from staff_inbox import app as inbox_app

    sent = []
    for show in (False, True):
        profile = {**cached_profile(), "staff_names_to_patients": show}
        monkeypatch.setattr(inbox_app, "cached_profile", lambda p=profile: p)
        async with running_inbox(tmp_path, accounts=ACCOUNTS) as inbox:
            ticket = inbox.store.open_ticket("rest:n", "rest", "patient_asked", False, [])
            async with staff_client(inbox, "jo", PASSWORD) as jo:
                reply = await jo.post_json(
                    f"/api/tickets/{ticket.id}/reply", {"text": "hello"}
                )
                assert reply.status_code == 200
            sent.append(json.loads(inbox.rasa.posts[-1]["body"])["entities"])
    assert sent == [
        {"staff_message": "hello"},
        {"staff_message": "hello", "staff_name": "Jo Rivera"},
    ]
