"""Response generator that fills ``{clinic_<key>}`` from the clinic profile.

It also completes ``utter_faq_unsure`` (an FAQ question the assistant is not sure how to
answer) and ``utter_not_covered`` (a question the sheet does not cover): the two topics
the FAQ selector found likeliest for the patient's message become buttons
(content/faq_topics.yml), before the reply's own "Talk to a person".

And it offers answer feedback: an FAQ answer (``utter_faq/<topic>``, chosen by Rasa's
retrieval action) or a clinic-facts answer (``utter_clinic_info_<kind>``) gets two
buttons after its own, "helpful" and "not helpful", titled by domain.yml's
``utter_feedback_offer``, whose payloads (``/feedback{"topic":"side_effects",
"helpful":"yes"}``, kat/faq_topics.py) the safety gate lets through; Rasa keeps the click
as the user event. One place for every answer, so domain.yml has no per-topic copies.
The offer is optional (nothing waits for it) and is left out:

* on SMS and WhatsApp (output channel ``twilio``), where buttons become numbered
  options and answering one costs the patient a message;
* when the conversation had a crisis (this session, or remembered by slot ``crisis_at``)
  or has an open ticket (``handoff_active``): the patient is waiting for a person, and a
  rating is not what they need then;
* for a general answer to a question asked in the first person (intent
  ``faq_personal``): it is followed at once by "only a clinician can decide" and a
  person on offer, so a rating of it would sit on a clinical question;
* when the reply's own buttons already ask yes or no (``/affirm``, ``/deny``): a second
  yes/no pair would confuse. A reply's "Talk to a person" stays first, the feedback
  after it.

And it answers in the conversation's language (slot ``language``, set from the safety
gate's ``language`` entity: kat/language_choice.py): for a Spanish conversation a reply
``utter_x`` is spoken as ``utter_x_es`` and an FAQ answer ``utter_faq/<topic>`` as
``utter_faq_<topic>_es`` where domain.yml has one (every patient-facing reply does:
tests/test_content.py), and the topic and feedback buttons take their Spanish titles.
The reply's name in the conversation stays the English one, so policies, rules,
Insights and the review queue see one name per reply whatever the language.

Crisis, clinical and hand-off replies are never FAQ or clinic-facts answers, so they
never get it. The thanks for a click, ``utter_feedback_thanks``, becomes
``utter_feedback_thanks_not_helpful`` (which offers a person) for "not helpful", except
after a crisis or with a ticket open, where a person is already on it.

Configured in endpoints.yml (``nlg: type: components.profile_nlg.ClinicProfileNLG``). It is
Rasa's own templated generator plus the clinic profile as extra variables, so greeting,
clinic facts and emergency numbers come from content/clinic_profile.yml without the
action server: a clinic elsewhere edits one file, and a crisis reply never depends on a
second process being up.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from components.fixed_policy import session_events
from components.safety_policy import CRISIS_AT, CRISIS_INTENT, FEEDBACK_THANKS
from kat.clinic_profile import cached_profile, response_values
from kat.faq_topics import (
    FEEDBACK_INTENT,
    FEEDBACK_VERDICTS,
    RETRIEVAL_INTENT,
    answer_topic,
    cached_topics,
    feedback_payload,
    feedback_topics,
    topic_buttons,
)
from kat.session_context import remembers_crisis

# Replies that get the likeliest FAQ topics as buttons, before their own buttons: an FAQ
# question whose topic is unsure, and a question the sheet does not cover (the nearest
# topics it does cover).
TOPIC_BUTTON_RESPONSES = {"utter_faq_unsure", "utter_not_covered"}
STAFF_REPLY = "utter_staff_reply"
STAFF_REPLY_NAMED = "utter_staff_reply_named"
# domain.yml: the feedback buttons' titles (payload "yes" / "no" there) and the thanks.
FEEDBACK_OFFER = "utter_feedback_offer"
FEEDBACK_THANKS_NOT_HELPFUL = "utter_feedback_thanks_not_helpful"
# Output channels that get no feedback buttons: Twilio (SMS, WhatsApp) numbers buttons
# as options, and picking one is a paid message.
NO_FEEDBACK_CHANNELS = {"twilio"}
# An FAQ answer followed by "only a clinician can decide whether it fits you".
PERSONAL_FAQ_INTENT = "faq_personal"
# Own buttons that ask the patient yes or no.
YES_NO_PAYLOADS = {"/affirm", "/deny"}
LANGUAGE_SLOT = "language"
DEFAULT_LANGUAGE = "en"


def conversation_language(tracker: DialogueStateTracker) -> str:
    return str(tracker.get_slot(LANGUAGE_SLOT) or DEFAULT_LANGUAGE)


def spoken_name(utter_action: str, language: str) -> str:
    """The response that says ``utter_action`` in ``language`` (its own name in English):
    ``utter_greet`` -> ``utter_greet_es``, ``utter_faq/dose`` -> ``utter_faq_dose_es``."""
    if language == DEFAULT_LANGUAGE:
        return utter_action
    return f"{utter_action.replace('/', '_')}_{language}"


class ClinicProfileNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's templated NLG with the clinic profile's values available to every reply,
    topic buttons on the "not sure" replies and the feedback offer on answers."""

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
        if utter_action == FEEDBACK_THANKS and self._offers_a_person(tracker):
            utter_action = FEEDBACK_THANKS_NOT_HELPFUL
        if utter_action == STAFF_REPLY:
            name = staff_name_shown(tracker, cached_profile())
            if name:
                utter_action, kwargs = STAFF_REPLY_NAMED, {**kwargs, "staff_name": name}
        language = conversation_language(tracker)
        spoken = spoken_name(utter_action, language)
        if spoken not in self.responses:
            spoken, language = utter_action, DEFAULT_LANGUAGE
        response = await super().generate(spoken, tracker, output_channel, **kwargs)
        if response is not None and utter_action in TOPIC_BUTTON_RESPONSES:
            offered = topic_buttons(
                likely_topic_ranking(tracker), cached_topics(), language=language
            )
            response = {
                **response,
                "buttons": offered + list(response.get("buttons") or []),
            }
        if response is not None:
            feedback = self.feedback_buttons(
                utter_action, tracker, output_channel, response, language
            )
            if feedback:
                response = {
                    **response,
                    "buttons": list(response.get("buttons") or []) + feedback,
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

    def feedback_buttons(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        response: Dict[str, Any],
        language: str = DEFAULT_LANGUAGE,
    ) -> List[Dict[str, str]]:
        """The "helpful / not helpful" buttons for this reply ([] when it gets none:
        module docstring)."""
        topic = answer_topic(utter_action)
        # From self.responses at each call: Rasa's Agent makes the NLG before it loads
        # the model, then sets the model's responses on it.
        if topic is None or topic not in feedback_topics(self.responses):
            return []
        if output_channel in NO_FEEDBACK_CHANNELS:
            return []
        if (
            waiting_for_a_person(tracker)
            or _latest_intent(tracker) == PERSONAL_FAQ_INTENT
        ):
            return []
        own = {str(b.get("payload") or "") for b in response.get("buttons") or []}
        if own & YES_NO_PAYLOADS:
            return []
        titles = self._feedback_titles(language)
        return [
            {"title": titles[verdict], "payload": feedback_payload(topic, verdict)}
            for verdict in FEEDBACK_VERDICTS
            if verdict in titles
        ]

    def _feedback_titles(self, language: str = DEFAULT_LANGUAGE) -> Dict[str, str]:
        """verdict ("yes" / "no") -> the button's title in domain.yml's offer."""
        variants = (
            self.responses.get(spoken_name(FEEDBACK_OFFER, language))
            or self.responses.get(FEEDBACK_OFFER)
            or [{}]
        )
        return {
            str(b.get("payload")): str(b.get("title"))
            for b in variants[0].get("buttons") or []
            if b.get("title")
        }

    @staticmethod
    def _offers_a_person(tracker: DialogueStateTracker) -> bool:
        """ "Not helpful" clicked, and nobody is on the conversation yet."""
        latest = tracker.latest_message
        if latest is None or _latest_intent(tracker) != FEEDBACK_INTENT:
            return False
        helpful = [
            e.get("value") for e in latest.entities if e.get("entity") == "helpful"
        ]
        return helpful == ["no"] and not waiting_for_a_person(tracker)


def waiting_for_a_person(tracker: DialogueStateTracker) -> bool:
    """A crisis in this session or remembered from an earlier one (slot crisis_at, as
    the SafetyPolicy reads it), or an open hand-off ticket."""
    if tracker.get_slot("handoff_active"):
        return True
    if remembers_crisis(tracker.get_slot(CRISIS_AT), time.time()):
        return True
    return any(
        isinstance(e, UserUttered) and (e.intent or {}).get("name") == CRISIS_INTENT
        for e in session_events(tracker)
    )


def _latest_intent(tracker: DialogueStateTracker) -> Optional[str]:
    latest = tracker.latest_message
    return (latest.intent or {}).get("name") if latest is not None else None


def staff_name_shown(tracker: DialogueStateTracker, profile: Dict[str, Any]) -> str:
    """The staff member's display name for the patient, or "" for "the clinic team":
    shown only when the clinic profile's ``staff_names_to_patients`` is true and the
    inbox sent one with the reply."""
    if profile.get("staff_names_to_patients") is not True or not tracker.latest_message:
        return ""
    for entity in tracker.latest_message.entities or []:
        if entity.get("entity") == "staff_name" and str(entity.get("value") or ""):
            return str(entity["value"]).strip()[:80]
    return ""


def likely_topic_ranking(tracker: DialogueStateTracker) -> List[Dict[str, Any]]:
    """The FAQ selector's ranking for the patient's latest message ([] if none)."""
    parse_data = tracker.latest_message.parse_data if tracker.latest_message else {}
    selector = (parse_data or {}).get("response_selector") or {}
    ranking = (selector.get(RETRIEVAL_INTENT) or {}).get("ranking") or []
    return [item for item in ranking if isinstance(item, dict)]
