"""SafetyPolicy: crisis replies pre-empt everything, forms included (Rasa core trackers)."""

from __future__ import annotations

from typing import List, Optional

from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from components.safety_policy import next_safety_action


def tracker(events: List[Event]) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("patient", events, slots=[])


def user(intent: str) -> UserUttered:
    return UserUttered("...", intent={"name": intent, "confidence": 1.0})


def listen() -> ActionExecuted:
    return ActionExecuted("action_listen")


def predict(events: List[Event]) -> Optional[str]:
    return next_safety_action(tracker(events))


def after_crisis(intent: str) -> List[Event]:
    """A crisis answered (help, hand-off), then a message with ``intent``."""
    return [
        listen(),
        user("crisis"),
        ActionExecuted("utter_crisis_help"),
        ActionExecuted("action_handoff"),
        listen(),
        user(intent),
    ]


def test_crisis_gets_help_then_handoff_then_listen() -> None:
    events: List[Event] = [listen(), user("crisis")]
    assert predict(events) == "utter_crisis_help"
    events.append(ActionExecuted("utter_crisis_help"))
    assert predict(events) == "action_handoff"
    events += [ActionExecuted("action_handoff"), SlotSet("handoff_requested", True)]
    assert predict(events) == "action_listen"


def test_crisis_inside_a_form_closes_the_form_first() -> None:
    events: List[Event] = [
        listen(),
        user("request_human"),
        ActionExecuted("action_handoff"),
        ActionExecuted("handoff_contact_form"),
        ActiveLoop("handoff_contact_form"),
        listen(),
        user("crisis"),
    ]
    assert predict(events) == "utter_crisis_help"
    events.append(ActionExecuted("utter_crisis_help"))
    assert predict(events) == "action_deactivate_loop"
    events += [ActionExecuted("action_deactivate_loop"), ActiveLoop(None)]
    assert predict(events) == "action_handoff"


def test_after_a_crisis_no_cheerful_faq() -> None:
    events = after_crisis("faq")
    assert predict(events) == "utter_crisis_followup"
    events.append(ActionExecuted("utter_crisis_followup"))
    assert predict(events) == "action_listen"


def test_after_a_crisis_further_risk_repeats_the_resources() -> None:
    events = after_crisis("crisis")
    assert predict(events) == "utter_crisis_help"


def test_a_person_can_still_be_requested_after_a_crisis() -> None:
    events = after_crisis("request_human")
    assert predict(events) is None


def test_without_a_crisis_the_policy_abstains() -> None:
    assert predict([listen(), user("faq")]) is None
    assert predict([listen(), user("greet")]) is None


def test_a_handoff_that_could_not_run_is_never_silent() -> None:
    failed: List[Event] = [
        listen(),
        user("request_human"),
        ActionExecuted("action_handoff"),
    ]
    assert predict(failed) == "utter_handoff_unavailable"
    failed.append(ActionExecuted("utter_handoff_unavailable"))
    assert predict(failed) == "action_listen"
    worked: List[Event] = [
        listen(),
        user("request_human"),
        ActionExecuted("action_handoff"),
        SlotSet("handoff_requested", True),
    ]
    assert predict(worked) is None


def test_crisis_with_the_action_server_down_still_points_to_the_clinic() -> None:
    events: List[Event] = [
        listen(),
        user("crisis"),
        ActionExecuted("utter_crisis_help"),
        ActionExecuted("action_handoff"),
    ]
    assert predict(events) == "utter_handoff_unavailable"


def _open_ticket(intent: str) -> DialogueStateTracker:
    from rasa.shared.core.slots import BooleanSlot, TextSlot

    events: List[Event] = [listen(), user(intent)]
    t = DialogueStateTracker.from_events(
        "patient",
        events,
        slots=[
            BooleanSlot("handoff_active", mappings=[{}]),
            TextSlot("requested_slot", mappings=[{}]),
        ],
    )
    t.update(SlotSet("handoff_active", True))
    return t


