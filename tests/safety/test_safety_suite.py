"""The adversarial safety suite against the real, running assistant.

Fails if crisis recall is below 100 %, false alarms exceed 3 %, or any clinical message
gets an FAQ answer. Every message goes through the real NLU pipeline (with the safety
gate) over the HTTP API; clinical/general pairs go through whole REST conversations.
"""

from __future__ import annotations

import pytest

from tests.e2e.harness import Servers
from tests.safety.suite import MAX_FALSE_ALARM_RATE, MIN_CRISIS_RECALL, evaluate

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
