"""Turn the reviewed term list (content/spacy/entities.yml) into spaCy EntityRuler patterns.

Pure: no spaCy import here, so the conversion is testable and cheap. A phrase is split
into tokens the way spaCy's English tokenizer would split plain words and hyphens;
``scripts/build_spacy_pipeline.py`` uses spaCy's own tokenizer for the real build.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List

import yaml

from kat.paths import content_dir

ALLOWED_LABELS = ("CONDITION", "MEDICATION", "SUBSTANCE")


@dataclass(frozen=True)
class TermEntry:
    label: str
    canonical_id: str
    phrase: str


class TermListError(ValueError):
    """The term list is malformed; the message says where."""


def load_term_list(path: Path | None = None) -> Dict[str, Dict[str, List[str]]]:
    path = path or content_dir() / "spacy" / "entities.yml"
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    labels = raw.get("labels")
    if not isinstance(labels, dict) or not labels:
        raise TermListError(f"{path}: needs a non-empty 'labels' mapping")
    result: Dict[str, Dict[str, List[str]]] = {}
    for label, ids in labels.items():
        if label not in ALLOWED_LABELS:
            raise TermListError(f"{path}: unknown label {label!r}")
        if not isinstance(ids, dict) or not ids:
            raise TermListError(f"{path}: label {label} needs canonical ids")
        result[label] = {}
        for canonical_id, phrases in ids.items():
            if not isinstance(phrases, list) or not phrases:
                raise TermListError(f"{path}: {label}/{canonical_id} has no phrases")
            cleaned = [str(p).strip().lower() for p in phrases]
            if any(not p for p in cleaned):
                raise TermListError(f"{path}: {label}/{canonical_id} has an empty phrase")
            result[label][str(canonical_id)] = cleaned
    return result


def iter_terms(terms: Dict[str, Dict[str, List[str]]]) -> Iterator[TermEntry]:
    for label, ids in terms.items():
        for canonical_id, phrases in ids.items():
            for phrase in phrases:
                yield TermEntry(label, canonical_id, phrase)


def find_ambiguous_phrases(
    terms: Dict[str, Dict[str, List[str]]]
) -> Dict[str, List[str]]:
    """Phrases listed under more than one canonical id (a review error)."""
    seen: Dict[str, List[str]] = {}
    for entry in iter_terms(terms):
        seen.setdefault(entry.phrase, []).append(f"{entry.label}/{entry.canonical_id}")
    return {phrase: owners for phrase, owners in seen.items() if len(owners) > 1}
