"""Precision and recall of the medical-term extraction on the held-out entity set.

tests/entities/entity_test.yml was written apart from content/spacy/entities.yml. The
extraction scored here is the assistant's own, not a copy of it: each message goes
through Rasa's SpacyNLP (the project's spaCy pipeline, lower-cased as config.yml has
it) and then components/clinical_entities.py, configured from config.yml, and the
entities that component reports are scored.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Tuple

import yaml

from kat.paths import PROJECT_ROOT, spacy_pipeline_dir

HERE = Path(__file__).resolve().parent
EXTRACTOR = "components.clinical_entities.ClinicalEntityExtractor"

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


def pipeline_config(name: str) -> Dict[str, Any]:
    """The settings config.yml gives the pipeline component ``name``."""
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    for item in config["pipeline"]:
        if item["name"] == name:
            return {key: value for key, value in item.items() if key != "name"}
    raise LookupError(f"config.yml has no {name} in its pipeline")


class Extraction:
    """Rasa's SpacyNLP and the project's ClinicalEntityExtractor, as config.yml sets
    them up (the spaCy pipeline from spacy_pipeline_dir(), which KAT_BUILD_DIR moves)."""

    def __init__(self) -> None:
        from rasa.nlu.utils.spacy_utils import SpacyNLP

        from components.clinical_entities import ClinicalEntityExtractor

        spacy_config = {
            **SpacyNLP.get_default_config(),
            **pipeline_config("SpacyNLP"),
            "model": str(spacy_pipeline_dir()),
        }
        self.model = SpacyNLP.load_model(spacy_config["model"])
        self.spacy_nlp = SpacyNLP(self.model, spacy_config)
        self.extractor = ClinicalEntityExtractor(pipeline_config(EXTRACTOR))

    def __call__(self, text: str) -> List[Key]:
        from rasa.shared.nlu.constants import ENTITIES, TEXT
        from rasa.shared.nlu.training_data.message import Message

        message = Message({TEXT: text})
        self.spacy_nlp.process([message], self.model)
        self.extractor.process([message])
        return [
            (entity["entity"], entity["value"], entity["role"])
            for entity in message.get(ENTITIES) or []
            if entity.get("extractor") == "ClinicalEntityExtractor"
        ]


def score(messages: Iterable[dict], with_roles: bool) -> EntityScores:
    extract = Extraction()
    scores = EntityScores()
    for message in messages:
        expected = Counter(
            (e["label"], e["id"], e["role"] if with_roles else "")
            for e in message.get("entities") or []
        )
        found = Counter(
            (label, ident, role if with_roles else "")
            for label, ident, role in extract(message["text"])
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
