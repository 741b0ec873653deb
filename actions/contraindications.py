"""``action_check_contraindications``: what the clinic's sheet says about a condition.

Reads the medical mentions the NLU found (canonical ids and roles from
components/clinical_entities.py) and answers from content/contraindications.yml through
kat/contraindications.py. Never tells anyone they are eligible or safe.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from kat.contraindications import Mention, default_knowledge
from kat.routing import Router, router_for


@lru_cache(maxsize=2)
def _router(language: str) -> Router:
    """The routing's notion of a personal message (content/first_person.yml), as the
    safety gate uses it, in the conversation's language."""
    return router_for(language)


def mentions_in(parse_data: Dict[str, Any]) -> List[Mention]:
    """The medical terms the NLU found in one message (components/clinical_entities)."""
    return [
        Mention(
            canonical_id=str(entity.get("value")),
            label=str(entity.get("entity")),
            role=str(entity.get("role") or "self"),
        )
        for entity in parse_data.get("entities") or []
        if entity.get("extractor") == "ClinicalEntityExtractor"
    ]


def earlier_mentions(tracker: Tracker, lookback: int = 5) -> List[Mention]:
    """Terms from the patient's last few messages of this session, newest first."""
    session: List[Dict[str, Any]] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            session = []
        elif event.get("event") == "user":
            session.append(event)
    for event in reversed(session[-lookback - 1 : -1]):
        found = mentions_in(event.get("parse_data") or {})
        if found:
            return found
    return []


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
        mentions = mentions_in(tracker.latest_message)
        if not mentions:
            # "so can i do it?" after "i have afib": the condition named earlier in this
            # conversation is what the patient is asking about.
            mentions = earlier_mentions(tracker)
        knowledge = default_knowledge()
        language = str(tracker.get_slot("language") or "en")
        answer = knowledge.answer(
            mentions,
            personal=_router(language).is_personal(text),
            minor=knowledge.mentions_minor(text),
            language=language,
        )
        # domain.yml's utter_contraindication_answer: the reviewed answer, composed
        # from content/contraindications.yml, with the "Talk to a person" button.
        dispatcher.utter_message(
            response="utter_contraindication_answer", answer=answer.text
        )
        return [SlotSet("contraindication_checked", True)]
