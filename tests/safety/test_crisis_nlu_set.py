"""tests/safety/crisis_nlu.yml stays a set the patterns alone do not decide.

Each message must be missed by the reviewed crisis patterns in every language the gate
reads, and carry a risk word (without one the NLU path does not count it). The real
assistant's answer to each is checked in tests/safety/test_safety_suite.py.
"""

from __future__ import annotations

from typing import List

import pytest

from components.safety_gate import SafetyGate
from kat.crisis import assess_languages, default_detector
from tests.safety.suite import load
from tests.test_safety_gate import shipped_config

LANGUAGES = SafetyGate(shipped_config()).config["crisis_languages"]


def messages() -> List[str]:
    return [str(text) for text in load("crisis_nlu.yml")]


def test_the_set_is_big_enough() -> None:
    assert len(messages()) >= 15


@pytest.mark.parametrize("text", messages())
def test_the_patterns_alone_miss_it_and_it_has_a_risk_word(text: str) -> None:
    english = default_detector()
    found, _ = assess_languages(text, english, LANGUAGES, other_language=False)
    assert not found.is_crisis, "a pattern catches it now: move it to crisis.yml"
    assert english.has_risk_words(text)
