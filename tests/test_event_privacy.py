"""kat/event_privacy.py: the contact form's answers masked; the event stream text-free."""

from __future__ import annotations

from typing import Any, Dict

from kat.event_privacy import MASK, contact_values, for_broker, include_text, masked


def user(text: str) -> Dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "timestamp": 1.0,
        "parse_data": {
            "text": text,
            "intent": {"name": "affirm", "confidence": 0.9},
            "entities": [{"entity": "contact", "value": text}],
            "response_selector": {"faq": {"response": {"responses": [{"text": "x"}]}}},
        },
    }


def slot(name: str, value: Any) -> Dict[str, Any]:
    return {"event": "slot", "name": name, "value": value, "timestamp": 1.0}


def test_contact_values_are_the_contact_slots_values_only() -> None:
    events = [
        slot("contact_name", "Sam  Lee"),
        slot("contact_details", "+1 415 555 0199"),
        slot("contact_name", None),
        slot("handoff_ticket_id", "abc"),
    ]
    assert contact_values(events) == {"sam lee", "+1 415 555 0199"}


def test_the_answers_and_their_slots_are_masked_other_messages_are_not() -> None:
    values = {"sam lee", "+1 415 555 0199"}
    answer = masked(user(" Sam Lee "), values)
    assert answer is not None
    assert answer["text"] == answer["parse_data"]["text"] == MASK
    assert answer["parse_data"]["entities"] == []
    assert answer["parse_data"]["intent"]["name"] == "affirm"  # what analytics need
    assert "Sam" not in str(answer)
    assert masked(user("sam lee said hi"), values) is None  # not an answer
    assert masked(user("yes"), values) is None
    assert masked(slot("contact_details", "+1 415 555 0199"), values) == slot(
        "contact_details", None
    )
    assert masked(slot("contact_details", None), values) is None  # already clean
    assert masked(slot("handoff_active", True), values) is None


def test_the_stream_carries_no_text_by_default() -> None:
    event = {**user("i'm on lexapro, is that ok?"), "sender_id": "rest:x"}
    out = for_broker(event)
    assert "lexapro" not in str(out)
    assert out["parse_data"]["intent"]["name"] == "affirm"
    assert out["sender_id"] == "rest:x" and out["event"] == "user"
    bot = {
        "event": "bot",
        "text": "Here is what the sheet says",
        "data": {"buttons": [{"title": "Talk to a person"}]},
        "metadata": {"utter_action": "utter_faq/kat"},
    }
    assert for_broker(bot) == {"event": "bot", "metadata": bot["metadata"]}
    assert for_broker(slot("staff_message", "call me back"))["value"] is None
    assert for_broker(slot("handoff_active", True))["value"] is True
    assert event["text"] == "i'm on lexapro, is that ok?"  # the tracker's copy untouched


def test_with_text_on_the_stream_the_contact_details_still_never_go() -> None:
    assert for_broker(user("what is ketamine"), with_text=True)["text"] == (
        "what is ketamine"
    )
    assert for_broker(slot("staff_message", "hi"), with_text=True)["value"] == "hi"
    assert for_broker(slot("contact_name", "Sam Lee"), with_text=True)["value"] is None


def test_include_text_is_off_unless_set() -> None:
    assert include_text({}) is False
    assert include_text({"KAT_BROKER_INCLUDE_TEXT": "false"}) is False
    assert include_text({"KAT_BROKER_INCLUDE_TEXT": "true"}) is True
