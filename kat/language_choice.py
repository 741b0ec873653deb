"""Which of the assistant's languages a message is in, and "English please" / "en español".

Pure helper (no Rasa). The safety gate (components/safety_gate.py) asks it for every
readable message and tells Rasa through the entity ``language`` (slot ``language``,
domain.yml), so the conversation's language is the latest one a message showed clearly;
a message that shows none ("ok", "2", "gracias"? — that one is Spanish) keeps it. The
reply generator (components/profile_nlg.py) then answers in it.

Reads content/language.yml: ``conversation_languages`` (the languages with replies),
``switch_to`` (requests to change, matched on folded text) and the word lists that
kat/input_check.py uses (a message another language's words dominate is that language).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import yaml

from kat.input_check import (
    OTHER_LANGUAGE,
    READABLE,
    InputCheck,
    english_evidence,
    fold_word,
)
from kat.paths import content_dir

# kat/input_check.py's name for each conversation language's word list.
LIST_NAMES = {"es": "spanish"}
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def fold(text: str) -> str:
    """Lower case, no accents, one space between words: "¿En ESPAÑOL?" -> "en espanol"."""
    return " ".join(_WORD.findall(fold_word(text or "")))


@dataclass(frozen=True)
class LanguageChoice:
    language: Optional[str]  # "en", "es", or None: the message shows no language
    switch: bool = False  # the patient asked to change to ``language``


class LanguageChooser:
    def __init__(self, config: Dict) -> None:
        self.languages: List[str] = list(config.get("conversation_languages") or ["en"])
        self.switch_to: Dict[str, List[str]] = {
            language: [fold(p) for p in phrases or []]
            for language, phrases in (config.get("switch_to") or {}).items()
        }
        self.english = set(english_evidence(config))
        foreign = config.get("foreign_words") or {}
        self.words: Dict[str, set] = {
            code: {fold(w) for w in foreign.get(name) or []}
            for code, name in LIST_NAMES.items()
        }
        self.min_english = int(config.get("min_english_words", 2))

    @classmethod
    def from_file(cls, path: Optional[Path] = None) -> LanguageChooser:
        path = path or content_dir() / "language.yml"
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle) or {})

    def requested(self, text: str) -> Optional[str]:
        """The language the message asks to change to, if it is such a request."""
        folded = f" {fold(text)} "
        for language in self.languages:
            for phrase in self.switch_to.get(language) or []:
                if phrase and f" {phrase} " in folded:
                    return language
        return None

    def choose(self, text: str, readable: InputCheck) -> LanguageChoice:
        asked = self.requested(text)
        if asked:
            return LanguageChoice(asked, switch=True)
        if readable.kind == OTHER_LANGUAGE:
            for code, name in LIST_NAMES.items():
                if readable.language == name and code in self.languages:
                    return LanguageChoice(code)
        words: Sequence[str] = fold(text).split()
        for code, vocabulary in self.words.items():
            if code not in self.languages:
                continue
            own = sum(1 for w in words if w in vocabulary)
            english = sum(1 for w in words if w in self.english)
            # "gracias", "sí claro", "hola buenas": short, only that language's words.
            if own and not english and len(words) <= 3:
                return LanguageChoice(code)
        if readable.kind == READABLE:
            english = sum(1 for w in words if w in self.english)
            if english >= self.min_english:
                return LanguageChoice("en")
        return LanguageChoice(None)


@lru_cache(maxsize=4)
def _chooser(path: str) -> LanguageChooser:
    return LanguageChooser.from_file(Path(path))


def default_chooser() -> LanguageChooser:
    return _chooser(str(content_dir() / "language.yml"))
