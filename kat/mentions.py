"""Whose condition is a medical term about? "self", "negated" or "other".

Rules are reviewed data (``mention_rules`` in content/contraindications.yml, and its
``es:`` block's ``mention_rules`` for a message in Spanish: "mi papá tuvo un infarto",
"nunca he tenido psicosis"). Works on a list of lower-case tokens and the token span of
the term, so it serves the Rasa entity component (spaCy tokens) and tests alike. No Rasa
imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import AbstractSet, Any, Dict, List, Optional, Sequence

import yaml

from kat import first_person
from kat.input_check import default_checker, fold_word
from kat.language_choice import default_chooser, fold
from kat.paths import content_dir

SELF = "self"
NEGATED = "negated"
OTHER = "other"


@dataclass(frozen=True)
class MentionRules:
    negation_cues: frozenset[str]
    window: int
    bridges: frozenset[str]
    other_people: frozenset[str]
    first_person: frozenset[str]
    clause_breaks: frozenset[str]
    other_after: tuple[tuple[str, ...], ...]
    fold_accents: bool = False  # Spanish lists are written without accents

    @classmethod
    def from_config(cls, config: Dict[str, Any]) -> MentionRules:
        def words(key: str) -> frozenset[str]:
            return frozenset(str(w).lower() for w in config[key])

        return cls(
            negation_cues=words("negation_cues"),
            window=int(config["window"]),
            bridges=words("bridges"),
            other_people=words("other_people"),
            first_person=first_person.words(config["first_person"]),
            clause_breaks=words("clause_breaks"),
            other_after=tuple(tuple(p.lower().split()) for p in config["other_after"]),
            fold_accents=bool(config.get("fold_accents", False)),
        )


def load_mention_rules(path: Optional[Path] = None, language: str = "en") -> MentionRules:
    """The rules of ``language``: its block's ``mention_rules``, else the English ones."""
    path = path or content_dir() / "contraindications.yml"
    with open(path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    own = (config.get(language) or {}).get("mention_rules") if language != "en" else None
    return MentionRules.from_config(own or config["mention_rules"])


@lru_cache(maxsize=4)
def default_mention_rules(language: str = "en") -> MentionRules:
    return load_mention_rules(language=language)


@lru_cache(maxsize=1)
def _language_words() -> tuple[frozenset[str], frozenset[str]]:
    """Words only English or only Spanish has, from the language file and the rules:
    built once, read for every message with a medical term."""
    chooser = default_chooser()

    def vocabulary(rules: MentionRules) -> frozenset[str]:
        return (
            rules.negation_cues | rules.bridges | rules.other_people | rules.first_person
        )

    english = chooser.english | vocabulary(default_mention_rules("en"))
    spanish = chooser.words.get("es", set()) | vocabulary(default_mention_rules("es"))
    return frozenset(english - spanish), frozenset(spanish - english)


def rules_for_text(text: str) -> MentionRules:
    """The rules of the language the message shows: Spanish when kat/language_choice.py
    says so, or when more of its words belong only to Spanish (the language file's and
    these rules' own words: "nunca he tenido psicosis", "mi hermano tiene psicosis" are
    too short for the language check); English otherwise."""
    spanish = default_mention_rules("es")
    if default_chooser().choose(text, default_checker().check(text)).language == "es":
        return spanish
    only_english, only_spanish = _language_words()
    words = fold(text).split()
    own = sum(1 for w in words if w in only_spanish)
    other = sum(1 for w in words if w in only_english)
    return spanish if own > other else default_mention_rules("en")


def _negated(
    tokens: Sequence[str], start: int, rules: MentionRules, term_tokens: AbstractSet[int]
) -> bool:
    index = start - 1
    steps = 0
    while index >= 0 and steps < rules.window:
        token = tokens[index]
        if token in rules.negation_cues:
            return True
        if index in term_tokens:
            index -= 1  # another medical term in the same list does not count
            continue
        if token not in rules.bridges:
            return False
        index -= 1
        steps += 1
    return False


def _someone_else(
    tokens: Sequence[str], start: int, end: int, rules: MentionRules
) -> bool:
    # The nearest person word before the term, in its clause, says whose it is.
    for index in range(start - 1, -1, -1):
        token = tokens[index]
        if token in rules.clause_breaks:
            break
        if token in rules.first_person:
            break
        if token in rules.other_people:
            return True
    after: List[str] = []
    for token in tokens[end:]:
        if token in rules.clause_breaks:
            break
        after.append(token)
    return any(
        tuple(after[i : i + len(phrase)]) == phrase
        for phrase in rules.other_after
        for i in range(len(after))
    )


def mention_role(
    tokens: Sequence[str],
    start: int,
    end: int,
    rules: Optional[MentionRules] = None,
    term_tokens: AbstractSet[int] = frozenset(),
) -> str:
    """Role of the term ``tokens[start:end]``; tokens must be lower-case.

    ``term_tokens``: indexes of the message's other medical terms, which a negation
    reaches across ("never had glaucoma or epilepsy").
    """
    rules = rules or default_mention_rules()
    if rules.fold_accents:
        tokens = [fold_word(t) for t in tokens]
    if _someone_else(tokens, start, end, rules):
        return OTHER
    if _negated(tokens, start, rules, term_tokens):
        return NEGATED
    return SELF
