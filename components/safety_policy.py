"""The safety policy: crisis handling that pre-empts every other dialogue path.

Highest priority of all policies (config.yml). Deterministic, no training:

* The latest message is a crisis (the safety gate set intent ``crisis``):
  ``utter_crisis_help`` first — whatever else is going on, inside a form or a hand-off —
  then the active form is closed (``action_deactivate_loop``), then ``action_handoff``
  (urgent), then listen. ``utter_crisis_help`` is a domain response, so the patient gets
  it even when the action server is down.
* After a crisis earlier in this conversation (this session, or a later one within a
  day: slot ``crisis_at``, carried over to new sessions: kat/session_context.py), the
  assistant does not go back to cheerful FAQ chatter: any further message (except an
  explicit request for a person, which the hand-off rule answers) gets
  ``utter_crisis_followup`` — still here, a person is coming, the emergency numbers
  again — and, while the ticket is open, ``action_add_to_handoff`` puts the message on
  the urgent ticket for the person who picks it up. A goodbye or thanks, or renewed
  distress (the gate's check-in), gets ``utter_crisis_help`` again instead.
* While a hand-off ticket is open (slot ``handoff_active``, set by action_handoff and
  cleared when staff resolve), every patient message goes to ``action_handoff``, which
  adds it to the ticket and acknowledges it — the patient never meets silence. A general
  question the sheet or the clinic profile answers ("what is ketamine then"), a thanks
  or a goodbye is answered by the rules first, then added to the ticket
  (``action_add_to_handoff``); a farewell after a check-in gets the check-in again;
  asked instead of the yes/no to the contact form's consent question, it is answered
  the same way and the consent question asked again, the form still open.
* When ``action_handoff`` could not run (the action server is down: Rasa records the
  action but none of its events), ``utter_handoff_unavailable`` tells the patient to
  contact the clinic directly, with the emergency numbers — never silence, and never a
  promise of a follow-up that was not recorded.
* Two messages in a row the NLU could not understand: ``action_handoff`` (reason
  "repeated fallback") instead of a second "sorry, I'm not sure".
* A click on an answer's feedback buttons (intent ``feedback``, only ever a button's
  exact payload: the safety gate) is not a message to act on: after a crisis it gets no
  crisis follow-up again and during an open ticket it is not put on the ticket — its
  rule thanks the patient. Inside the contact form it is thanked, then the form's
  question is asked again (``utter_ask_<requested slot>``), the form still open.
* "What do you know about me?", "forget me" (and the yes or no to "delete this chat?")
  and "English please" / "en español" are answered by their rules even after a crisis
  or with a ticket open; inside the contact form, the form closes first and this policy
  names the action (``PATIENT_CONTROL_IN_FORM``).
* Otherwise it abstains and the other policies decide.
"""

from __future__ import annotations

import time
from typing import Any, List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from components.fixed_policy import FixedPolicy, session_events
from kat.faq_topics import FEEDBACK_INTENT
from kat.session_context import remembers_crisis

