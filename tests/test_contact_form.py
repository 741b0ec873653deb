"""Contact details: consent first, formats validated, nothing kept in the conversation."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.contact_form import ActionSaveHandoffContact, ValidateHandoffContactForm
from kat.handoff_rules import normalise_contact, plausible_name


@pytest.mark.parametrize(
    "value,expected",
    [
        ("555-123-4567", {"phone": "5551234567"}),
        ("+1 (555) 123 4567", {"phone": "+15551234567"}),
        ("Name@Example.com", {"email": "name@example.com"}),
        ("call me maybe", None),
        ("12", None),
        ("<script>@x", None),
    ],
)
def test_contact_formats(value: str, expected: object) -> None:
    assert normalise_contact(value) == expected


def test_names() -> None:
    assert plausible_name("Sam")
    assert not plausible_name("")
    assert not plausible_name("555 1234")


async def test_declining_ends_the_form(tracker_factory) -> None:  # type: ignore[no-untyped-def]
    form = ValidateHandoffContactForm()
    tracker = tracker_factory(slots={"contact_consent": False})
    slots = await form.required_slots(
        ["contact_consent", "contact_name", "contact_details"],
        CollectingDispatcher(),
        tracker,
        {},
    )
    assert slots == []


async def test_invalid_details_are_asked_again(tracker_factory) -> None:  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    result = await ValidateHandoffContactForm().validate_contact_details(
        "tomorrow", dispatcher, tracker_factory(), {}
    )
    assert result == {"contact_details": None}
    assert dispatcher.messages[0]["response"] == "utter_contact_details_unreadable"


async def test_saved_contact_goes_on_the_ticket_and_leaves_the_conversation(
    tracker_factory, temp_store  # type: ignore[no-untyped-def]
) -> None:
    ticket = temp_store.open_ticket("test-patient", "rest", "patient_asked", False, [])
    slots = {
        "contact_consent": True,
        "contact_name": "Sam",
        "contact_details": "sam@example.com",
        "handoff_ticket_id": ticket.id,
    }
    dispatcher = CollectingDispatcher()
    events = await ActionSaveHandoffContact().run(
        dispatcher, tracker_factory(slots=slots), {}
    )
    assert temp_store.get(ticket.id).contact == {
        "name": "Sam",
        "email": "sam@example.com",
    }
    assert {(e["name"], e["value"]) for e in events} == {
        ("contact_name", None),
        ("contact_details", None),
        ("handoff_offer_contact", False),
    }


@pytest.mark.parametrize("problem", ["store down", "no such ticket", "no ticket id"])
async def test_details_that_could_not_be_saved_are_never_called_saved(
    tracker_factory, temp_store, monkeypatch, problem  # type: ignore[no-untyped-def]
) -> None:
    """Issue 16: it said "saved" when nothing was saved, and with the store down it
    raised, so the patient got no reply at all."""
    ticket = temp_store.open_ticket("test-patient", "rest", "patient_asked", False, [])
    slots = {
        "contact_consent": True,
        "contact_name": "Sam",
        "contact_details": "sam@example.com",
        "handoff_ticket_id": {"no such ticket": "nope", "no ticket id": None}.get(
            problem, ticket.id
        ),
    }
    if problem == "store down":

        def down(*_: object) -> None:
            raise OSError("database is down")

        monkeypatch.setattr(temp_store, "set_contact", down)
        monkeypatch.setattr("actions.contact_form.default_store", lambda: temp_store)
    dispatcher = CollectingDispatcher()
    events = await ActionSaveHandoffContact().run(
        dispatcher, tracker_factory(slots=slots), {}
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_contact_not_saved"]
    assert ("contact_details", None) in {(e["name"], e["value"]) for e in events}
