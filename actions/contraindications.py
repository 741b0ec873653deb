"""``action_check_contraindications``: what the clinic's sheet says about a condition.

Reads the medical mentions the NLU found (canonical ids and roles from
components/clinical_entities.py) and answers from content/contraindications.yml through
kat/contraindications.py. Never tells anyone they are eligible or safe.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from kat.contraindications import Mention, default_knowledge

_FIRST_PERSON = re.compile(r"\b(i|i'm|im|i've|ive|me|my|mine)\b")
PERSON_BUTTON = {"title": "Talk to a person", "payload": "/request_human"}


class ActionCheckContraindications(Action):
    def name(self) -> Text:
        return "action_check_contraindications"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Dict[Text, Any]]:
        text = str(tracker.latest_message.get("text") or "")
        mentions = [
            Mention(
                canonical_id=str(entity.get("value")),
                label=str(entity.get("entity")),
                role=str(entity.get("role") or "self"),
            )
            for entity in tracker.latest_message.get("entities") or []
            if entity.get("extractor") == "ClinicalEntityExtractor"
        ]
        knowledge = default_knowledge()
        answer = knowledge.answer(
            mentions,
            personal=bool(_FIRST_PERSON.search(text.lower())),
            minor=knowledge.mentions_minor(text),
        )
        dispatcher.utter_message(text=answer.text, buttons=[PERSON_BUTTON])
        return [SlotSet("contraindication_checked", True)]
