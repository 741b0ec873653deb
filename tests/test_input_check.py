"""Which messages are another language or noise (kat/input_check.py, content/language.yml)."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
import yaml

from kat.crisis import detector_for
from kat.input_check import (
    EMPTY,
    NOISE,
    NUMBER,
    OTHER_LANGUAGE,
    READABLE,
    InputChecker,
    default_checker,
)
from kat.nlu_examples import nlu_examples

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def checker() -> InputChecker:
    return default_checker()


def _nlu_texts() -> List[str]:
    """The English training and held-out NLU examples."""
    texts: List[str] = []
    for folder in ("data/nlu", "tests/nlu"):
        for path in sorted((ROOT / folder).glob("*.yml")):
            texts.extend(nlu_examples(path))
    return texts


def _safety_texts() -> List[str]:
    """The English safety sets' messages (tests/safety/)."""
    texts: List[str] = []
    for path in sorted((ROOT / "tests" / "safety").glob("*.yml")):
        if path.stem.endswith("_es"):
            continue  # the Spanish crisis set (tests/test_crisis_detector.py)
        data = yaml.safe_load(path.read_text()) or {}
        for value in data.values() if isinstance(data, dict) else []:
            for item in value if isinstance(value, list) else []:
                text = item.get("text") if isinstance(item, dict) else item
                if isinstance(text, str):
                    texts.append(text)
    return texts


def _english_corpus() -> List[str]:
    return _nlu_texts() + _safety_texts()


def test_no_english_training_or_test_message_is_taken_for_another_language(
    checker: InputChecker,
) -> None:
    corpus = _english_corpus()
    assert len(corpus) > 1500  # the real sets, not an empty glob
    # The training data's few crisis messages in Spanish or French are answered by the
    # other-language crisis patterns, which run before this check (the safety gate).
    spanish = detector_for("es")
    wrong = [
        t
        for t in corpus
        if checker.check(t).kind == OTHER_LANGUAGE and not spanish.assess(t).is_crisis
    ]
    assert wrong == []


def test_english_messages_are_not_noise(checker: InputChecker) -> None:
    corpus = _english_corpus()
    noise = [t for t in corpus if checker.check(t).kind in (NOISE, EMPTY)]
    assert noise == []


@pytest.mark.parametrize(
    "text, language",
    [
        ("¿Qué es la ketamina?", "spanish"),
        ("que es la terapia con ketamina", "spanish"),
        ("Hola, necesito ayuda por favor", "spanish"),
        ("Quels sont les effets secondaires de la kétamine ?", "french"),
        ("Bonjour, je suis intéressé par le traitement", "french"),
        ("Was ist Ketamin und wie wirkt es bei ADHS?", "german"),
        ("Ich möchte mit jemandem sprechen", "german"),
        ("O que é a terapia com cetamina? Eu tenho TDAH", "portuguese"),
        ("Ciao, vorrei un appuntamento per il trattamento", "italian"),
        ("Что такое кетамин?", "non-latin"),
        ("氯胺酮是什么", "non-latin"),
        ("ما هو الكيتامين", "non-latin"),
        ("hola", "greeting"),
        ("dzień dobry", "greeting"),
        ("Kumusta po, may nagsasalita ba ng Tagalog?", "tagalog"),
        ("Goedemorgen, heeft iemand tijd om te spreken?", "dutch"),
        ("chào bạn, tôi cần giúp đỡ", "vietnamese"),
        # No list of its own: the letters English never writes decide.
        ("Dobrý večer, potřebuji pomoc s léčbou", "polish"),  # near enough
        (
            "Merhaba, tedavi ücreti ne kadar, doktorla görüşebilir miyim?",
            "marked-letters",
        ),
    ],
)
def test_other_languages_are_recognised(
    checker: InputChecker, text: str, language: str
) -> None:
    result = checker.check(text)
    assert (result.kind, result.language) == (OTHER_LANGUAGE, language)


@pytest.mark.parametrize(
    "text",
    [
        "what is ketamine?",
        "I want to talk to a person",
        "is KAT covered by insurance",
        "jane.doe@example.com",
        "Jane Doe",
        "ok",
        "What is la ketamina in English?",  # one foreign word is not a language
        "I want to die",  # "die" must never count as German
        "went to a café, felt naïve about the résumé thing",  # English borrows these
        "is the piñata party ok after a session",  # one marked word is not a language
        "tell em i cant make it, ban me if u want lol",
    ],
)
def test_english_and_answers_stay_readable(checker: InputChecker, text: str) -> None:
    assert checker.check(text).kind == READABLE


@pytest.mark.parametrize(
    "text, kind",
    [
        ("", EMPTY),
        ("   \n\t ", EMPTY),
        ("\x00\x01\x1b", EMPTY),
        ("👍👍", NOISE),
        ("?!?!", NOISE),
        ("<script>alert(1)</script>", NOISE),
        ('<img src=x onerror="alert(1)">', NOISE),
        ('{"message": "hi", "sender": "x"}', NOISE),
        ("javascript:alert(1)", NOISE),
        ("a" * 100_000, NOISE),
    ],
)
def test_empty_markup_and_noise(checker: InputChecker, text: str, kind: str) -> None:
    assert checker.check(text).kind == kind


@pytest.mark.parametrize(
    "text", ["2", "555-123-4567", "+1 415 555 8867", "(415) 555-8867", "+44 20 7946 0958"]
)
def test_numbers_are_numbers(checker: InputChecker, text: str) -> None:
    assert checker.check(text).kind == NUMBER


def test_thresholds_come_from_the_reviewed_file() -> None:
    strict = InputChecker(
        {"min_foreign_words": 5, "foreign_words": {"spanish": ["que", "es", "la"]}}
    )
    assert strict.check("que es la ketamina").kind == READABLE
    loose = InputChecker(
        {"min_foreign_words": 2, "foreign_words": {"spanish": ["que", "es", "la"]}}
    )
    assert loose.check("que es la ketamina").kind == OTHER_LANGUAGE
