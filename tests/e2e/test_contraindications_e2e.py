"""Contraindication questions end to end: entities with roles, the action's answer."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.harness import Servers, texts

pytestmark = pytest.mark.e2e

CLEARANCE = re.compile(r"you(?:'re| are) (?:eligible|safe|fine|cleared)|you can do", re.I)


def ask(servers: Servers, text: str) -> str:
    sender = f"contra-{uuid.uuid4().hex}"
    reply = texts(servers.say(sender, text))
    # The action's answer goes out as domain.yml's utter_contraindication_answer.
    assert servers.bot_actions_after_last_user(sender) == [
        "action_check_contraindications",
        "utter_contraindication_answer",
    ]
    assert "Only a clinician can decide" in reply or "Which condition" in reply
    assert not CLEARANCE.search(reply)
    return reply


def test_listed_condition_in_lay_terms(servers: Servers) -> None:
    reply = ask(
        servers, "i was diagnosed with schizophrenia years ago, can i still do kat?"
    )
    assert "lists active psychosis" in reply


def test_unlisted_condition_is_never_cleared(servers: Servers) -> None:
    reply = ask(servers, "i have high blood pressure, can i do ketamine therapy?")
    assert "High blood pressure is not on the general list" in reply


def test_family_history_draws_no_conclusion(servers: Servers) -> None:
    reply = ask(servers, "my dad had a heart attack, does that rule me out of ketamine?")
    assert "can't draw any conclusion" in reply


def test_general_question_gets_the_sheet_list(servers: Servers) -> None:
    reply = ask(servers, "what are the contraindications for ketamine?")
    assert "active psychosis" in reply and "certain heart conditions" in reply
