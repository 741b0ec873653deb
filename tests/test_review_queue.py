"""kat/review_queue.py on rows Rasa's own SQLTrackerStore writes (SQLite, tmp_path):
what goes into the review queue and what never does, labels, the export, retention."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, List

import pytest
import sqlalchemy as sa
import yaml

from kat.event_privacy import MASK
from kat.handoff_store import HandoffStore, utcnow
from kat.review_queue import (
    NOT_FOR_ASSISTANT,
    ReviewLabels,
    allowed_labels,
    entries,
    export_yaml,
    with_labels,
)

NOW = time.time()


def user(text: str, intent: str, seconds_ago: float, entities: Any = None) -> Any:
    from rasa.shared.core.events import UserUttered

    return UserUttered(
        text,
        {"name": intent, "confidence": 0.9},
        entities or [],
        timestamp=NOW - seconds_ago,
        input_channel="rest",
    )


def bot(utter: str, seconds_ago: float) -> List[Any]:
    from rasa.shared.core.events import ActionExecuted, BotUttered

    return [
        ActionExecuted(utter.split("/")[0], timestamp=NOW - seconds_ago + 0.1),
        BotUttered("a reply", {}, {"utter_action": utter}, NOW - seconds_ago + 0.2),
    ]


def feedback(helpful: str, seconds_ago: float) -> Any:
    entities = [
        {"entity": "topic", "value": "side_effects"},
        {"entity": "helpful", "value": helpful},
    ]
    return user('/feedback{"topic":"side_effects"}', "feedback", seconds_ago, entities)


@pytest.fixture
def tracker(tmp_path: Path) -> sa.engine.Engine:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    db = tmp_path / "tracker.db"
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    conversations = {
        "rest:a": [
            user("how long do the effects last", "faq", 300),
            *bot("utter_not_covered", 300),
            user("book me a flight to boston", "out_of_scope", 290),
            *bot("utter_out_of_scope", 290),
            user("what does it do to you", "faq", 280),
            *bot("utter_faq/side_effects", 280),
            feedback("no", 270),
            user("whats the dose like", "faq", 260),
            *bot("utter_faq/dose", 260),
            feedback("yes", 250),
        ],
        "rest:b": [
            user("i want to end it all", "crisis", 200),
            *bot("utter_not_covered", 200),  # even with such a reply: never queued
            user("feeling off lately", "check_in", 190),
            *bot("utter_out_of_scope", 190),
            user(MASK, "nlu_fallback", 180),
            *bot("utter_out_of_scope", 180),
            user("/request_human", "request_human", 170),
            *bot("utter_faq_unsure", 170),
            user("is it kind of like a trip", "faq", 160),
            *bot("utter_faq_unsure", 160),
        ],
        "rest:old": [
            user("a question from long ago", "faq", 200 * 86400),
            *bot("utter_faq_unsure", 200 * 86400),
        ],
    }
    for sender, events in conversations.items():
        asyncio.run(
            store.save(DialogueStateTracker.from_events(sender, events, slots=[]))
        )
    return sa.create_engine(f"sqlite:///{db}")


def test_what_goes_into_the_queue_and_what_never_does(tracker: sa.engine.Engine) -> None:
    found = entries(tracker, days=90)
    assert [(e.text, e.reason, e.topic) for e in found] == [
        ("how long do the effects last", "not_covered", None),
        ("book me a flight to boston", "out_of_scope", None),
        ("what does it do to you", "thumbs_down", "side_effects"),
        ("is it kind of like a trip", "rather_not_guess", None),
    ]
    assert all(e.channel == "rest" for e in found)
    assert entries(None, days=90) == []


def test_labels_export_and_retention(tmp_path: Path, tracker: sa.engine.Engine) -> None:
    store = HandoffStore(f"sqlite:///{tmp_path / 'h.db'}")
    book = ReviewLabels(store)
    found = entries(tracker, days=90)
    book.set(found[0].id, NOT_FOR_ASSISTANT, "rev")
    book.set(found[2].id, "faq/side_effects", "rev")
    book.set(found[3].id, "faq/side_effects", "rev")
    labelled = with_labels(found, book.all())
    assert [e.label for e in labelled] == [
        NOT_FOR_ASSISTANT,
        None,
        "faq/side_effects",
        "faq/side_effects",
    ]
    exported = export_yaml(labelled)
    data = yaml.safe_load(exported)
    assert data["nlu"] == [
        {
            "intent": "faq/side_effects",
            "examples": "- what does it do to you\n- is it kind of like a trip\n",
        }
    ]
    assert "how long do the effects last" not in exported  # not for the assistant
    assert "candidate" in exported.lower() and "never retrains" in exported
    assert book.purge_before(utcnow() - timedelta(days=1)) == 0
    assert book.purge_before(utcnow() + timedelta(seconds=1)) == 3
    assert book.all() == {}


def test_the_labels_are_the_faq_topics_and_the_domains_intents() -> None:
    labels = allowed_labels()
    assert {"faq/side_effects", "faq/dose", NOT_FOR_ASSISTANT, "not_covered"} <= labels
    assert "crisis" not in labels and "feedback" not in labels and "faq" not in labels


def test_the_queue_on_postgresql() -> None:
    """The production profile's database: the same entries from Rasa's rows."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from tests import services

    services.require("postgres")
    with services.fresh_database("kat_review") as database:
        store = SQLTrackerStore(
            Domain.empty(),
            dialect="postgresql",
            host=services.PG_HOST,
            port=services.PG_PORT,
            db=database,
            username=services.PG_USER,
            password=services.PG_PASSWORD,
        )
        events = [
            user("is there an age limit", "faq", 100),
            *bot("utter_not_covered", 100),
            user("i want to die", "crisis", 90),
            *bot("utter_out_of_scope", 90),
        ]
        asyncio.run(
            store.save(DialogueStateTracker.from_events("sms:+1555", events, slots=[]))
        )
        engine = sa.create_engine(services.pg_url(database))
        try:
            found = entries(engine, days=90)
            assert [(e.text, e.reason, e.channel) for e in found] == [
                ("is there an age limit", "not_covered", "sms")
            ]
            handoff = HandoffStore(services.pg_url(database))
            ReviewLabels(handoff).set(found[0].id, "not_covered", "rev")
            assert ReviewLabels(handoff).all() == {found[0].id: "not_covered"}
            handoff.engine.dispose()
        finally:
            engine.dispose()
            store.engine.dispose()
