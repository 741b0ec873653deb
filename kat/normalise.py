"""Text normalisation shared by the safety pattern layers (content/safety/normalise.yml)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional

import yaml

from kat.input_check import fold_word
from kat.paths import content_dir, language_content

_REPEATS = re.compile(r"([a-z])\1{2,}")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "“": '"', "”": '"'})


class Normaliser:
    """Lower-case, straighten quotes, squeeze repeated letters, expand slang."""

    def __init__(self, words: Dict[str, str]) -> None:
        self._words = {str(k).lower(): str(v or "") for k, v in words.items()}
        alternation = "|".join(
            re.escape(k) for k in sorted(self._words, key=len, reverse=True)
        )
        self._word_re = re.compile(rf"(?<![\w'])({alternation})(?![\w'])")

    @classmethod
    def from_file(cls, path: Optional[Path] = None) -> Normaliser:
        path = path or content_dir() / "safety" / "normalise.yml"
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle)["words"])

    def __call__(self, text: str) -> str:
        text = (text or "").translate(_QUOTES).lower()
        text = _REPEATS.sub(r"\1\1", text)
        return self._word_re.sub(lambda m: self._words[m.group(1)], text)


@lru_cache(maxsize=1)
def default_normaliser() -> Normaliser:
    return Normaliser.from_file()


class FoldingNormaliser:
    """For the crisis patterns of other languages: lower-case, straighten quotes, drop
    accents ("más" -> "mas", "tomé" -> "tome"), squeeze repeated letters, then the
    pattern file's own texting spellings (``normalise:``, e.g. "q" -> "que",
    "kiero" -> "quiero"). Patterns are written without accents."""

    def __init__(self, words: Optional[Dict[str, str]] = None) -> None:
        self._words = Normaliser(words) if words else None

    def __call__(self, text: str) -> str:
        text = fold_word((text or "").translate(_QUOTES))
        text = _REPEATS.sub(r"\1\1", text)
        return self._words(text) if self._words else text


def folding_normaliser(language: str) -> FoldingNormaliser:
    """A conversation language's folding normaliser, with the texting spellings of its
    crisis pattern file (content/safety/crisis_patterns_<language>.yml, ``normalise:``):
    one list of them per language, for the crisis, routing and coverage patterns."""
    path = language_content("safety/crisis_patterns", language)
    words: Optional[Dict[str, str]] = None
    if path is not None:
        with open(path, encoding="utf-8") as handle:
            words = (yaml.safe_load(handle) or {}).get("normalise")
    return FoldingNormaliser(words)
