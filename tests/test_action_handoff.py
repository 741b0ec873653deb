"""Tracker-fixture tests for action_handoff (ticket store: a temporary SQLite file)."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionAddToHandoff, ActionHandoff


@pytest.fixture(autouse=True)
def clinic_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the clock-dependent part: the clinic is open unless a test says otherwise."""
    monkeypatch.setattr("actions.handoff._clinic_open", lambda: True)


def responses(dispatcher: CollectingDispatcher) -> List[str]:
    return [m["response"] for m in dispatcher.messages]


def offers_contact(events: List[Dict[str, Any]]) -> bool:
    offers = [e["value"] for e in events if e.get("name") == "handoff_offer_contact"]
    return bool(offers and offers[-1])


async def test_request_for_a_person_opens_a_ticket_and_offers_contact(
    tracker_factory, temp_store  # type: ignore[no-untyped-def]
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = tracker_factory(text="can i talk to a person", intent="request_human")
    events = await ActionHandoff().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_handoff_confirmation"]
    ticket = temp_store.open_ticket_for("test-patient")
    assert ticket.reason == "patient_asked" and not ticket.urgent
    assert ticket.transcript[0]["text"] == "can i talk to a person"
    assert offers_contact(events)


async def test_crisis_handoff_is_urgent_and_asks_nothing(tracker_factory, temp_store) -> None:  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    tracker = tracker_factory(text="i want to die", intent="crisis")
    events = await ActionHandoff().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_handoff_urgent"]
    ticket = temp_store.open_ticket_for("test-patient")
    assert ticket.reason == "crisis" and ticket.urgent
    assert not offers_contact(events)


async def test_clinical_question_says_a_clinician_follows_up(tracker_factory, temp_store) -> None:  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    tracker = tracker_factory(text="how much should i take", intent="clinical_question")
    await ActionHandoff().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_handoff_clinical"]
    assert temp_store.open_ticket_for("test-patient").reason == "clinical_question"


async def test_messages_while_a_ticket_is_open_are_added_to_it(tracker_factory, temp_store) -> None:  # type: ignore[no-untyped-def]
    await ActionHandoff().run(
        CollectingDispatcher(), tracker_factory(text="agent", intent="request_human"), {}
    )
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(
        dispatcher, tracker_factory(text="also my dose?", intent="clinical_question"), {}
    )
    assert responses(dispatcher) == ["utter_handoff_added"]
    tickets = temp_store.list_tickets()
    assert len(tickets) == 1
    assert tickets[0].transcript[-1]["text"] == "also my dose?"


async def test_store_down_still_answers_the_patient(
    tracker_factory, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("KAT_HANDOFF_DB_URL", "postgresql://nobody@127.0.0.1:1/none")
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(
        dispatcher, tracker_factory(text="agent", intent="request_human"), {}
    )
    assert responses(dispatcher) == ["utter_handoff_unavailable"]


async def test_out_of_hours_says_when_to_expect_a_reply(
    tracker_factory, temp_store, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr("actions.handoff._clinic_open", lambda: False)
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(
        dispatcher, tracker_factory(text="agent", intent="request_human"), {}
    )
    assert responses(dispatcher) == [
        "utter_handoff_confirmation",
        "utter_handoff_out_of_hours",
    ]


async def test_messages_after_a_crisis_join_the_urgent_ticket_silently(
    tracker_factory, temp_store  # type: ignore[no-untyped-def]
) -> None:
    await ActionHandoff().run(
        CollectingDispatcher(), tracker_factory(text="i want to die", intent="crisis"), {}
    )
    dispatcher = CollectingDispatcher()
    events = await ActionAddToHandoff().run(
        dispatcher, tracker_factory(text="i already took them", intent="faq"), {}
    )
    assert dispatcher.messages == [] and events == []
    [ticket] = temp_store.list_tickets()
    assert ticket.urgent
    assert [m["text"] for m in ticket.transcript] == [
        "i want to die",
        "i already took them",
    ]


async def test_adding_after_a_crisis_without_a_ticket_or_store_does_nothing(
    tracker_factory, temp_store, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = tracker_factory(text="hello?", intent="greet")
    assert await ActionAddToHandoff().run(dispatcher, tracker, {}) == []
    assert temp_store.list_tickets() == []  # no ticket is opened here
    monkeypatch.setenv("KAT_HANDOFF_DB_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert await ActionAddToHandoff().run(dispatcher, tracker, {}) == []
    assert dispatcher.messages == []


async def test_tickets_beyond_a_clients_limit_are_kept_as_a_suspected_flood(
    tracker_factory, temp_store, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    """Issue 15: one client opened tickets at 29 a second, urgent ones first in the
    inbox and paging staff. Beyond the limit a ticket is still opened, and the patient
    still gets the same reply, but it pages nobody and is marked for grouping."""
    monkeypatch.setenv("KAT_RATE_HANDOFFS_PER_HOUR", "2")
    notified: List[str] = []
    monkeypatch.setattr(
        "actions.handoff.notify_and_record", lambda store, t: notified.append(t.id)
    )
    replies = []
    for n in range(4):
        dispatcher = CollectingDispatcher()
        latest = {"text": "i want to die", "intent": {"name": "crisis"}, "entities": []}
        tracker = tracker_factory(
            text="i want to die",
            intent="crisis",
            sender_id=f"rest:flood-{n}",
            events=[
                {
                    "event": "user",
                    "text": "i want to die",
                    "parse_data": latest,
                    "metadata": {"kat_client": "0123456789abcdef"},
                }
            ],
        )
        await ActionHandoff().run(dispatcher, tracker, {})
        replies.append(responses(dispatcher))
    tickets = [temp_store.open_ticket_for(f"rest:flood-{n}") for n in range(4)]
    assert [t.suspected_flood for t in tickets] == [False, False, True, True]
    assert all(t.urgent and t.client_key == "0123456789abcdef" for t in tickets)
    assert replies == [["utter_handoff_urgent"]] * 4  # the patient is told the same
    import asyncio

    await asyncio.sleep(0.2)  # the notification threads
    assert sorted(notified) == sorted(t.id for t in tickets[:2])
    assert tickets[3].notification["status"] == "off"


def gate_reading(text: str) -> Dict[str, Any]:
    """What the NLU hands the dialogue for ``text``: the real safety gate
    (components/safety_gate.py, content/safety/) over a classifier that had no idea."""
    from rasa.shared.nlu.training_data.message import Message

    from components.safety_gate import SafetyGate

    guess = {"name": "nlu_fallback", "confidence": 0.3}
    message = Message({"text": text, "intent": guess, "intent_ranking": [guess]})
    SafetyGate({}).process([message])
    return {"text": text, "intent": message.get("intent"), "entities": []}


@pytest.mark.parametrize(
    "text, reason, urgent",
    [
        # Acute symptoms after a session: the crisis patterns' medical emergency.
        (
            "since my session yesterday I've had chest pain and can't stop vomiting",
            "crisis",
            True,
        ),
        # Symptoms after a session that persist or worsen (routing_patterns.yml urgent).
        (
            "since my session yesterday i've been dizzy and it's getting worse",
            "clinical_question",
            True,
        ),
        (
            "after my infusion on monday i still feel dizzy and sick",
            "clinical_question",
            True,
        ),
        # A passing symptom is a clinical question for a person, not an urgent one.
        (
            "i felt a bit dizzy after my session, is that normal?",
            "clinical_question",
            False,
        ),
    ],
)
async def test_a_post_session_symptom_opens_an_urgent_ticket(
    tracker_factory: Any,
    temp_store: Any,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    reason: str,
    urgent: bool,
) -> None:
    """From the words to the stored ticket: the real gate reads the message, the real
    action opens the ticket in the real store (SQLite under tmp_path)."""
    monkeypatch.delenv("KAT_NOTIFY_URL", raising=False)  # nobody is paged from a test
    reading = gate_reading(text)
    tracker = tracker_factory(
        text=text,
        sender_id="sms:+14155550100",
        events=[{"event": "user", "text": text, "parse_data": reading}],
    )
    tracker.latest_message = reading
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker, {})
    ticket = temp_store.open_ticket_for("sms:+14155550100")
    assert (ticket.reason, ticket.urgent) == (reason, urgent)
    assert ticket.transcript[0]["text"] == text
    assert ("utter_handoff_urgent" in responses(dispatcher)) is urgent
    [listed] = temp_store.list_tickets()
    assert listed.id == ticket.id and listed.urgent is urgent
