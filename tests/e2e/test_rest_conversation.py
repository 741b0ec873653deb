"""End to end over REST with the real Rasa server and action server."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.harness import Servers, texts

pytestmark = pytest.mark.e2e

FAQ_QUESTIONS = {
    "what_is_adhd": "sorry if dumb q but what is adhd actually",
    "standard_treatments": "what do people normally get prescribed or do for adhd",
    "what_is_ketamine": "what is ketamine anyway",
    "mechanism": "how does ketamine work on the brain for adhd",
    "vs_stimulants": "is ketamine like ritalin or different",
    "who_is_it_for": "what kind of patients is this treatment for",
    "benefits": "what are the potential benefits",
    "kat": "what happens in ketamine assisted therapy",
    "safety": "is it safe",
    "side_effects": "any side effects",
    "addiction": "is ketamine addictive",
    "dose": "how big is the dose compared to recreational use",
}


def new_sender() -> str:
    return f"e2e-{uuid.uuid4().hex}"


def test_greeting_carries_the_disclaimer_from_the_clinic_profile(
    servers: Servers,
) -> None:
    sender = new_sender()
    reply = texts(servers.say(sender, "hello"))
    assert "automated assistant" in reply
    assert "not medical advice" in reply
    assert "911" in reply and "988" in reply
    assert "{clinic_" not in reply, "a profile placeholder was not filled"
    assert servers.bot_actions_after_last_user(sender) == ["utter_greet"]


@pytest.mark.parametrize("topic", sorted(FAQ_QUESTIONS))
def test_every_faq_topic_answers_in_conversation(servers: Servers, topic: str) -> None:
    sender = new_sender()
    reply = servers.say(sender, FAQ_QUESTIONS[topic])
    assert reply, "no answer"
    assert servers.bot_actions_after_last_user(sender) == [f"utter_faq/{topic}"]


def test_a_question_the_sheet_does_not_cover_gets_no_guessed_answer(
    servers: Servers,
) -> None:
    """ "How long does a session last?" is not in the clinic's sheet: the reply says so
    (utter_not_covered), never the nearest FAQ answer; the nearest topics the sheet does
    cover come as buttons with a person, and a topic button gets that topic's answer."""
    sender = new_sender()
    reply = servers.say(sender, "how long does a session last")
    assert servers.bot_actions_after_last_user(sender) == ["utter_not_covered"]
    assert "doesn't cover that" in texts(reply)
    buttons = [b for m in reply for b in m.get("buttons", [])]
    assert len(buttons) == 3 and buttons[-1]["payload"] == "/request_human"
    assert "Research suggests ketamine may help" not in texts(reply)
    topic_question = buttons[0]["payload"]
    servers.say(sender, topic_question)
    [answer] = servers.bot_actions_after_last_user(sender)
    assert answer.startswith("utter_faq/")


def test_every_topic_button_is_answered_with_its_topic(servers: Servers) -> None:
    """The questions the unsure reply's buttons send (content/faq_topics.yml) are
    recognised as their own topic, confidently enough to be answered."""
    from kat.faq_topics import load_topics

    for topic, entry in load_topics().items():
        sender = new_sender()
        servers.say(sender, entry["question"])
        assert servers.bot_actions_after_last_user(sender) == [
            f"utter_faq/{topic}"
        ], topic


def test_clinic_placeholders_are_never_shown_as_facts(servers: Servers) -> None:
    sender = new_sender()
    reply = texts(servers.say(sender, "how much does it cost"))
    assert "[" not in reply and "]" not in reply
    assert "clinic_info" in servers.bot_actions_after_last_user(sender)[0]


def test_request_for_a_person_runs_the_handoff_action(servers: Servers) -> None:
    sender = new_sender()
    reply = texts(servers.say(sender, "i want to talk to a human"))
    assert "action_handoff" in servers.bot_actions_after_last_user(sender)
    assert "clinic team" in reply


@pytest.mark.parametrize("step", ["name", "details"])
def test_no_at_any_step_of_the_contact_form_withdraws_consent(
    servers: Servers, step: str
) -> None:
    """A patient who said yes to being contacted and then says "no" (or "not sure")
    when asked for a name or a number has changed their mind: the form ends, nothing
    is kept, the team replies in the chat. (It used to answer "anything else?" and ask
    for the same detail again.)"""
    sender = new_sender()
    assert "contact you directly" in texts(
        servers.say(sender, "can i talk to a human please")
    )
    assert "What name" in texts(servers.say(sender, "yes"))
    if step == "details":
        assert "phone number or e-mail" in texts(servers.say(sender, "Sam Lee"))
    reply = texts(servers.say(sender, "no"))
    assert "The team will reply to you here" in reply
    assert "Is there anything else" not in reply
    assert "action_save_handoff_contact" in servers.bot_actions_after_last_user(sender)
    events = servers.tracker(sender)["events"]
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert slots.get("contact_consent") is False
    assert slots.get("contact_details") is None
    # The form is over: a general question is answered from the sheet and also joins
    # the open hand-off (a person has not yet replied); nobody asks for contact
    # details again.
    after = texts(servers.say(sender, "what is ketamine"))
    assert "best known as an" in after
    assert servers.bot_actions_after_last_user(sender)[-1] == "action_add_to_handoff"
    assert "phone number" not in after and "What name" not in after


def test_http_api_requires_a_jwt(servers: Servers) -> None:
    """More cases (expired, wrong secret, ?token=) in test_security_e2e.py."""
    url = f"{servers.rasa_url}/conversations/anyone/tracker"
    assert requests.get(url, timeout=10).status_code == 401
    wrong = requests.get(url, params={"token": servers.jwt_secret}, timeout=10)
    assert wrong.status_code == 401
    assert requests.get(url, headers=servers.api_headers(), timeout=10).status_code == 200
