"""Whose condition is it: self, negated or someone else (kat/mentions.py)."""

from __future__ import annotations

import pytest

from kat.mentions import NEGATED, OTHER, SELF, mention_role


def role(text: str, term: str) -> str:
    tokens = text.lower().replace(",", " ,").split()
    term_tokens = term.split()
    for i in range(len(tokens)):
        if tokens[i : i + len(term_tokens)] == term_tokens:
            return mention_role(tokens, i, i + len(term_tokens))
    raise AssertionError(f"{term!r} not in {text!r}")


@pytest.mark.parametrize(
    "text,term,expected",
    [
        ("i have high blood pressure", "high blood pressure", SELF),
        ("i have never had psychosis", "psychosis", NEGATED),
        ("no heart problems here", "heart problems", NEGATED),
        ("my brother has heart problems", "heart problems", OTHER),
        ("heart disease runs in my family", "heart disease", OTHER),
        ("my mom and i both have afib", "afib", SELF),
        ("my dad had a heart attack , but i have afib", "afib", SELF),
        ("i don't think i have bipolar", "bipolar", SELF),
    ],
)
def test_roles(text: str, term: str, expected: str) -> None:
    assert role(text, term) == expected