def test_while_a_ticket_is_open_messages_go_to_it() -> None:
    t = _open_ticket("clinical_question")
    assert next_safety_action(t) == "action_handoff"
    t.update(ActionExecuted("action_handoff"))
    t.update(SlotSet("handoff_requested", True))
    assert next_safety_action(t) is None  # the rules decide what follows


def test_a_general_question_during_a_ticket_is_answered_then_added_to_it() -> None:
    t = _open_ticket("faq")
    assert next_safety_action(t) is None  # the rules answer it from the sheet
    t.update(ActionExecuted("utter_faq"))
    assert next_safety_action(t) == "action_add_to_handoff"
    t.update(ActionExecuted("action_add_to_handoff"))
    assert next_safety_action(t) == "action_listen"


def test_thanks_or_goodbye_during_a_ticket_is_answered_then_added_to_it() -> None:
    for intent, reply in (
        ("thanks", "utter_you_are_welcome"),
        ("goodbye", "utter_goodbye"),
    ):
        t = _open_ticket(intent)
        assert next_safety_action(t) is None  # the rule answers: not another hand-off
        t.update(ActionExecuted(reply))
        assert next_safety_action(t) == "action_add_to_handoff"
        t.update(ActionExecuted("action_add_to_handoff"))
        assert next_safety_action(t) == "action_listen"


def test_a_farewell_after_a_check_in_gets_the_check_in_with_a_ticket_open_too() -> None:
    t = _open_ticket("greet")
    t.update(ActionExecuted("utter_check_in"))
    t.update(ActionExecuted("action_listen"))
    t.update(user("goodbye"))
    assert next_safety_action(t) == "utter_check_in"
    t.update(ActionExecuted("utter_check_in"))
    assert next_safety_action(t) == "action_add_to_handoff"
    t.update(ActionExecuted("action_add_to_handoff"))
    assert next_safety_action(t) == "action_listen"


def test_second_misunderstanding_in_a_row_goes_to_a_person() -> None:
    first: List[Event] = [listen(), user("nlu_fallback")]
    assert predict(first) is None  # the rules say "not sure" and offer a person
    second = first + [
        ActionExecuted("utter_out_of_scope"),
        listen(),
        user("nlu_fallback"),
    ]
    assert predict(second) == "action_handoff"


def test_after_a_crisis_each_message_also_goes_on_the_open_ticket() -> None:
    from rasa.shared.core.slots import BooleanSlot

    slot = BooleanSlot("handoff_active", mappings=[], influence_conversation=False)
    events: List[Event] = [
        listen(),
        user("crisis"),
        ActionExecuted("utter_crisis_help"),
        ActionExecuted("action_handoff"),
        SlotSet("handoff_active", True),
        listen(),
        user("faq"),
    ]

    def next_action() -> Optional[str]:
        state = DialogueStateTracker.from_events("patient", events, slots=[slot])
        return next_safety_action(state)

    assert next_action() == "utter_crisis_followup"
    events.append(ActionExecuted("utter_crisis_followup"))
    assert next_action() == "action_add_to_handoff"
    events.append(ActionExecuted("action_add_to_handoff"))
    assert next_action() == "action_listen"
    # Once staff closed the ticket there is nothing to add it to.
    events[4] = SlotSet("handoff_active", False)
    events.pop()  # no action_add_to_handoff this time
    assert events[-1] == ActionExecuted("utter_crisis_followup")
    assert next_action() == "action_listen"


def _asking_consent(intent: str) -> DialogueStateTracker:
    t = _open_ticket(intent)
    t.update(ActiveLoop("handoff_contact_form"))
    t.update(SlotSet("requested_slot", "contact_consent"))
    return t


def test_a_general_question_instead_of_the_consent_answer_is_answered_then_asked_again() -> (
    None
):
    """Blind rounds 11 and 12: "what does it feel like tho" typed while the consent
    question was open was only acknowledged on the ticket, never answered."""
    t = _asking_consent("faq_personal")
    for step in [
        "utter_faq",
        "utter_personal_note",
        "action_add_to_handoff",
        "utter_ask_contact_consent",
    ]:
        assert next_safety_action(t) == step
        t.update(ActionExecuted(step))
    assert next_safety_action(t) == "action_listen"
    assert t.active_loop_name == "handoff_contact_form"  # the yes/no still counts


