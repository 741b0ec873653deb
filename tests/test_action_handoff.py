"""Tracker-fixture tests for action_handoff."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff


async def test_handoff_tells_the_patient_what_happens_next(tracker_factory) -> None:  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    tracker = tracker_factory(text="can i talk to a person", intent="request_human")
    events = await ActionHandoff().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_confirmation"]
    assert {
        "event": "slot",
        "timestamp": None,
        "name": "handoff_requested",
        "value": True,
    } in events
