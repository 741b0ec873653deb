"""Does a message name something the clinic's sheet does not cover?

Applies content/not_covered.yml (its header explains why): conditions, therapies, routes
and research the sheet says nothing about. The safety gate (components/safety_gate.py)
turns a general question that names one into ``not_covered``, so it is never answered
with the nearest FAQ topic. No Rasa imports.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import yaml

from kat.normalise import (
    FoldingNormaliser,
    Normaliser,
    default_normaliser,
    folding_normaliser,
)
from kat.paths import content_dir, language_content
from kat.pattern_dsl import IndexedMatcher, blank_english, compile_pattern, doc_for


class CoverageChecker:
    def __init__(
        self,
        config: Dict[str, Any],
        normaliser: Optional[Union[Normaliser, FoldingNormaliser]] = None,
    ) -> None:
        self.normalise = normaliser or default_normaliser()
        self.nlp = blank_english()
        self.matcher = IndexedMatcher(self.nlp.vocab)
        for group, lines in (config.get("concepts") or {}).items():
            for i, line in enumerate(lines or []):
                self.matcher.add(f"{group}|{i}", compile_pattern(line))

    @classmethod
    def from_file(cls, path: Optional[Path] = None) -> CoverageChecker:
        path = path or content_dir() / "not_covered.yml"
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle))

    def uncovered(self, text: str) -> List[str]:
        """The groups of the concepts the message names that the sheet does not cover."""
        doc = doc_for(self.nlp, self.normalise, text)
        strings = self.nlp.vocab.strings
        return sorted(
            {strings[match_id].split("|")[0] for match_id, _, _ in self.matcher(doc)}
        )


@lru_cache(maxsize=1)
def default_coverage() -> CoverageChecker:
    return CoverageChecker.from_file()


@lru_cache(maxsize=4)
def coverage_for(language: str) -> CoverageChecker:
    """English, or content/not_covered_<language>.yml (folded like that language's
    crisis patterns); the English one where a language has none."""
    path = language_content("not_covered", language)
    if path is None:
        return default_coverage()
    with open(path, encoding="utf-8") as handle:
        return CoverageChecker(
            yaml.safe_load(handle), normaliser=folding_normaliser(language)
        )
