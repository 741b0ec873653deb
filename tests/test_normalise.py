"""kat/normalise.py: the text every safety pattern layer reads.

Most cases use word lists of their own, so what is checked is the normaliser's rules;
the last ones use the reviewed list (content/safety/normalise.yml) the assistant loads.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kat.normalise import FoldingNormaliser, Normaliser, default_normaliser

WORDS = {"kms": "kill myself", "wanna": "want to", "im": "i'm", "cant": "can't"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I’M DONE", "i'm done"),  # curly apostrophe straightened, lower-cased
        ("‘this’ and “that” and `so`", "'this' and \"that\" and 'so'"),
        ("nooooo pleeease", "noo pleease"),  # 3+ repeats of a letter squeezed to two
        ("sooo", "soo"),
        ("too good", "too good"),  # two stay two
        ("1000000 mg!!!", "1000000 mg!!!"),  # only letters are squeezed
        ("", ""),
        (None, ""),
    ],
)
def test_case_quotes_and_repeated_letters(text: str, expected: str) -> None:
    assert Normaliser(WORDS)(text) == expected


def test_slang_is_expanded_as_whole_words_only() -> None:
    normalise = Normaliser(WORDS)
    assert normalise("kms") == "kill myself"
    assert normalise("i wanna, kms.") == "i want to, kill myself."
    assert normalise("Im fine") == "i'm fine"
    # Not inside other words, nor next to an apostrophe.
    assert normalise("him") == "him"
    assert normalise("cantaloupe") == "cantaloupe"
    assert normalise("I can't") == "i can't"
    assert normalise("'im'") == "'im'"


def test_longer_phrases_win_and_expansions_are_not_expanded_again() -> None:
    normalise = Normaliser({"wanna": "want to", "wanna die": "want to end it"})
    assert normalise("i wanna die") == "i want to end it"
    chained = Normaliser({"a": "b", "b": "c"})
    assert chained("a b") == "b c"  # one pass: the "b" made from "a" stays "b"


def test_keys_are_plain_text_and_case_insensitive() -> None:
    normalise = Normaliser({"ELI5": "simply", "a.b": "x"})
    assert normalise("eli5 please") == "simply please"
    assert normalise("axb a.b") == "axb x"  # "." is a dot, not any character


def test_an_empty_expansion_drops_the_word() -> None:
    words = yaml.safe_load("um:\n")  # an entry without a value: {"um": None}
    assert Normaliser(words)("well um ok") == "well  ok"


def test_repeated_letters_are_squeezed_before_the_words_are_looked_up() -> None:
    assert Normaliser(WORDS)("wannnna go") == "want to go"


def test_the_list_is_read_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "normalise.yml"
    path.write_text("version: 1\nwords:\n  pilz: pills\n", encoding="utf-8")
    assert Normaliser.from_file(path)("took the PILZ") == "took the pills"


def test_folding_drops_accents_then_expands_texting_spellings() -> None:
    fold = FoldingNormaliser({"q": "que", "kiero": "quiero"})
    assert fold("Quiero MORIR, más") == "quiero morir, mas"
    assert fold("q kíero tomé") == "que quiero tome"  # accents go before the lookup
    assert fold("ñandú") == "nandu"
    assert fold("Siiiiii") == "sii"
    assert fold("’q’") == "'q'"


def test_folding_without_spellings_only_folds() -> None:
    assert FoldingNormaliser()("Ça VA, q") == "ca va, q"
    assert FoldingNormaliser({})("Tomé") == "tome"
    assert FoldingNormaliser()(None) == ""  # type: ignore[arg-type]


def test_the_reviewed_list_expands_crisis_slang() -> None:
    normalise = default_normaliser()
    assert normalise is default_normaliser()  # loaded once
    assert normalise("KMS") == "kill myself"
    assert normalise("i tuk 2 menny pils") == "i took 2 many pills"
    assert normalise("sewer slide") == "suicide"
    assert normalise("explain like im 5") == "explain simply"  # the phrase, not "im"
