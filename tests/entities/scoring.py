"""Precision and recall of the medical-term extraction on the held-out entity set.

tests/entities/entity_test.yml was written apart from content/spacy/entities.yml. The
extraction scored here is exactly what components/clinical_entities.py reports: the
project's spaCy pipeline (EntityRuler) for the terms, kat/mentions.py for the roles.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, List, Tuple

import yaml

from kat.mentions import mention_role
from kat.paths import spacy_pipeline_dir

HERE = Path(__file__).resolve().parent

Key = Tuple[str, str, str]


@dataclass
class EntityScores:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    errors: List[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positive + self.false_negative
        return self.true_positive / wanted if wanted else 1.0

    def line(self, title: str) -> str:
        return (
            f"{title}: precision {self.precision:.3f}, recall {self.recall:.3f} "
            f"(tp {self.true_positive}, fp {self.false_positive}, fn {self.false_negative})"
        )


def load_messages() -> List[dict]:
    return list(yaml.safe_load((HERE / "entity_test.yml").read_text())["messages"])


def extract(nlp: Any, text: str) -> List[Key]:
    doc = nlp(text.lower())
    tokens = [token.lower_ for token in doc]
    terms = {i for ent in doc.ents for i in range(ent.start, ent.end)}
    return [
        (ent.label_, ent.ent_id_, mention_role(tokens, ent.start, ent.end, None, terms))
        for ent in doc.ents
    ]


def score(messages: Iterable[dict], with_roles: bool) -> EntityScores:
    import spacy

    nlp = spacy.load(spacy_pipeline_dir())
    scores = EntityScores()
    for message in messages:
        expected = Counter(
            (e["label"], e["id"], e["role"] if with_roles else "")
            for e in message.get("entities") or []
        )
        found = Counter(
            (label, ident, role if with_roles else "")
            for label, ident, role in extract(nlp, message["text"])
        )
        tp = sum((expected & found).values())
        scores.true_positive += tp
        scores.false_positive += sum(found.values()) - tp
        scores.false_negative += sum(expected.values()) - tp
        if expected != found:
            scores.errors.append(
                f"{message['text']!r}: missing {sorted((expected - found).elements())}, "
                f"extra {sorted((found - expected).elements())}"
            )
    return scores
