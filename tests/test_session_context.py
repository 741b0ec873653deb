"""kat/session_context.py, and what a new session keeps: the open ticket's slots and a
recent crisis (carried over by Rasa's own action_session_start, which needs no action
server), and that action_handoff sets them."""

from __future__ import annotations

import time
from typing import Any, Dict

import yaml

from actions.handoff import ActionHandoff
from kat.handoff_store import HandoffStore
from kat.session_context import CRISIS_MEMORY_HOURS, remembers_crisis
from tests.conftest import ROOT, make_tracker


def test_a_crisis_is_remembered_for_the_memory_window_only() -> None:
    now = 1_800_000_000.0
    assert remembers_crisis(now - 60, now)
    assert remembers_crisis(now - (CRISIS_MEMORY_HOURS * 3600 - 1), now)
    assert not remembers_crisis(now - (CRISIS_MEMORY_HOURS * 3600 + 1), now)
    assert not remembers_crisis(None, now)
    assert not remembers_crisis("not a time", now)
    assert not remembers_crisis(now + 3600, now)  # a clock that jumped back


def test_new_sessions_keep_the_slots_and_no_contact_detail_survives_the_form() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert domain["session_config"]["carry_over_slots_to_new_session"] is True
    # Rasa's own action_session_start: nothing of the project's runs at a new session.
    assert "action_session_start" not in domain["actions"]
    for slot in ("handoff_active", "handoff_ticket_id", "handoff_urgent", "crisis_at"):
        assert slot in domain["slots"], slot


async def run_handoff(intent: str, text: str) -> Dict[str, Any]:
    from rasa_sdk.executor import CollectingDispatcher

    tracker = make_tracker(text=text, intent=intent, sender_id="rest:session-test")
    events = await ActionHandoff().run(CollectingDispatcher(), tracker, domain={})
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_a_crisis_ticket_sets_what_later_sessions_remember(
    temp_store: HandoffStore,
) -> None:
    before = time.time()
    slots = await run_handoff("crisis", "i want to end it tonight")
    assert slots["handoff_active"] is True and slots["handoff_urgent"] is True
    assert before <= slots["crisis_at"] <= time.time()


async def test_an_ordinary_ticket_sets_no_crisis(temp_store: HandoffStore) -> None:
    slots = await run_handoff("request_human", "can i talk to a person")
    assert slots["handoff_active"] is True and slots["handoff_urgent"] is False
    assert "crisis_at" not in slots
