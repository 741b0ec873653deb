"""Which conversation language a message shows, and requests to change it
(kat/language_choice.py with content/language.yml)."""

from __future__ import annotations

import pytest

from kat.input_check import default_checker
from kat.language_choice import LanguageChoice, default_chooser, fold


def choose(text: str) -> LanguageChoice:
    return default_chooser().choose(text, default_checker().check(text))


@pytest.mark.parametrize(
    "text",
    [
        "hola",
        "gracias",
        "sí claro",
        "cuanto cuesta?",
        "que es la ketamina y como funciona",
        "me pueden dar una cita para el lunes",
        "tengo tdah y quiero saber si esto me sirve",
    ],
)
def test_spanish_messages_are_spanish(text: str) -> None:
    assert choose(text) == LanguageChoice("es")


@pytest.mark.parametrize(
    "text", ["what is ketamine", "is it safe", "can i talk to a person please"]
)
def test_english_messages_are_english(text: str) -> None:
    assert choose(text) == LanguageChoice("en")


@pytest.mark.parametrize("text", ["ok", "2", "👍", "Jane Doe", "+1 415 555 0100"])
def test_messages_that_show_no_language_keep_the_conversations(text: str) -> None:
    assert choose(text).language is None


@pytest.mark.parametrize(
    "text, language",
    [
        ("English please", "en"),
        ("¿me puede contestar en inglés?", "en"),
        ("¿Hablan español?", "es"),
        ("do you speak spanish", "es"),
        ("en español por favor", "es"),
    ],
)
def test_requests_to_change_language(text: str, language: str) -> None:
    assert choose(text) == LanguageChoice(language, switch=True)


@pytest.mark.parametrize(
    "text",
    ["Bonjour, je voudrais un rendez-vous", "Hallo, macht Ketamin süchtig?", "你好"],
)
def test_other_languages_are_not_conversation_languages(text: str) -> None:
    assert choose(text).language is None


def test_fold_drops_case_accents_and_punctuation() -> None:
    assert fold("¿En ESPAÑOL, por favor?") == "en espanol por favor"
