"""Whose condition is it: self, negated or someone else (kat/mentions.py)."""

from __future__ import annotations

import pytest

from kat.mentions import (
    NEGATED,
    OTHER,
    SELF,
    default_mention_rules,
    mention_role,
    rules_for_text,
)


def role(text: str, term: str, language: str = "en") -> str:
    tokens = text.lower().replace(",", " ,").split()
    term_tokens = term.split()
    rules = default_mention_rules(language)
    for i in range(len(tokens)):
        if tokens[i : i + len(term_tokens)] == term_tokens:
            return mention_role(tokens, i, i + len(term_tokens), rules)
    raise AssertionError(f"{term!r} not in {text!r}")


@pytest.mark.parametrize(
    "language,text,term,expected",
    [
        ("en", "i have high blood pressure", "high blood pressure", SELF),
        ("en", "i have never had psychosis", "psychosis", NEGATED),
        ("en", "no heart problems here", "heart problems", NEGATED),
        ("en", "my brother has heart problems", "heart problems", OTHER),
        ("en", "heart disease runs in my family", "heart disease", OTHER),
        ("en", "my mom and i both have afib", "afib", SELF),
        ("en", "my dad had a heart attack , but i have afib", "afib", SELF),
        ("en", "i don't think i have bipolar", "bipolar", SELF),
        ("es", "tengo la presión alta", "presión alta", SELF),
        ("es", "nunca he tenido psicosis", "psicosis", NEGATED),
        ("es", "no tengo problemas del corazón", "problemas del corazón", NEGATED),
        ("es", "mi papá tuvo un infarto", "infarto", OTHER),
        ("es", "mi hermana tiene esquizofrenia", "esquizofrenia", OTHER),
        ("es", "la epilepsia es de familia", "epilepsia", OTHER),
        ("es", "mi mamá tuvo un infarto , pero yo tengo arritmia", "arritmia", SELF),
        ("es", "soy mujer y tengo arritmia", "arritmia", SELF),
        # "y" does not carry a negation on: the second condition is the writer's.
        ("es", "no tengo diabetes y tengo arritmia", "arritmia", SELF),
        ("es", "no sé si tengo psicosis", "psicosis", SELF),
    ],
)
def test_roles(language: str, text: str, term: str, expected: str) -> None:
    assert role(text, term, language) == expected


def test_the_rules_follow_the_language_the_message_shows() -> None:
    assert rules_for_text("mi papá tuvo un infarto el año pasado") == (
        default_mention_rules("es")
    )
    assert rules_for_text("my dad had a heart attack last year") == (
        default_mention_rules("en")
    )
    # English rules read "he" as someone else; Spanish "he tenido" is the writer.
    assert default_mention_rules("es") != default_mention_rules("en")