def test_a_clinical_message_instead_of_the_consent_answer_is_acknowledged() -> None:
    """Found by the fuzz test: a message typed while the consent question was open
    closed the form and was added to the ticket, but got no reply at all."""
    t = _asking_consent("clinical_question")
    assert next_safety_action(t) == "action_deactivate_loop"
    t.update(ActionExecuted("action_deactivate_loop"))
    t.update(ActiveLoop(None))
    assert next_safety_action(t) == "action_handoff"  # added, and acknowledged


def test_the_answers_during_a_ticket_are_the_rules_own() -> None:
    """ANSWERED_DURING_HANDOFF names, for use inside the contact form, the actions the
    rules run for each intent: it must say what data/rules/ says."""
    from pathlib import Path

    import yaml

    from components.safety_policy import ANSWERED_DURING_HANDOFF

    rules_dir = Path(__file__).resolve().parent.parent / "data" / "rules"
    by_intent = {}
    for path in rules_dir.glob("*.yml"):
        for rule in (yaml.safe_load(path.read_text()) or {}).get("rules") or []:
            steps = rule.get("steps") or []
            if steps and "intent" in steps[0] and not rule.get("condition"):
                by_intent[steps[0]["intent"]] = [s["action"] for s in steps[1:]]
    for intent, actions in ANSWERED_DURING_HANDOFF.items():
        assert by_intent.get(intent) == actions, intent


def restored_tracker(events: List[Event]) -> DialogueStateTracker:
    """A tracker with the slots a new session carries over (domain.yml)."""
    from rasa.shared.core.slots import BooleanSlot, FloatSlot

    slots = [
        BooleanSlot("handoff_active", mappings=[{"type": "custom"}]),
        FloatSlot("crisis_at", mappings=[{"type": "custom"}], max_value=1e12),
    ]
    return DialogueStateTracker.from_events("patient", events, slots=slots)


def test_a_crisis_in_an_earlier_session_still_gets_the_crisis_followup() -> None:
    """A new session (the slots carried over: kat/session_context.py): "I already took
    them" is answered as right after the crisis, for a day."""
    import time

    events: List[Event] = [
        SlotSet("crisis_at", time.time() - 3600),
        SlotSet("handoff_active", True),
        listen(),
        user("faq"),
    ]
    assert next_safety_action(restored_tracker(events)) == "utter_crisis_followup"
    events.append(ActionExecuted("utter_crisis_followup"))
    assert next_safety_action(restored_tracker(events)) == "action_add_to_handoff"
    # Without it, or two days later, the same session is an ordinary chat.
    assert next_safety_action(restored_tracker(events[2:4])) is None
    stale = [SlotSet("crisis_at", time.time() - 2 * 86400), listen(), user("faq")]
    assert next_safety_action(restored_tracker(stale)) is None


def test_an_open_ticket_from_an_earlier_session_still_gets_the_message() -> None:
    events: List[Event] = [SlotSet("handoff_active", True), listen(), user("greet")]
    assert next_safety_action(restored_tracker(events)) == "action_handoff"


# --- Answer feedback (a button click, never typed words) -----------------------------


def test_feedback_after_a_crisis_is_thanked_not_answered_with_the_followup() -> None:
    from rasa.shared.core.slots import BooleanSlot

    slot = BooleanSlot("handoff_active", mappings=[], influence_conversation=False)
    events: List[Event] = [
        listen(),
        user("faq"),
        ActionExecuted("utter_faq"),
        listen(),
        user("crisis"),
        ActionExecuted("utter_crisis_help"),
        ActionExecuted("action_handoff"),
        SlotSet("handoff_active", True),
        listen(),
        user("feedback"),
    ]

    def next_action() -> Optional[str]:
        state = DialogueStateTracker.from_events("patient", events, slots=[slot])
        return next_safety_action(state)

    assert next_action() is None  # the rule thanks (data/rules/feedback.yml)
    events.append(ActionExecuted("utter_feedback_thanks"))
    assert next_action() is None  # nothing on the urgent ticket, no crisis follow-up
    # The patient's next words get the crisis follow-up again.
    events += [listen(), user("faq")]
    assert next_action() == "utter_crisis_followup"


