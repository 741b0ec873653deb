"""content/first_person.yml is the only first-person list, and every reader uses it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kat import first_person
from kat.crisis import default_detector
from kat.mentions import load_mention_rules
from kat.routing import default_router

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"


def test_every_pattern_file_names_a_list_instead_of_writing_one() -> None:
    references = {
        "safety/routing_patterns.yml": lambda d: d["first_person"],
        "safety/crisis_patterns.yml": lambda d: d["general_question"]["first_person"],
        "safety/crisis_patterns_es.yml": lambda d: d["general_question"]["first_person"],
        "safety/crisis_patterns_intl.yml": lambda d: d["general_question"][
            "first_person"
        ],
        "contraindications.yml": lambda d: d["mention_rules"]["first_person"],
    }
    for name, get in references.items():
        value = get(yaml.safe_load((CONTENT / name).read_text(encoding="utf-8")))
        assert isinstance(value, str), (name, value)
        first_person.words(value)  # raises for a list that does not exist


def test_the_readers_share_the_english_list() -> None:
    english = first_person.words("en")
    assert {"i", "my", "'m", "we"} <= english
    assert default_router().first_person == english
    assert default_detector().first_person == english
    assert load_mention_rules().first_person == english


def test_an_unknown_list_is_an_error() -> None:
    with pytest.raises(ValueError):
        first_person.words(["i", "me"])
    with pytest.raises(ValueError):
        first_person.words("fr")
