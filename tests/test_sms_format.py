"""SMS formatting: numbered options and messages split under the carrier limit."""

from __future__ import annotations

from kat.sms_format import SMS_LIMIT, number_options, pick_option, split_message

BUTTONS = [
    {"title": "What is KAT?", "payload": "what is kat"},
    {"title": "Talk to a person", "payload": "/request_human"},
]


def test_buttons_become_numbered_options_and_a_number_picks_one() -> None:
    text = number_options("Choose one:", BUTTONS)
    assert "1. What is KAT?" in text and "2. Talk to a person" in text
    assert pick_option("2", BUTTONS) == "/request_human"
    assert pick_option(" 1. ", BUTTONS) == "what is kat"
    assert pick_option("3", BUTTONS) is None
    assert pick_option("2 pills", BUTTONS) is None  # not a bare number: real text
    assert pick_option("2", None) is None


def test_long_answers_are_split_at_sentence_boundaries_without_losing_text() -> None:
    sentence = "Ketamine may help some adults with ADHD. "
    text = sentence * 120
    parts = split_message(text)
    assert len(parts) > 1
    assert all(len(p) <= SMS_LIMIT for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts).split() == text.split()
    assert split_message("short") == ["short"]
