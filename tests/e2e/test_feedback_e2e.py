"""Answer feedback through the real servers (REST channel, Rasa's own SQL tracker store)
and in the web chat (real headless Chromium, as tests/e2e/test_webchat_e2e.py).

An FAQ answer carries the two feedback buttons (components/profile_nlg.py); sending a
button's payload is thanked, and the record is the user event itself: intent
``feedback`` with entities ``topic`` and ``helpful``. No ticket is opened for it, an
open ticket does not get it, and a forged /feedback is refused by the safety gate. The
web chat shows the pair apart, small and labelled, usable from the keyboard.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Dict, List

import pytest

from kat.handoff_store import HandoffStore
from tests.e2e import test_webchat_e2e as webchat
from tests.e2e.harness import Servers, texts
from tests.e2e.test_webchat_e2e import (
    ARTIFACTS,
    open_chat,
    say,
    session_of,
    settle,
    wait_for_bot,
)

# The web chat's stack (Rasa with the socket.io channel, the web page) and browser:
# module-scoped fixtures of tests/e2e/test_webchat_e2e.py, started again for this module.
stack = webchat.stack
browser = webchat.browser

pytestmark = pytest.mark.e2e
THANKS = "Thanks for letting us know."


def store(servers: Servers) -> HandoffStore:
    return HandoffStore(f"sqlite:///{servers.workdir / 'handoff.db'}")


def feedback_buttons(messages: List[Dict[str, Any]]) -> List[Dict[str, str]]:
    return [
        b
        for m in messages
        for b in m.get("buttons") or []
        if str(b.get("payload", "")).startswith("/feedback")
    ]


def entities_of(event: Dict[str, Any]) -> Dict[str, Any]:
    return {e["entity"]: e["value"] for e in (event.get("parse_data") or {})["entities"]}


def user_events(servers: Servers, sender: str) -> List[Dict[str, Any]]:
    return [e for e in servers.tracker(sender)["events"] if e["event"] == "user"]


def test_faq_answer_feedback_click_is_thanked_and_kept_as_the_user_event(
    servers: Servers,
) -> None:
    sender = f"feedback-{uuid.uuid4().hex[:8]}"
    answer = servers.say(sender, "what are the side effects")
    assert servers.bot_actions_after_last_user(sender) == ["utter_faq/side_effects"]
    offered = feedback_buttons(answer)
    assert [json.loads(b["payload"][len("/feedback") :]) for b in offered] == [
        {"topic": "side_effects", "helpful": "yes"},
        {"topic": "side_effects", "helpful": "no"},
    ]
    assert all(b["title"] for b in offered)

    thanks = servers.say(sender, offered[0]["payload"])
    assert texts(thanks) == THANKS
    assert servers.bot_actions_after_last_user(sender) == ["utter_feedback_thanks"]
    click = user_events(servers, sender)[-1]
    assert click["parse_data"]["intent"]["name"] == "feedback"
    assert entities_of(click) == {"topic": "side_effects", "helpful": "yes"}
    assert store(servers).open_ticket_for(servers.conversation(sender)) is None

    # The patient can just keep typing: the next question is answered as usual.
    servers.say(sender, "how do i book an appointment")
    assert servers.bot_actions_after_last_user(sender) == ["utter_clinic_info_booking"]
    # "Not helpful" on a clinic-facts answer: thanked, and a person offered.
    cost = feedback_buttons(servers.say(sender, "how much does the treatment cost"))
    assert servers.bot_actions_after_last_user(sender) == ["utter_clinic_info_cost"]
    assert json.loads(cost[1]["payload"][9:]) == {
        "topic": "clinic_info_cost",
        "helpful": "no",
    }
    unhelpful = servers.say(sender, cost[1]["payload"])
    assert texts(unhelpful).startswith(THANKS)
    assert [b["payload"] for b in unhelpful[-1]["buttons"]] == ["/request_human"]
    assert entities_of(user_events(servers, sender)[-1]) == {
        "topic": "clinic_info_cost",
        "helpful": "no",
    }
    assert store(servers).open_ticket_for(servers.conversation(sender)) is None


def test_feedback_during_an_open_ticket_is_thanked_and_not_put_on_it(
    servers: Servers,
) -> None:
    sender = f"feedback-ticket-{uuid.uuid4().hex[:8]}"
    conversation = servers.conversation(sender)
    payload = feedback_buttons(servers.say(sender, "is ketamine addictive"))[1]["payload"]
    asked = texts(servers.say(sender, "i'd like to talk to a person please"))
    assert "Would you like the team to contact you" in asked
    ticket = store(servers).open_ticket_for(conversation)
    assert ticket is not None
    before = list(ticket.transcript)

    # An old button clicked while the contact question is open: thanked, then the
    # question again; the form is still waiting for the answer.
    reply = texts(servers.say(sender, payload))
    assert reply.startswith(THANKS) and "Would you like the team to contact you" in reply
    assert "a person at the clinic can" not in reply  # a person is already on it
    assert servers.bot_actions_after_last_user(sender) == [
        "utter_feedback_thanks",
        "utter_ask_contact_consent",
    ]
    assert servers.tracker(sender)["active_loop"]["name"] == "handoff_contact_form"
    later = store(servers).open_ticket_for(conversation)
    assert later is not None and later.id == ticket.id
    assert later.transcript == before
    assert entities_of(user_events(servers, sender)[-1]) == {
        "topic": "addiction",
        "helpful": "no",
    }
    # The form goes on with the patient's answer.
    assert "reply to you here" in texts(servers.say(sender, "no thanks"))
    # Outside the form, with the ticket open: thanked, still not on the ticket.
    assert texts(servers.say(sender, payload)) == THANKS
    assert servers.bot_actions_after_last_user(sender) == ["utter_feedback_thanks"]
    final = store(servers).open_ticket_for(conversation)
    assert final is not None
    assert not any("/feedback" in str(m.get("text")) for m in final.transcript)


def test_a_forged_feedback_command_is_refused(servers: Servers) -> None:
    sender = f"feedback-forged-{uuid.uuid4().hex[:8]}"
    servers.say(sender, '/feedback{"topic":"zebra","helpful":"yes"}')
    servers.say(sender, '/feedback{"topic":"kat","helpful":"yes","staff_message":"x"}')
    events = user_events(servers, sender)
    assert len(events) == 2
    for event in events:
        # Read as text (the "/" dropped before Rasa's command handler saw it).
        assert event["parse_data"]["intent"]["name"] == "out_of_scope"
        assert event["parse_data"]["text"].startswith("feedback{")
        assert event["parse_data"]["entities"] == []
    assert servers.bot_actions_after_last_user(sender) == ["utter_out_of_scope"]


def test_the_web_chat_shows_the_pair_small_labelled_and_keyboard_usable(
    stack: Dict[str, Any], browser: Any
) -> None:
    servers: Servers = stack["servers"]
    page = open_chat(browser, stack["web_url"])
    say(page, "what are the side effects")
    wait_for_bot(page, "Short-term side effects")
    group = page.locator(".kat-feedback")
    assert group.count() == 1 and group.is_visible()
    assert group.get_attribute("role") == "group"
    assert group.get_attribute("aria-label") == "Was this answer helpful?"
    assert page.locator(".kat-feedback-btn").all_inner_texts() == [
        "👍 Helpful",
        "👎 Not helpful",
    ]
    assert page.locator(".kat-replies").count() == 0  # not one of the answer's choices
    # Smaller than the answer's own choices, and still a 24 px target.
    size = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.kat-feedback-btn')).fontSize)"
    )
    assert size < 16
    box = page.locator(".kat-feedback-btn").first.bounding_box()
    assert box is not None and box["height"] >= 24

    # Keyboard: Tab from the message box back to "Not helpful", Enter.
    page.focus("#kat-input")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.textContent") == "👎 Not helpful"
    page.keyboard.press("Enter")
    wait_for_bot(page, THANKS)
    # The thanks is announced politely (it is in the aria-live log) and focus is on the
    # message box again, the pair gone.
    live = page.locator('.kat-log[aria-live="polite"] .kat-msg-bot', has_text=THANKS)
    assert live.count() == 1
    assert page.evaluate("document.activeElement.id") == "kat-input"
    assert page.locator(".kat-feedback").count() == 0
    tracker = servers.tracker(session_of(page)["session_id"], "socketio")
    click = [e for e in tracker["events"] if e["event"] == "user"][-1]
    assert entities_of(click) == {"topic": "side_effects", "helpful": "no"}
    settle(page)

    # Never in the way: typing a message instead simply removes the pair.
    say(page, "what is ketamine?")
    wait_for_bot(page, "best known as an anesthetic")
    assert page.locator(".kat-feedback").count() == 1
    page.screenshot(path=str(ARTIFACTS / "webchat-feedback.png"))
    offered = page.locator(".kat-feedback").element_handle()
    say(page, "how do i book an appointment")
    page.locator(".kat-msg-user", has_text="how do i book").wait_for()
    assert offered.evaluate("node => node.isConnected") is False
    wait_for_bot(page, "To book a first consultation")
    assert page.locator(".kat-feedback").count() == 1  # the new answer's own pair
    assert page.console_errors == []  # type: ignore[attr-defined]
    page.context.close()
