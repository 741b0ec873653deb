"""The FAQ topics offered when the assistant is unsure (kat/faq_topics.py and
content/faq_topics.yml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kat.faq_topics import likely_topics, load_topics, topic_buttons

ROOT = Path(__file__).resolve().parent.parent
RANKING = [
    {"intent_response_key": "faq/side_effects", "confidence": 0.30},
    {"intent_response_key": "faq/mechanism", "confidence": 0.50},
    {"intent_response_key": "faq/dose", "confidence": 0.09},
    {"intent_response_key": "faq/addiction", "confidence": 0.01},
]


def test_likely_topics_most_likely_first_above_the_floor() -> None:
    assert likely_topics(RANKING) == ["mechanism", "side_effects"]
    assert likely_topics(RANKING, limit=5) == ["mechanism", "side_effects", "dose"]
    assert likely_topics(RANKING, limit=5, floor=0.2) == ["mechanism", "side_effects"]
    assert likely_topics([]) == []
    assert likely_topics([{"intent_response_key": "other/x", "confidence": 1}]) == []


def test_buttons_send_the_topics_question() -> None:
    topics = load_topics()
    buttons = topic_buttons(RANKING, topics)
    assert buttons == [
        {
            "title": topics["mechanism"]["title"],
            "payload": topics["mechanism"]["question"],
        },
        {
            "title": topics["side_effects"]["title"],
            "payload": topics["side_effects"]["question"],
        },
    ]
    # A topic the file does not describe is skipped, not shown half-made.
    assert topic_buttons(RANKING, {"side_effects": topics["side_effects"]}) == [
        {
            "title": topics["side_effects"]["title"],
            "payload": topics["side_effects"]["question"],
        }
    ]


def test_every_faq_topic_has_a_short_title_and_a_question() -> None:
    topics = load_topics()
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    answered = {
        name.split("/", 1)[1]
        for name in domain["responses"]
        if name.startswith("utter_faq/")
    }
    assert set(topics) == answered
    for name, entry in topics.items():
        assert len(entry["title"]) <= 24, name  # fits a button on a phone
        assert not entry["question"].startswith("/"), name


def test_entries_without_title_or_question_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "faq_topics.yml"
    bad.write_text("topics:\n  dose:\n    title: The dose used\n")
    with pytest.raises(ValueError, match="dose"):
        load_topics(bad)
