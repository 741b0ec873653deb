"""Does a message name something the clinic's sheet does not cover?

Applies content/not_covered.yml (its header explains why): conditions, therapies, routes
and research the sheet says nothing about. The safety gate (components/safety_gate.py)
turns a general question that names one into ``not_covered``, so it is never answered
with the nearest FAQ topic. No Rasa imports.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from kat.normalise import Normaliser, default_normaliser
from kat.paths import content_dir
from kat.pattern_dsl import IndexedMatcher, blank_english, compile_pattern, doc_for


class CoverageChecker:
    def __init__(
        self, config: Dict[str, Any], normaliser: Optional[Normaliser] = None
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
