"""components/clinical_entities.py: what the extractor reports for each term spaCy found.

Most tests give the component a small pipeline of their own (blank English and an
EntityRuler with a few patterns), so what is checked is the component's reporting, not
the term list. The last test runs the project's built pipeline through Rasa's SpacyNLP,
as the assistant does.
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
import spacy
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.clinical_entities import ClinicalEntityExtractor
from kat.paths import spacy_pipeline_dir

PATTERNS = [
    {"label": "CONDITION", "pattern": "high blood pressure", "id": "hypertension"},
    {"label": "CONDITION", "pattern": "htn", "id": "hypertension"},
    {"label": "CONDITION", "pattern": "psychosis", "id": "psychosis"},
    {"label": "CONDITION", "pattern": "psicosis", "id": "psychosis"},
    {"label": "CONDITION", "pattern": "glaucoma", "id": "glaucoma"},
    {"label": "MEDICATION", "pattern": "adderall", "id": "amphetamine"},
    {"label": "SUBSTANCE", "pattern": "weed"},  # no canonical id
    {"label": "ORG", "pattern": "clinic", "id": "clinic"},  # not a medical label
]


@pytest.fixture(scope="module")
def nlp() -> Any:
    pipeline = spacy.blank("en")
    ruler = pipeline.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(PATTERNS)  # type: ignore[attr-defined]
    return pipeline


def message_for(nlp: Any, text: str, entities: Any = None) -> Message:
    message = Message({TEXT: text})
    message.set(SPACY_DOCS[TEXT], nlp(text.lower()))
    if entities is not None:
        message.set(ENTITIES, entities)
    return message


def extract(nlp: Any, text: str, **config: Any) -> List[Dict[str, Any]]:
    [message] = ClinicalEntityExtractor(config).process([message_for(nlp, text)])
    return list(message.get(ENTITIES) or [])


def test_a_term_is_reported_with_its_canonical_id_span_and_extractor(nlp: Any) -> None:
    text = "I have High Blood Pressure and take adderall"
    first, second = extract(nlp, text)
    assert first["entity"] == "CONDITION" and first["value"] == "hypertension"
    assert text[first["start"] : first["end"]] == "High Blood Pressure"
    assert second["entity"] == "MEDICATION" and second["value"] == "amphetamine"
    assert text[second["start"] : second["end"]] == "adderall"
    for found in (first, second):
        assert found["extractor"] == "ClinicalEntityExtractor"
        assert found["confidence"] == 1.0
        assert found["role"] == "self"


def test_lay_terms_and_abbreviations_share_one_value(nlp: Any) -> None:
    values = {e["value"] for e in extract(nlp, "htn, i mean high blood pressure")}
    assert values == {"hypertension"}


def test_a_term_without_a_canonical_id_keeps_its_words(nlp: Any) -> None:
    [found] = extract(nlp, "i smoke weed most days")
    assert (found["entity"], found["value"]) == ("SUBSTANCE", "weed")


@pytest.mark.parametrize(
    "text, role",
    [
        ("i was diagnosed with psychosis", "self"),
        ("i've never had psychosis", "negated"),
        ("my brother has psychosis", "other"),
        # A message in Spanish gets the Spanish rules of content/contraindications.yml.
        ("mi hermano tiene psicosis", "other"),
        ("nunca he tenido psicosis", "negated"),
        ("tengo psicosis desde hace un año", "self"),
    ],
)
def test_the_role_says_whose_term_it_is(nlp: Any, text: str, role: str) -> None:
    [found] = extract(nlp, text)
    assert found["role"] == role


def test_a_negation_reaches_across_a_list_of_terms(nlp: Any) -> None:
    """The component passes the message's other terms to kat/mentions.py."""
    found = extract(nlp, "i have never had glaucoma or psychosis")
    assert [(e["value"], e["role"]) for e in found] == [
        ("glaucoma", "negated"),
        ("psychosis", "negated"),
    ]


def test_only_the_configured_dimensions_are_reported(nlp: Any) -> None:
    text = "the clinic said my htn and adderall are fine"
    assert {e["entity"] for e in extract(nlp, text)} == {"CONDITION", "MEDICATION"}
    only = extract(nlp, text, dimensions=["MEDICATION"])
    assert [e["value"] for e in only] == ["amphetamine"]


def test_entities_of_earlier_extractors_are_kept(nlp: Any) -> None:
    earlier = {"entity": "staff_message", "value": "x", "extractor": "Other"}
    message = message_for(nlp, "i take adderall", entities=[earlier])
    ClinicalEntityExtractor({}).process([message])
    assert [e["value"] for e in message.get(ENTITIES)] == ["x", "amphetamine"]


def test_a_message_without_terms_or_without_a_doc_is_left_alone(nlp: Any) -> None:
    plain = message_for(nlp, "what time do you open")
    no_doc = Message({TEXT: "i take adderall"})
    ClinicalEntityExtractor({}).process([plain, no_doc])
    assert plain.get(ENTITIES) is None and no_doc.get(ENTITIES) is None


@pytest.mark.skipif(not spacy_pipeline_dir().exists(), reason="pipeline not built yet")
def test_the_built_pipeline_through_rasas_spacy_nlp() -> None:
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    model = SpacyNLP.load_model(str(spacy_pipeline_dir()))
    message = Message({TEXT: "My dad has HTN but I've never had glaucoma"})
    SpacyNLP(model, SpacyNLP.get_default_config()).process([message], model)
    ClinicalEntityExtractor({}).process([message])
    found = [(e["value"], e["role"]) for e in message.get(ENTITIES)]
    assert found == [("hypertension", "other"), ("glaucoma", "negated")]
