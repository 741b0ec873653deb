"""Response generator that fills ``{clinic_<key>}`` from the clinic profile.

It also completes ``utter_faq_unsure`` (an FAQ question the assistant is not sure how to
answer) and ``utter_not_covered`` (a question the sheet does not cover): the two topics
the FAQ selector found likeliest for the patient's message become buttons
(content/faq_topics.yml), before the reply's own "Talk to a person".

Configured in endpoints.yml (``nlg: type: components.profile_nlg.ClinicProfileNLG``). It is
Rasa's own templated generator plus the clinic profile as extra variables, so greeting,
clinic facts and emergency numbers come from content/clinic_profile.yml without the
action server: a clinic elsewhere edits one file, and a crisis reply never depends on a
second process being up.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from kat.clinic_profile import cached_profile, response_values
from kat.faq_topics import RETRIEVAL_INTENT, cached_topics, topic_buttons

# Replies that get the likeliest FAQ topics as buttons, before their own buttons: an FAQ
# question whose topic is unsure, and a question the sheet does not cover (the nearest
# topics it does cover).
TOPIC_BUTTON_RESPONSES = {"utter_faq_unsure", "utter_not_covered"}


class ClinicProfileNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's templated NLG with the clinic profile's values available to every reply."""

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        domain: Optional[Domain] = None,
    ) -> None:
        domain = domain or Domain.empty()
        super().__init__(domain.responses)
        self._profile_values = response_values(cached_profile())

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> Optional[Dict[str, Any]]:
        response = await super().generate(utter_action, tracker, output_channel, **kwargs)
        if response is not None and utter_action in TOPIC_BUTTON_RESPONSES:
            offered = topic_buttons(likely_topic_ranking(tracker), cached_topics())
            response = {
                **response,
                "buttons": offered + list(response.get("buttons") or []),
            }
        return response

    def generate_from_slots(
        self,
        utter_action: str,
        filled_slots: Dict[str, Any],
        output_channel: str,
        **kwargs: Any,
    ) -> Optional[Dict[str, Any]]:
        values = {**self._profile_values, **kwargs}
        return super().generate_from_slots(
            utter_action, filled_slots, output_channel, **values
        )


def likely_topic_ranking(tracker: DialogueStateTracker) -> List[Dict[str, Any]]:
    """The FAQ selector's ranking for the patient's latest message ([] if none)."""
    parse_data = tracker.latest_message.parse_data if tracker.latest_message else {}
    selector = (parse_data or {}).get("response_selector") or {}
    ranking = (selector.get(RETRIEVAL_INTENT) or {}).get("ranking") or []
    return [item for item in ranking if isinstance(item, dict)]
