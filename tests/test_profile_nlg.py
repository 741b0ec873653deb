"""The Rasa-side NLG fills {clinic_<key>} from the clinic profile (no action server)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List, Optional

from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from components.profile_nlg import ClinicProfileNLG

ROOT = Path(__file__).resolve().parent.parent


# Responses whose text an action hands over, as the action passes it.
ACTION_FILLED = {
    "utter_contraindication_answer": {"answer": "The sheet lists ..."},
    "utter_staff_reply_named": {"staff_name": "Jo Rivera"},  # the NLG passes it
    # actions/data_rights.py
    "utter_stored_data_messages": {"messages": 3, "since": "2 Dec 2026, 10:05"},
}


def _generate(name: str) -> str:
    domain = Domain.load(str(ROOT / "domain.yml"))
    nlg = ClinicProfileNLG(domain=domain)
    tracker = DialogueStateTracker("nlg-test", domain.slots)
    values = ACTION_FILLED.get(name.removesuffix("_es"), {})
    response = asyncio.run(nlg.generate(name, tracker, "rest", **values))
    assert response is not None
    return str(response["text"])


def test_greeting_is_filled_from_the_profile() -> None:
    text = _generate("utter_greet")
    assert "{" not in text
    assert "not medical advice" in text and "911" in text


def test_every_response_is_fully_filled() -> None:
    domain = Domain.load(str(ROOT / "domain.yml"))
    for name in domain.responses:
        text = _generate(name)
        assert "{" not in text and "}" not in text, f"{name} left a placeholder: {text}"


def test_unsure_faq_reply_offers_the_likeliest_topics_then_a_person() -> None:
    from rasa.shared.core.events import UserUttered

    from kat.faq_topics import load_topics

    domain = Domain.load(str(ROOT / "domain.yml"))
    nlg = ClinicProfileNLG(domain=domain)
    tracker = DialogueStateTracker("nlg-test", domain.slots)
    tracker.update(
        UserUttered(
            "how long does a session last",
            intent={"name": "faq_unsure", "confidence": 1.0},
            parse_data={
                "intent": {"name": "faq_unsure", "confidence": 1.0},
                "response_selector": {
                    "faq": {
                        "ranking": [
                            {"intent_response_key": "faq/mechanism", "confidence": 0.5},
                            {
                                "intent_response_key": "faq/side_effects",
                                "confidence": 0.3,
                            },
                            {"intent_response_key": "faq/dose", "confidence": 0.1},
                        ]
                    }
                },
            },
        )
    )
    response = asyncio.run(nlg.generate("utter_faq_unsure", tracker, "rest"))
    assert response is not None
    topics = load_topics()
    assert [b["title"] for b in response["buttons"]] == [
        topics["mechanism"]["title"],
        topics["side_effects"]["title"],
        "Talk to a person",
    ]
    assert response["buttons"][0]["payload"] == topics["mechanism"]["question"]
    assert "rather not guess" in response["text"]
    # Without a ranking (e.g. the message came in another way): only the person.
    empty = DialogueStateTracker("nlg-test-2", domain.slots)
    plain = asyncio.run(nlg.generate("utter_faq_unsure", empty, "rest"))
    assert plain is not None and [b["title"] for b in plain["buttons"]] == [
        "Talk to a person"
    ]
    # Other replies keep their buttons as they are.
    greet = asyncio.run(nlg.generate("utter_greet", tracker, "rest"))
    assert greet is not None and "Side effects" in [b["title"] for b in greet["buttons"]]


# --- Answer feedback ------------------------------------------------------------------


def _feedback_nlg() -> ClinicProfileNLG:
    return ClinicProfileNLG(domain=Domain.load(str(ROOT / "domain.yml")))


def _asked(intent: str = "faq", events: Any = ()) -> DialogueStateTracker:
    from rasa.shared.core.events import UserUttered

    domain = Domain.load(str(ROOT / "domain.yml"))
    tracker = DialogueStateTracker("nlg-feedback", domain.slots)
    for event in events:
        tracker.update(event)
    tracker.update(UserUttered("...", intent={"name": intent, "confidence": 1.0}))
    return tracker


def _buttons(
    name: str, tracker: Optional[DialogueStateTracker] = None, channel: str = "rest"
) -> List[Dict[str, str]]:
    response = asyncio.run(_feedback_nlg().generate(name, tracker or _asked(), channel))
    assert response is not None, name
    return list(response.get("buttons") or [])


def _feedback(buttons: List[Dict[str, str]]) -> List[Dict[str, str]]:
    return [b for b in buttons if b["payload"].startswith("/feedback")]


def _offer_titles() -> List[str]:
    import yaml

    responses = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]
    return [b["title"] for b in responses["utter_feedback_offer"][0]["buttons"]]


def test_faq_and_clinic_info_answers_offer_feedback_after_their_own_buttons() -> None:
    import json

    side_effects = _buttons("utter_faq/side_effects")
    assert [b["title"] for b in side_effects] == _offer_titles()
    payloads = [json.loads(b["payload"][len("/feedback") :]) for b in side_effects]
    assert payloads == [
        {"topic": "side_effects", "helpful": "yes"},
        {"topic": "side_effects", "helpful": "no"},
    ]
    # "Talk to a person" stays first.
    safety = _buttons("utter_faq/safety")
    assert safety[0] == {"title": "Talk to a person", "payload": "/request_human"}
    assert len(_feedback(safety)) == 2
    cost = _feedback(_buttons("utter_clinic_info_cost"))
    assert [json.loads(b["payload"][9:])["topic"] for b in cost] == [
        "clinic_info_cost"
    ] * 2


def test_every_answer_gets_feedback_the_gate_accepts_and_telegram_can_carry() -> None:
    from channels.telegram import CALLBACK_DATA_LIMIT
    from components.safety_gate import SafetyGate
    from kat.faq_topics import parse_feedback

    gate = SafetyGate({})
    domain = Domain.load(str(ROOT / "domain.yml"))
    answers = [
        n
        for n in domain.responses
        if n.startswith("utter_faq/") or n.startswith("utter_clinic_info_")
    ]
    assert len(answers) >= 17
    for name in answers:
        for button in _feedback(_buttons(name, channel="telegram")):
            payload = button["payload"]
            assert parse_feedback(payload, gate.feedback_topics), payload
            assert len(payload.encode()) <= CALLBACK_DATA_LIMIT, payload


def test_clinic_info_feedback_also_when_the_responses_come_after_the_nlg() -> None:
    """Rasa's Agent makes the NLG with an empty domain, then sets the model's responses
    on it (Agent.load_model): found by tests/e2e/test_feedback_e2e.py."""
    nlg = ClinicProfileNLG(domain=None)
    nlg.responses = Domain.load(str(ROOT / "domain.yml")).responses
    response = asyncio.run(nlg.generate("utter_clinic_info_cost", _asked(), "rest"))
    assert response is not None and len(_feedback(response["buttons"])) == 2


def test_no_feedback_on_sms_whatsapp() -> None:
    assert _feedback(_buttons("utter_faq/side_effects", channel="twilio")) == []
    assert _buttons("utter_faq/safety", channel="twilio") == [
        {"title": "Talk to a person", "payload": "/request_human"}
    ]
    for channel in ("socketio", "telegram", "facebook", "slack", "rest"):
        assert len(_feedback(_buttons("utter_faq/side_effects", channel=channel))) == 2


def test_no_feedback_on_crisis_clinical_handoff_or_other_replies() -> None:
    domain = Domain.load(str(ROOT / "domain.yml"))
    answers = ("utter_faq/", "utter_clinic_info_")
    for name in domain.responses:
        if name.startswith(answers):
            continue
        values = ACTION_FILLED.get(name.removesuffix("_es"), {})
        response = asyncio.run(_feedback_nlg().generate(name, _asked(), "rest", **values))
        assert response is not None
        assert _feedback(list(response.get("buttons") or [])) == [], name


def test_no_feedback_after_a_crisis_with_a_ticket_open_or_a_personal_question() -> None:
    import time

    from rasa.shared.core.events import SlotSet, UserUttered

    crisis = UserUttered("...", intent={"name": "crisis", "confidence": 1.0})
    for tracker in (
        _asked(events=[crisis]),
        _asked(events=[SlotSet("crisis_at", time.time() - 3600)]),
        _asked(events=[SlotSet("handoff_active", True)]),
        _asked("faq_personal"),
    ):
        assert _feedback(_buttons("utter_faq/side_effects", tracker)) == []
        assert _feedback(_buttons("utter_clinic_info_hours", tracker)) == []
    # A crisis remembered from two days ago no longer counts.
    stale = _asked(events=[SlotSet("crisis_at", time.time() - 2 * 86400)])
    assert len(_feedback(_buttons("utter_faq/side_effects", stale))) == 2


def test_no_second_yes_no_pair_on_a_reply_that_asks_yes_or_no() -> None:
    nlg = _feedback_nlg()
    asks = {"buttons": [{"title": "Yes", "payload": "/affirm"}]}
    assert nlg.feedback_buttons("utter_faq/kat", _asked(), "rest", asks) == []
    person = {"buttons": [{"title": "Talk to a person", "payload": "/request_human"}]}
    assert len(nlg.feedback_buttons("utter_faq/kat", _asked(), "rest", person)) == 2
    # A topic the domain does not answer is never offered (the gate would refuse it).
    assert nlg.feedback_buttons("utter_faq/zebra", _asked(), "rest", {}) == []


def test_the_thanks_offers_a_person_only_for_not_helpful_when_nobody_is_on_it() -> None:
    from rasa.shared.core.events import SlotSet, UserUttered

    def thanks(helpful: str, events: Any = ()) -> Dict[str, Any]:
        domain = Domain.load(str(ROOT / "domain.yml"))
        tracker = DialogueStateTracker("nlg-thanks", domain.slots)
        for event in events:
            tracker.update(event)
        tracker.update(
            UserUttered(
                f'/feedback{{"topic":"kat","helpful":"{helpful}"}}',
                intent={"name": "feedback", "confidence": 1.0},
                entities=[
                    {"entity": "topic", "value": "kat"},
                    {"entity": "helpful", "value": helpful},
                ],
            )
        )
        response = asyncio.run(
            _feedback_nlg().generate("utter_feedback_thanks", tracker, "rest")
        )
        assert response is not None
        return response

    assert thanks("yes")["text"] == "Thanks for letting us know."
    assert not thanks("yes").get("buttons")
    unhelpful = thanks("no")
    assert unhelpful["text"].startswith("Thanks for letting us know.")
    assert unhelpful["text"] != "Thanks for letting us know."
    assert [b["payload"] for b in unhelpful["buttons"]] == ["/request_human"]
    # With a ticket open a person is already on it: the short thanks only.
    ticket = thanks("no", [SlotSet("handoff_active", True)])
    assert ticket["text"] == "Thanks for letting us know." and not ticket.get("buttons")
    crisis = UserUttered("...", intent={"name": "crisis", "confidence": 1.0})
    assert thanks("no", [crisis])["text"] == "Thanks for letting us know."


def test_the_web_chat_labels_the_pair_with_the_domains_offer() -> None:
    import json

    import yaml

    responses = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]
    for language, name in (
        ("en", "utter_feedback_offer"),
        ("es", "utter_feedback_offer_es"),
    ):
        offer = responses[name][0]["text"]
        strings = json.loads((ROOT / "web" / "i18n" / f"{language}.json").read_text())
        assert strings["feedbackLabel"] == offer, language


def _staff_reply(entities: list, show_names: bool, monkeypatch: Any) -> str:
    from rasa.shared.core.events import UserUttered

    from components import profile_nlg
    from kat.clinic_profile import cached_profile

    profile = {**cached_profile(), "staff_names_to_patients": show_names}
    monkeypatch.setattr(profile_nlg, "cached_profile", lambda: profile)
    domain = Domain.load(str(ROOT / "domain.yml"))
    nlg = ClinicProfileNLG(domain=domain)
    tracker = DialogueStateTracker("nlg-staff", domain.slots)
    tracker.update(UserUttered.create_external("staff_reply", entities, "rest"), domain)
    response = asyncio.run(
        nlg.generate(
            "utter_staff_reply", tracker, "rest", staff_message="We will call you today."
        )
    )
    assert response is not None
    return str(response["text"])


def test_a_staff_name_is_shown_only_when_the_profile_says_so(monkeypatch: Any) -> None:
    named = [
        {"entity": "staff_message", "value": "We will call you today."},
        {"entity": "staff_name", "value": "Jo Rivera"},
    ]
    assert _staff_reply(named, True, monkeypatch) == (
        "Message from Jo Rivera, clinic team: We will call you today."
    )
    assert _staff_reply(named, False, monkeypatch) == (
        "Message from the clinic team: We will call you today."
    )
    assert _staff_reply(named[:1], True, monkeypatch) == (
        "Message from the clinic team: We will call you today."
    )
