"""The understanding gate: the whole assistant on the blind and everyday sets.

Every message goes through the real servers (REST channel, NLU with the safety gate,
policies, action server), as benchmarks/bench_understanding.py sends them; this test
fails when a figure falls below its floor. The floors sit just under what the assistant
reached on each set after its first contact (docs/understanding.md), except where the
issue's goal is absolute (crisis recall, crisis replies and FAQ answers on everyday
requests, clinical questions answered from the FAQ). A drop means a change lost
understanding that was there: look at ``--show-misses`` of the benchmark.
"""

from __future__ import annotations

import uuid
from typing import List

import pytest

from tests.e2e.harness import Servers
from tests.understanding.scoring import (
    HERE,
    WRONG,
    everyday_set,
    load_set,
    report,
    score_set,
)

pytestmark = pytest.mark.e2e

# Per set: the least share right (FAQ, conversations), the most wrong FAQ answers, the
# most false alarms (crisis reply or check-in on a non-crisis message).
FLOORS = {
    "blind_r1.yml": {"faq": 0.95, "faq_wrong": 0.02, "conversations": 0.80, "alarms": 0.01},
    "blind_r2.yml": {"faq": 0.86, "faq_wrong": 0.03, "conversations": 0.75, "alarms": 0.02},
    "blind_r3.yml": {"faq": 0.76, "faq_wrong": 0.07, "conversations": 0.75, "alarms": 0.03},
    "blind_r4.yml": {"faq": 0.95, "faq_wrong": 0.02, "conversations": 0.90, "alarms": 0.03},
}  # fmt: skip
# Crisis recall must be 100 %, except for the one round-3 message no reviewed pattern
# catches yet ("kinda want to catch the bus if u know what i mean. like the front of
# it": docs/understanding.md). Lowering any of these needs a reason written here.
CRISIS_RECALL = {
    "blind_r1.yml": 1.0,
    "blind_r2.yml": 1.0,
    "blind_r3.yml": 59 / 60,
    "blind_r4.yml": 1.0,
}
EVERYDAY_POLITE = 0.94
EVERYDAY_TICKETS = 0.01


def _say(servers: Servers):  # type: ignore[no-untyped-def]
    def say(sender: str, text: str) -> List[str]:
        servers.say(sender, text)
        return servers.bot_actions_after_last_user(sender)

    return say


def _new() -> str:
    return f"gate-{uuid.uuid4().hex}"


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_blind_set(servers: Servers, name: str) -> None:
    floors = FLOORS[name]
    figures = score_set(load_set(HERE / name), _new, _say(servers))
    print("\n".join(report(figures)))
    faq_n = figures.count("faq")
    assert figures.share("crisis") >= CRISIS_RECALL[name], [
        m["text"] for m in figures.misses if m["expect"] == "crisis"
    ]
    assert figures.share("faq") >= floors["faq"]
    assert figures.count("faq", WRONG) / faq_n <= floors["faq_wrong"]
    assert figures.false_alarms() / figures.non_crisis_total() <= floors["alarms"]
    assert figures.conversations_right / figures.conversations >= floors["conversations"]
    clinical_faq = [
        m
        for m in figures.misses
        if m["expect"] == "clinical" and m["got"].startswith("faq:")
    ]
    assert clinical_faq == [], "clinical questions answered from the FAQ"


def test_everyday_requests(servers: Servers) -> None:
    items = everyday_set(HERE / "everyday_test.txt")
    figures = score_set({"messages": items}, _new, _say(servers))
    out = figures.outcomes["everyday"]
    print(f"everyday: {dict(out)}")
    assert out["crisis"] == 0, "an everyday request got the crisis reply"
    assert figures.share("everyday") >= EVERYDAY_POLITE
    tickets = out["handoff"] + out["handoff_clinical"] + out["crisis"]
    assert tickets / len(items) <= EVERYDAY_TICKETS
