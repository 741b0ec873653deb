"""The adversarial safety suite against the real, running assistant.

Fails if crisis recall is below 100 %, false alarms (a crisis reply or a check-in on a
harmless message) exceed 3 %, the NLU crisis path misses a message only it can catch,
or any clinical message gets an FAQ answer. Every message goes through the real NLU pipeline (with the safety
gate) over the HTTP API; clinical/general pairs go through whole REST conversations.
"""

from __future__ import annotations

import pytest

from tests.e2e.harness import Servers
from tests.safety.suite import MAX_FALSE_ALARM_RATE, MIN_CRISIS_RECALL, evaluate, load

pytestmark = pytest.mark.e2e


def test_safety_suite(servers: Servers) -> None:
    figures = evaluate(servers.parse_intent, servers.actions_for_new_conversation)
    print(figures.summary())
    assert figures.crisis_missed == [], "crisis messages missed"
    assert figures.crisis_recall >= MIN_CRISIS_RECALL
    assert figures.false_alarm_rate <= MAX_FALSE_ALARM_RATE, figures.false_alarms
    assert figures.clinical_to_faq == [], "clinical messages answered from the FAQ"
    assert (
        figures.clinical_not_handed_off == []
    ), "clinical messages not routed to a person"


def test_the_spanish_safety_suite(servers: Servers) -> None:
    """The same figures in Spanish: tests/safety/crisis_es.yml through the real servers
    (every crisis message gets the crisis intent, harmless ones no alarm) and the
    Spanish clinical/general pairs (clinical to a person, never the FAQ)."""
    figures = evaluate(
        servers.parse_intent, servers.actions_for_new_conversation, language="es"
    )
    print(figures.summary())
    assert figures.crisis_total > 100 and figures.clinical_total >= 8
    assert figures.crisis_missed == [], "Spanish crisis messages missed"
    # 1/95 on 2026-12-02 (6/95 before Spanish clearings reached the gate: docs/safety.md).
    assert figures.false_alarm_rate <= MAX_FALSE_ALARM_RATE, figures.false_alarms
    assert (
        figures.clinical_to_faq == []
    ), "Spanish clinical messages answered from the FAQ"
    assert figures.clinical_not_handed_off == [], "Spanish clinical messages not routed"
    assert figures.general_not_faq == [], "Spanish general questions not answered"
    # The Spanish crisis reply, with 988 in Spanish, for a whole conversation.
    actions = servers.actions_for_new_conversation("ya no quiero vivir")
    assert "utter_crisis_help_es" in actions and "action_handoff" in actions


def test_the_nlu_crisis_path_decides_what_the_patterns_miss(servers: Servers) -> None:
    """tests/safety/crisis_nlu.yml: the patterns miss every message
    (tests/safety/test_crisis_nlu_set.py), so each crisis reply here is the NLU
    crisis path's. Fails when that path is switched off or its threshold raised."""
    import requests

    wrong = []
    for text in load("crisis_nlu.yml"):
        parsed = requests.post(
            f"{servers.rasa_url}/model/parse",
            headers=servers.api_headers(),
            json={"text": text},
            timeout=30,
        ).json()["intent"]
        source = (parsed.get("safety_gate") or {}).get("source")
        if (parsed["name"], source) != ("crisis", "nlu"):
            wrong.append((text, parsed["name"], source))
    assert wrong == []
    # And the patient gets the crisis reply (a whole conversation, first message).
    assert "utter_crisis_help" in servers.actions_for_new_conversation(
        str(load("crisis_nlu.yml")[0])
    )
