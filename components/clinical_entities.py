"""Medical entities with canonical ids and roles, from the project's spaCy pipeline.

Replaces Rasa's SpacyEntityExtractor: the EntityRuler in build/spacy/kat_en (built from
content/spacy/entities.yml) finds the terms; this component reports each one with its
canonical id as the value ("high blood pressure", "HTN" -> ``hypertension``), the words
the patient used as ``text``, and a role — ``self``, ``negated`` or ``other`` — from
kat/mentions.py ("I've never had psychosis", "my brother has heart problems"), with the
rules of the language the message shows ("mi papá tuvo un infarto").
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_ROLE,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from kat.mentions import mention_role, rules_for_text


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class ClinicalEntityExtractor(GraphComponent):
    @staticmethod
    def required_components() -> List[type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"dimensions": ["CONDITION", "MEDICATION", "SUBSTANCE"]}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.config = {**self.get_default_config(), **config}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ClinicalEntityExtractor:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            doc = message.get(SPACY_DOCS[TEXT])
            if doc is None:
                continue
            found = self.entities(doc)
            if found:
                message.set(
                    ENTITIES, (message.get(ENTITIES) or []) + found, add_to_output=True
                )
        return messages

    def entities(self, doc: Any) -> List[Dict[Text, Any]]:
        if not doc.ents:
            return []
        tokens = [token.lower_ for token in doc]
        rules = rules_for_text(doc.text)
        term_tokens = {i for ent in doc.ents for i in range(ent.start, ent.end)}
        result = []
        for ent in doc.ents:
            if ent.label_ not in self.config["dimensions"]:
                continue
            result.append(
                {
                    ENTITY_ATTRIBUTE_TYPE: ent.label_,
                    ENTITY_ATTRIBUTE_VALUE: ent.ent_id_ or ent.text,
                    ENTITY_ATTRIBUTE_START: ent.start_char,
                    ENTITY_ATTRIBUTE_END: ent.end_char,
                    ENTITY_ATTRIBUTE_ROLE: mention_role(
                        tokens, ent.start, ent.end, rules, term_tokens
                    ),
                    ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
                    EXTRACTOR: self.__class__.__name__,
                }
            )
        return result