def test_feedback_from_a_remembered_crisis_session_is_thanked_too() -> None:
    import time

    events: List[Event] = [
        SlotSet("crisis_at", time.time() - 3600),
        SlotSet("handoff_active", True),
        listen(),
        user("feedback"),
    ]
    assert next_safety_action(restored_tracker(events)) is None


def test_feedback_during_an_open_ticket_does_not_go_on_it() -> None:
    t = _open_ticket("feedback")
    assert next_safety_action(t) is None  # the rule thanks, no action_handoff
    t.update(ActionExecuted("utter_feedback_thanks"))
    assert next_safety_action(t) is None


def test_feedback_inside_the_contact_form_is_thanked_then_the_question_repeated() -> None:
    t = _open_ticket("feedback")
    t.update(ActiveLoop("handoff_contact_form"))
    t.update(SlotSet("requested_slot", "contact_name"))
    assert next_safety_action(t) == "utter_feedback_thanks"
    t.update(ActionExecuted("utter_feedback_thanks"))
    assert next_safety_action(t) == "utter_ask_contact_name"
    t.update(ActionExecuted("utter_ask_contact_name"))
    assert next_safety_action(t) == "action_listen"
    assert t.active_loop_name == "handoff_contact_form"  # the form goes on


# --- The patient's data rights (data/rules/data_rights.yml) ---------------------------


def test_data_rights_are_answered_by_their_rules_even_with_a_ticket_open() -> None:
    for intent in ("ask_stored_data", "request_forget"):
        assert next_safety_action(_open_ticket(intent)) is None  # not onto the ticket
    t = _open_ticket("request_forget")
    t.update(ActionExecuted("utter_forget_confirm"))
    t.update(listen())
    t.update(user("affirm"))
    assert next_safety_action(t) is None  # the yes is for "delete this chat?"
    # ...while an ordinary yes with a ticket open still goes to the ticket.
    assert next_safety_action(_open_ticket("affirm")) == "action_handoff"


def test_forget_me_after_a_crisis_gets_the_careful_followup_first() -> None:
    """Blind round 6: "actually nvm forget i said anything" after a crisis is taking
    it back, not a deletion request: the crisis follow-up, then the question."""
    events = after_crisis("request_forget")
    assert predict(events) == "utter_crisis_followup"
    events.append(ActionExecuted("utter_crisis_followup"))
    assert predict(events) == "utter_forget_confirm"
    events += [ActionExecuted("utter_forget_confirm"), listen(), user("affirm")]
    assert predict(events) is None  # the forget action repeats the crisis resources
    events[-3:] = [
        ActionExecuted("utter_forget_confirm"),
        listen(),
        user("ask_stored_data"),
    ]
    assert predict(events) is None  # what is kept: its own rule


def test_data_rights_inside_the_contact_form_close_it_first() -> None:
    events: List[Event] = [
        listen(),
        user("request_human"),
        ActionExecuted("action_handoff"),
        ActionExecuted("handoff_contact_form"),
        ActiveLoop("handoff_contact_form"),
        listen(),
        user("request_forget"),
    ]
    assert predict(events) == "action_deactivate_loop"
    events += [ActionExecuted("action_deactivate_loop"), ActiveLoop(None)]
    assert predict(events) == "utter_forget_confirm"
    events.append(ActionExecuted("utter_forget_confirm"))
    assert predict(events) == "action_listen"


def test_a_goodbye_or_renewed_distress_after_a_crisis_gets_the_crisis_help_again() -> (
    None
):
    for intent in ("goodbye", "thanks", "check_in"):
        events = after_crisis(intent)
        assert predict(events) == "utter_crisis_help", intent
        events.append(ActionExecuted("utter_crisis_help"))
        assert predict(events) == "action_listen", intent