CRISIS_INTENT = "crisis"
CRISIS_HELP = "utter_crisis_help"
CRISIS_FOLLOWUP = "utter_crisis_followup"
CRISIS_AT = "crisis_at"  # slot: when a crisis ticket was opened (later sessions)
# Replies in the language the crisis patterns found (safety gate: intent.safety_gate
# .language); any other language gets the English reply, which carries the numbers.
CRISIS_REPLY_LANGUAGES = {"es"}
CHECK_IN = "utter_check_in"
# A farewell after distress ("thanks for everything, bye" after a check-in) is not a
# cheerful goodbye: the patient gets the check-in again.
FAREWELL_INTENTS = {"goodbye", "thanks"}
# After a crisis, these get the crisis help again: a farewell, or the gate's check-in.
RENEWED_CRISIS_INTENTS = FAREWELL_INTENTS | {"check_in"}
HANDOFF = "action_handoff"
ADD_TO_HANDOFF = "action_add_to_handoff"
DEACTIVATE_LOOP = "action_deactivate_loop"
LISTEN = "action_listen"
HANDOFF_UNAVAILABLE = "utter_handoff_unavailable"
CONTACT_FORM = "handoff_contact_form"
FALLBACK_INTENT = "nlu_fallback"
# Answer feedback (👍/👎 buttons, intent FEEDBACK_INTENT; data/rules/feedback.yml).
FEEDBACK_THANKS = "utter_feedback_thanks"
# Intents the ordinary rules still answer during a crisis session.
PASS_THROUGH_AFTER_CRISIS = {"request_human", "staff_reply", "staff_resolved"}
# The patient's control over the chat (data/rules/data_rights.yml, language.yml): what
# is kept, forget me, and a change of language are answered after a crisis and with a
# ticket open too (the forget reply repeats the crisis resources itself), and the yes
# or no to FORGET_CONFIRM goes to it, not to the ticket or the contact form.
PATIENT_CONTROL_INTENTS = {"ask_stored_data", "request_forget", "switch_language"}
FORGET_CONFIRM = "utter_forget_confirm"
FORGET_INTENT = "request_forget"
# Inside the contact form the rules do not apply: the form closes, then these.
PATIENT_CONTROL_IN_FORM = {
    "switch_language": "utter_language_switched",
    "ask_stored_data": "action_tell_stored_data",
    "request_forget": FORGET_CONFIRM,
    "affirm": "action_forget_conversation",
    "deny": "utter_forget_cancelled",
}
# General questions answered while a ticket is open (and then added to it): the sheet's
# answers and the clinic's facts, each with the actions its rule runs (data/rules/faq.yml,
# clinic_info.yml: tests/test_safety_policy.py checks they agree). Anything else goes to
# the ticket with an acknowledgment.
ANSWERED_DURING_HANDOFF = {
    "faq": ["utter_faq"],
    "faq_personal": ["utter_faq", "utter_personal_note"],
    "not_covered": ["utter_not_covered"],
    "ask_contact": ["utter_clinic_info_contact"],
    "ask_booking": ["utter_clinic_info_booking"],
    "ask_hours": ["utter_clinic_info_hours"],
    "ask_cost": ["utter_clinic_info_cost"],
    "ask_insurance": ["utter_clinic_info_insurance"],
    # "ok ty for sorting that", "okk bye then" once a person is on it (blind round 14's
    # conversation losses): the farewell or thanks, then the ticket has it too. After
    # a check-in a farewell still gets the check-in (next_safety_action).
    "thanks": ["utter_you_are_welcome"],
    "goodbye": ["utter_goodbye"],
}
CONSENT_SLOT = "contact_consent"
# Sent by the staff inbox, never by the patient: always answered by their own rules.
STAFF_INTENTS = {"staff_reply", "staff_resolved"}


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class SafetyPolicy(FixedPolicy):
    """Crisis handling, open tickets and failed hand-offs (module docstring)."""

    @staticmethod
    def next_action(tracker: DialogueStateTracker) -> Optional[Text]:
        return next_safety_action(tracker)


def _handoff_failed(events: List[Any]) -> bool:
    """action_handoff ran but produced none of its events (it always sets slots)."""
    for index, event in enumerate(events):
        if isinstance(event, ActionExecuted) and event.action_name == HANDOFF:
            produced = []
            for later in events[index + 1 :]:
                if isinstance(later, ActionExecuted):
                    break
                produced.append(later)
            if not any(isinstance(e, SlotSet) for e in produced):
                return True
    return False


def crisis_language(event: UserUttered) -> Optional[str]:
    """The language the gate found a crisis in, if it has its own replies."""
    why = (event.intent or {}).get("safety_gate") or {}
    language = why.get("language")
    return str(language) if language in CRISIS_REPLY_LANGUAGES else None


def in_language(action: str, language: Optional[str]) -> str:
    return f"{action}_{language}" if language else action


def next_safety_action(tracker: DialogueStateTracker) -> Optional[Text]:
    """The action safety requires next, or None to let the other policies decide."""
    events = session_events(tracker)
    user_turns = [i for i, e in enumerate(events) if isinstance(e, UserUttered)]
    if not user_turns:
        return None
    last_user = user_turns[-1]
    latest: UserUttered = events[last_user]
    intent = (latest.intent or {}).get("name")
    done = [
        e.action_name
        for e in events[last_user + 1 :]
        if isinstance(e, ActionExecuted) and e.action_name
    ]
    done = [name for name in done if name != "action_extract_slots"]

    after_user = events[last_user + 1 :]
    if _handoff_failed(after_user) and HANDOFF_UNAVAILABLE not in done:
        return HANDOFF_UNAVAILABLE
    if HANDOFF_UNAVAILABLE in done and done[-1] == HANDOFF_UNAVAILABLE:
        return LISTEN

    if intent == CRISIS_INTENT:
        help_reply = in_language(CRISIS_HELP, crisis_language(latest))
        if help_reply not in done:
            return help_reply
        if tracker.active_loop_name and DEACTIVATE_LOOP not in done:
            return DEACTIVATE_LOOP
        if HANDOFF not in done:
            return HANDOFF
        return LISTEN

    if intent == FEEDBACK_INTENT:
        loop = tracker.active_loop_name
        if not loop:
            return None  # the rule thanks, whatever came before (module docstring)
        if FEEDBACK_THANKS not in done:
            return FEEDBACK_THANKS
        requested = tracker.get_slot("requested_slot")
        ask = f"utter_ask_{requested}"
        if requested and ask not in done:
            return ask
        return LISTEN

    crises = [
        e
        for e in events[:last_user]
        if isinstance(e, UserUttered) and (e.intent or {}).get("name") == CRISIS_INTENT
    ]
    asked = [
        e.action_name
        for e in events[:last_user]
        if isinstance(e, ActionExecuted) and e.action_name not in (LISTEN, None)
    ]
    answers_forget = intent in ("affirm", "deny") and asked[-1:] == [FORGET_CONFIRM]
    if intent == FORGET_INTENT and (
        crises or remembers_crisis(tracker.get_slot(CRISIS_AT), time.time())
    ):
        # "forget i said anything" after a crisis is how people take it back: the
        # careful follow-up first, then the deletion question, in case it was meant.
        language = crisis_language(crises[-1]) if crises else None
        followup = in_language(CRISIS_FOLLOWUP, language)
        if followup not in done:
            return followup
        return FORGET_CONFIRM if FORGET_CONFIRM not in done else LISTEN
    if intent in PATIENT_CONTROL_INTENTS or answers_forget:
        if not tracker.active_loop_name and DEACTIVATE_LOOP not in done:
            return None  # the data-rights rules
        if DEACTIVATE_LOOP not in done:
            return DEACTIVATE_LOOP
        action = PATIENT_CONTROL_IN_FORM[str(intent)]
        return action if action not in done else LISTEN

    # A crisis in an earlier session of the conversation counts too, for a day
    # (slot crisis_at, carried over: kat/session_context.py).
    if (crises or remembers_crisis(tracker.get_slot(CRISIS_AT), time.time())) and (
        intent not in PASS_THROUGH_AFTER_CRISIS
    ):
        language = crisis_language(crises[-1]) if crises else None
        if intent in RENEWED_CRISIS_INTENTS:
            # A goodbye after a crisis ("thanks for everything, bye") or renewed
            # distress the gate checked in on: the crisis help again, not "still here".
            help_reply = in_language(CRISIS_HELP, language)
            if help_reply not in done:
                return help_reply
            if tracker.get_slot("handoff_active") and ADD_TO_HANDOFF not in done:
                return ADD_TO_HANDOFF
            return LISTEN
        followup = in_language(CRISIS_FOLLOWUP, language)
        if followup not in done:
            if tracker.active_loop_name and DEACTIVATE_LOOP not in done:
                return DEACTIVATE_LOOP
            return followup
        if tracker.get_slot("handoff_active") and ADD_TO_HANDOFF not in done:
            return ADD_TO_HANDOFF  # the person on the urgent ticket reads this too
        return LISTEN
    if intent in FAREWELL_INTENTS:
        checked_in = any(
            isinstance(e, ActionExecuted) and e.action_name == CHECK_IN
            for e in events[:last_user]
        )
        if checked_in:
            if CHECK_IN not in done:
                return CHECK_IN
            if tracker.get_slot("handoff_active") and ADD_TO_HANDOFF not in done:
                return ADD_TO_HANDOFF
            return LISTEN

    if intent == FALLBACK_INTENT and not tracker.get_slot("handoff_active"):
        earlier = [
            (e.intent or {}).get("name")
            for e in events[:last_user]
            if isinstance(e, UserUttered)
        ]
        if earlier and earlier[-1] == FALLBACK_INTENT:
            # Twice in a row the assistant did not understand: offer more than "sorry".
            return HANDOFF if HANDOFF not in done else None

    asking_consent = (
        tracker.active_loop_name == CONTACT_FORM
        and tracker.get_slot("requested_slot") == CONSENT_SLOT
    )
    if tracker.get_slot("handoff_active") and intent in ANSWERED_DURING_HANDOFF:
        if not tracker.active_loop_name and DEACTIVATE_LOOP not in done:
            # "fine. what is ketamine then" while waiting for a person: the rules
            # answer it from the sheet or the clinic profile, then the message goes on
            # the ticket too.
            if not done:
                return None
            return ADD_TO_HANDOFF if ADD_TO_HANDOFF not in done else LISTEN
        if asking_consent and CONTACT_FORM not in done:
            # The same question instead of the yes/no to "may the team contact you?":
            # answered, put on the ticket, then the consent question again, the form
            # still open (blind rounds 11 and 12 lost conversations here when it was
            # only acknowledged). The rules cannot answer inside a form, so the
            # policy names the rule's actions.
            steps = ANSWERED_DURING_HANDOFF[str(intent)] + [
                ADD_TO_HANDOFF,
                f"utter_ask_{CONSENT_SLOT}",
            ]
            for step in steps:
                if step not in done:
                    return step
            return LISTEN

    if tracker.get_slot("handoff_active") and intent not in STAFF_INTENTS:
        loop = tracker.active_loop_name
        answering_consent = intent in ("affirm", "deny")
        if CONTACT_FORM in done:
            return None  # the form asked, collected or finished this turn: rules go on
        if loop and (not asking_consent or answering_consent):
            return None  # the form is collecting the patient's answer
        # A person is on it: add the message to the open ticket and acknowledge it
        # (a message instead of a yes/no to the contact question closes that question).
        if loop and DEACTIVATE_LOOP not in done:
            return DEACTIVATE_LOOP
        if HANDOFF not in done:
            return HANDOFF
        return None

    return None
