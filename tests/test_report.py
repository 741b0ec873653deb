"""kat.report / kat.insights on real rows: Rasa's own SQLTrackerStore writes the
conversations, the hand-off store the tickets; on SQLite and on PostgreSQL. Every number
is checked exactly, and no message text, contact, staff name or conversation id may
reach any of the formats."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from kat import report
from kat.handoff_store import HandoffStore
from kat.handoff_store import tickets as tickets_table
from kat.insights import Insights, compute, median, percentile
from tests import services

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)  # a Monday
DAY = {
    d: datetime(2026, 5, 26, tzinfo=timezone.utc) + timedelta(days=i)
    for i, d in enumerate(("05-26", "05-27", "05-28", "05-29", "05-30", "05-31", "06-01"))
}

# Planted: none of these may appear in any output.
IDS = {
    "web": "web:SECRETWEB1",
    "sms": "sms:+14155550199",
    "telegram": "telegram:777123456",
    "whatsapp": "whatsapp:+14155550188",
    "rest": "rest:client-4242",
    "slack": "slack:U0SLACKSECRET",
    "messenger": "messenger:psid5555",
    "legacy": "legacy-sender-xyz",
    "leaky": "Leaky.Person@example.com:zz",
    "old": "web:OLDCONVERSATION",
}
SECRETS = [
    *IDS.values(),
    "SECRETWEB1",
    "14155550199",
    "777123456",
    "client-4242",
    "psid5555",
    "Leaky.Person",
    "ZEBRA",  # every planted message text contains it
    "+15550001111",
    "pat@example.org",
    "Pat Planted",
    "dr_anna",
    "nurse_bob",
]


def at(day: str, hour: int, minute: int = 0, second: int = 0) -> float:
    return (DAY[day] + timedelta(hours=hour, minutes=minute, seconds=second)).timestamp()


def user(stamp: float, intent: str, channel: Any = None, **parse: Any) -> Any:
    from rasa.shared.core.events import UserUttered

    return UserUttered(
        f"ZEBRA patient text {intent} {stamp}",
        {"name": intent, "confidence": 0.97},
        parse.get("entities") or [],
        timestamp=stamp,
        input_channel=channel,
    )


def answer(stamp: float, utter: str, action: str = "") -> List[Any]:
    """What Rasa records for a response: the action, then the bot utterance."""
    from rasa.shared.core.events import ActionExecuted, BotUttered

    return [
        ActionExecuted(action or utter.split("/")[0], timestamp=stamp + 0.1),
        BotUttered(f"ZEBRA bot text {utter}", {}, {"utter_action": utter}, stamp + 0.2),
        ActionExecuted("action_listen", timestamp=stamp + 0.3),
    ]


def action(stamp: float, name: str) -> Any:
    from rasa.shared.core.events import ActionExecuted

    return ActionExecuted(name, timestamp=stamp)


def staff(stamp: float, intent: str = "staff_reply") -> List[Any]:
    """What the inbox's trigger_intent leaves in the conversation."""
    from rasa.shared.core.events import UserUttered

    event = UserUttered.create_external(
        intent, [{"entity": "staff_message", "value": "ZEBRA staff text"}], "rest"
    )
    event.timestamp = stamp
    return [event, *answer(stamp, "utter_staff_reply")]


def conversations() -> Dict[str, List[Any]]:
    t = at
    return {
        IDS["web"]: [
            user(t("05-27", 10), "faq", "socketio"),
            *answer(t("05-27", 10), "utter_faq/side_effects", "utter_faq"),
            user(t("05-27", 10, 5), "clinic_info_cost", "socketio"),
            *answer(t("05-27", 10, 5), "utter_clinic_info_cost"),
            user(t("05-29", 9), "faq", "socketio"),
            *answer(t("05-29", 9), "utter_faq/side_effects", "utter_faq"),
        ],
        IDS["sms"]: [
            user(t("05-28", 15), "faq", "twilio"),
            *answer(t("05-28", 15), "utter_faq/cost", "utter_faq"),
            user(t("05-28", 15, 2), "faq", "twilio"),
            *answer(t("05-28", 15, 2), "utter_faq_unsure"),
        ],
        IDS["telegram"]: [
            user(t("05-30", 8), "out_of_scope", "telegram"),
            *answer(t("05-30", 8), "utter_out_of_scope"),
            user(t("05-30", 8, 1), "faq", "telegram"),
            *answer(t("05-30", 8, 1), "utter_not_covered"),
            user(t("05-30", 8, 2), "greet", "telegram"),
            *answer(t("05-30", 8, 2), "utter_greet"),
        ],
        IDS["whatsapp"]: [
            user(t("06-01", 8), "crisis", "twilio"),
            *answer(t("06-01", 8), "utter_crisis_help"),
            action(t("06-01", 8, 0, 3), "action_handoff"),
            user(t("06-01", 8, 10), "inform", "twilio"),
            *answer(t("06-01", 8, 10), "utter_crisis_followup"),
            action(t("06-01", 8, 10, 3), "action_add_to_handoff"),
        ],
        IDS["rest"]: [
            user(t("05-27", 12), "nlu_fallback", "rest"),
            action(t("05-27", 12, 0, 3), "action_handoff"),
            *answer(t("05-27", 12, 0, 4), "utter_handoff_confirmation", "x"),
            user(t("05-31", 11), "request_human", "rest"),
            action(t("05-31", 11, 0, 3), "action_handoff"),
            *staff(t("05-31", 11, 10, 5)),
            *staff(t("05-31", 11, 20), "staff_resolved"),
        ],
        IDS["slack"]: [
            user(t("05-29", 14), "clinical_question", "slack"),
            action(t("05-29", 14, 0, 3), "action_handoff"),
        ],
        IDS["messenger"]: [
            user(t("05-26", 0, 30), "crisis", "facebook"),
            *answer(t("05-26", 0, 30), "utter_crisis_help_es"),
            action(t("05-26", 0, 30, 3), "action_handoff"),
            *staff(t("05-26", 2, 30, 5)),
        ],
        IDS["legacy"]: [
            user(t("05-30", 20), "greet", "socketio"),
            *answer(t("05-30", 20), "utter_greet"),
        ],
        IDS["leaky"]: [
            user(t("05-31", 16), "faq"),
            *answer(t("05-31", 16), "utter_faq/cost", "utter_faq"),
        ],
        IDS["old"]: [  # before the window
            user((NOW - timedelta(days=12)).timestamp(), "faq", "socketio"),
            *answer((NOW - timedelta(days=12)).timestamp(), "utter_faq/dosing"),
        ],
    }


def save(tracker_store: Any, sender: str, events: List[Any]) -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    asyncio.run(tracker_store.save(DialogueStateTracker.from_events(sender, events)))


def ticket(
    store: HandoffStore,
    conversation: str,
    reason: str,
    urgent: bool,
    created: float,
    claimed_by: str = "",
    resolve: bool = False,
    staff_time: Any = "absent",
    delivered: bool = True,
) -> str:
    transcript: List[Dict[str, Any]] = [
        {"from": "patient", "text": "ZEBRA transcript text", "time": created - 3}
    ]
    opened = store.open_ticket(conversation, "rest", reason, urgent, transcript)
    store.set_contact(opened.id, {"name": "Pat Planted", "phone": "+15550001111"})
    if claimed_by:
        assert store.claim(opened.id, claimed_by).ok
    if staff_time != "absent":
        entry = {"from": "staff", "text": "ZEBRA staff reply", "time": staff_time}
        store.append_messages(opened.id, [{**entry, "delivered": delivered}])
    if resolve:
        store.set_status(opened.id, "resolved")
    with store.engine.begin() as conn:
        conn.execute(
            tickets_table.update()
            .where(tickets_table.c.id == opened.id)
            .values(created_at=datetime.fromtimestamp(created, timezone.utc))
        )
    return opened.id


def populate(tracker_store: Any, store: HandoffStore) -> None:
    for sender, events in conversations().items():
        save(tracker_store, sender, events)
    t = at
    ticket(store, IDS["messenger"], "crisis", True, t("05-26", 0, 30, 5), "dr_anna", True)
    ticket(
        store, IDS["rest"], "repeated_fallback", False, t("05-27", 12, 0, 5), resolve=True
    )
    # The reply's time on the ticket (the inbox records none yet; a future one may).
    created = t("05-29", 14, 0, 5)
    ticket(
        store,
        IDS["slack"],
        "clinical_question",
        True,
        created,
        "nurse_bob",
        staff_time=created + 1800,
    )
    # As the inbox writes it today: no time; the tracker's staff_reply has it.
    ticket(
        store,
        IDS["rest"],
        "patient_asked",
        False,
        t("05-31", 11, 0, 5),
        "nurse_bob",
        resolve=True,
        staff_time=None,
    )
    # A reply that did not reach the patient is no reply.
    created = t("06-01", 8, 0, 5)
    ticket(
        store,
        IDS["whatsapp"],
        "crisis",
        True,
        created,
        staff_time=created + 60,
        delivered=False,
    )
    # Older than the window: only in the "unclaimed urgent now" snapshot.
    ticket(
        store,
        IDS["sms"],
        "clinical_question",
        True,
        (NOW - timedelta(days=22)).timestamp(),
    )
    ticket(
        store,
        IDS["old"],
        "patient_asked",
        False,
        (NOW - timedelta(days=30)).timestamp(),
        resolve=True,
    )


def by_kind(insights: Insights, kind: str) -> List[Any]:
    return insights.of_kind(kind)


def check_numbers(insights: Insights) -> None:
    days = by_kind(insights, "day")
    weeks = by_kind(insights, "week")
    (total,) = by_kind(insights, "total")
    assert [d.start.isoformat() for d in days] == [f"2026-{d}" for d in DAY]
    assert [(w.start.isoformat(), w.days) for w in weeks] == [
        ("2026-05-26", 6),
        ("2026-06-01", 1),
    ]
    assert insights.tracker_found
    assert [dict(d.messages) for d in days] == [
        {"messenger": 1},
        {"web": 2, "rest": 1},
        {"sms": 2},
        {"web": 1, "slack": 1},
        {"telegram": 3, "web": 1},
        {"rest": 1, "other": 1},
        {"whatsapp": 2},
    ]
    assert [dict(d.conversations) for d in days] == [
        {"messenger": 1},
        {"web": 1, "rest": 1},
        {"sms": 1},
        {"web": 1, "slack": 1},
        {"telegram": 1, "web": 1},
        {"rest": 1, "other": 1},
        {"whatsapp": 1},
    ]
    assert dict(weeks[0].conversations) == {
        "web": 2,
        "rest": 1,
        "sms": 1,
        "slack": 1,
        "telegram": 1,
        "messenger": 1,
        "other": 1,
    }
    assert sum(weeks[0].messages.values()) == 14 and dict(weeks[1].messages) == {
        "whatsapp": 2
    }
    assert sum(total.conversations.values()) == 9 and sum(total.messages.values()) == 16
    assert dict(total.outcomes) == {
        "answered": 5,
        "unsure": 1,
        "not_answered": 2,
        "handed_to_person": 6,
        "other": 2,
    }
    assert [dict(d.outcomes) for d in days] == [
        {"handed_to_person": 1},
        {"answered": 2, "handed_to_person": 1},
        {"answered": 1, "unsure": 1},
        {"answered": 1, "handed_to_person": 1},
        {"not_answered": 2, "other": 2},
        {"handed_to_person": 1, "answered": 1},
        {"handed_to_person": 2},
    ]
    assert dict(total.faq_topics) == {"side_effects": 2, "cost": 2}  # not "dosing"
    assert [d.crisis_replies for d in days] == [1, 0, 0, 0, 0, 0, 1]
    assert [w.crisis_replies for w in weeks] == [1, 1]
    assert dict(total.handoffs) == {
        "crisis": 2,
        "repeated_fallback": 1,
        "clinical_question": 1,
        "patient_asked": 1,
    }
    assert [d.tickets for d in days] == [1, 1, 0, 1, 0, 1, 1]
    assert (total.claimed, sorted(total.reply_seconds)) == (3, [600.0, 1800.0, 7200.0])
    assert [d.reply_seconds for d in days] == [
        [7200.0],
        [],
        [],
        [1800.0],
        [],
        [600.0],
        [],
    ]
    assert (weeks[0].tickets, weeks[0].claimed, weeks[1].tickets, weeks[1].claimed) == (
        4,
        3,
        1,
        0,
    )
    assert median(total.reply_seconds) == 1800.0
    assert percentile(total.reply_seconds) == 7200.0
    assert dict(insights.unclaimed_urgent) == {"crisis": 1, "clinical_question": 1}
    assert insights.oldest_unclaimed_urgent_seconds == 22 * 86400
    assert not insights.feedback_recorded and total.feedback == {}


def check_formats(insights: Insights) -> None:
    outputs = {name: render(insights) for name, render in report.FORMATS.items()}
    for name, out in outputs.items():
        for secret in SECRETS:
            assert secret not in out, (name, secret)
        assert "no feedback recorded yet" in out.lower()
    text = outputs["text"]
    assert "2026-05-26 to 2026-06-01 (UTC)" in text
    assert "cost 2, side_effects 2" in text
    assert "30m 00s" in text and "2h 00m" in text and "22d 00h" in text
    rows = list(csv.reader(io.StringIO(outputs["csv"])))
    assert rows[0] == ["period", "period_start", "metric", "key", "value"]
    values = {tuple(r[:4]): r[4] for r in rows[1:]}
    assert len(values) == len(rows) - 1  # one row per metric per period
    total = ("total", "2026-05-26")
    assert values[(*total, "conversations", "all")] == "9"
    assert values[(*total, "patient_messages", "web")] == "4"
    assert values[(*total, "outcome", "handed_to_person")] == "6"
    assert values[(*total, "outcome_share", "answered")] == "0.3125"
    assert values[(*total, "faq_answers", "side_effects")] == "2"
    assert values[(*total, "handoff_tickets", "crisis")] == "2"
    assert values[(*total, "crisis_replies", "all")] == "2"
    # No staff audit trail in this store: no claim times.
    assert values[(*total, "time_to_claim_seconds", "median")] == ""
    assert values[(*total, "time_to_first_reply_seconds", "median")] == "1800.0"
    assert values[(*total, "time_to_first_reply_seconds", "p90")] == "7200.0"
    assert values[(*total, "feedback", "all")] == "no feedback recorded yet"
    assert values[("week", "2026-06-01", "patient_messages", "whatsapp")] == "2"
    assert values[("day", "2026-05-30", "outcome", "not_answered")] == "2"
    assert values[("now", "2026-06-01", "unclaimed_urgent", "all")] == "2"
    assert values[("now", "2026-06-01", "oldest_unclaimed_urgent_seconds", "all")] == (
        "1900800.0"
    )
    page = outputs["html"]
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<table>" in page
    for external in ("<script", "http://", "https://", "<link", "src="):
        assert external not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def sqlite_stores(tmp_path: Path) -> Tuple[Any, HandoffStore]:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    tracker_store = SQLTrackerStore(
        Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db")
    )
    return tracker_store, HandoffStore(f"sqlite:///{tmp_path / 'handoff.db'}")


def test_sqlite(tmp_path: Path) -> None:
    tracker_store, store = sqlite_stores(tmp_path)
    populate(tracker_store, store)
    insights = compute(tracker_store.engine, store, 7, now=NOW)
    check_numbers(insights)
    check_formats(insights)


@contextlib.contextmanager
def postgres_stores() -> Iterator[Tuple[Any, HandoffStore]]:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    services.require("postgres")
    with services.fresh_database("kat_report") as name:
        tracker_store = SQLTrackerStore(
            Domain.empty(),
            dialect="postgresql",
            host=services.PG_HOST,
            port=services.PG_PORT,
            db=name,
            username=services.PG_USER,
            password=services.PG_PASSWORD,
        )
        store = HandoffStore(services.pg_url(name))
        try:
            yield tracker_store, store
        finally:
            tracker_store.engine.dispose()
            store.engine.dispose()


def test_postgresql() -> None:
    with postgres_stores() as (tracker_store, store):
        populate(tracker_store, store)
        insights = compute(tracker_store.engine, store, 7, now=NOW)
        check_numbers(insights)
        check_formats(insights)


def test_empty_databases_in_every_format(tmp_path: Path) -> None:
    store = HandoffStore(f"sqlite:///{tmp_path / 'handoff.db'}")
    no_table = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    for tracker in (None, no_table):
        insights = compute(tracker, store, 3, now=NOW)
        assert not insights.tracker_found
        assert [p.kind for p in insights.periods] == ["day"] * 3 + [
            "week",
            "week",
            "total",
        ]
        assert all(sum(p.messages.values()) == 0 for p in insights.periods)
        assert (
            not insights.unclaimed_urgent
            and insights.oldest_unclaimed_urgent_seconds is None
        )
        text = report.as_text(insights)
        assert (
            "No conversations recorded yet" in text and "No feedback recorded yet" in text
        )
        assert "time_to_claim_seconds" in report.as_csv(insights)
        assert "<table>" in report.as_html(insights)
    # Rasa's table exists but holds nothing in the window.
    tracker_store, _ = sqlite_stores(tmp_path)
    save(tracker_store, IDS["old"], conversations()[IDS["old"]])
    insights = compute(tracker_store.engine, store, 7, now=NOW)
    assert insights.tracker_found and sum(insights.periods[-1].messages.values()) == 0
    assert "No patient messages in this period." in report.as_text(insights)


def test_feedback_is_counted_per_known_topic(tmp_path: Path) -> None:
    tracker_store, store = sqlite_stores(tmp_path)

    def feedback(stamp: float, topic: str, *helpful: str) -> Any:
        entities = [{"entity": "topic", "value": topic}]
        entities += [{"entity": "helpful", "value": h} for h in helpful]
        return user(stamp, "feedback", "socketio", entities=entities)

    save(
        tracker_store,
        IDS["web"],
        [
            user(at("05-31", 9), "faq", "socketio"),
            *answer(at("05-31", 9), "utter_faq/side_effects", "utter_faq"),
            feedback(at("05-31", 9, 1), "side_effects", "yes"),
            feedback(at("06-01", 9), "side_effects", "no"),
            feedback(at("06-01", 9, 1), "cost", "true"),
            feedback(at("06-01", 9, 2), "cost"),
            # An entity value is the patient's words: an unknown topic is never shown.
            feedback(at("06-01", 9, 3), "ZEBRA my phone is +15550001111", "yes"),
        ],
    )
    insights = compute(tracker_store.engine, store, 2, now=NOW, known_topics=["cost"])
    assert insights.feedback_recorded
    days = by_kind(insights, "day")
    assert {t: dict(c) for t, c in days[0].feedback.items()} == {
        "side_effects": {"helpful": 1}
    }
    assert {t: dict(c) for t, c in insights.periods[-1].feedback.items()} == {
        "side_effects": {"helpful": 1, "not_helpful": 1},
        "cost": {"helpful": 1, "unrated": 1},
        "other": {"helpful": 1},
    }
    for render in report.FORMATS.values():
        out = render(insights)
        assert "ZEBRA" not in out and "+15550001111" not in out
        assert "no feedback recorded yet" not in out.lower()
    assert "feedback_not_helpful,side_effects,1" in report.as_csv(insights)
    # The clicks are feedback, not patient messages: one message, the FAQ question.
    assert sum(insights.periods[-1].messages.values()) == 1


def test_days_follow_the_clinic_time_zone(tmp_path: Path) -> None:
    tracker_store, store = sqlite_stores(tmp_path)
    # 02:00 UTC on 1 June is 22:00 on 31 May in New York.
    late = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc).timestamp()
    save(tracker_store, IDS["sms"], [user(late, "greet", "twilio")])
    new_york = compute(tracker_store.engine, store, 2, ZoneInfo("America/New_York"), NOW)
    assert [sum(d.messages.values()) for d in by_kind(new_york, "day")] == [1, 0]
    utc = compute(tracker_store.engine, store, 2, now=NOW)
    assert [sum(d.messages.values()) for d in by_kind(utc, "day")] == [0, 1]
    assert "(America/New_York)" in report.as_text(new_york)
    with pytest.raises(ValueError):
        compute(None, store, 0, now=NOW)


def test_helpers() -> None:
    assert median([]) is None and percentile([]) is None
    assert median([3.0, 1.0, 2.0, 10.0]) == 2.5
    assert percentile([float(n) for n in range(1, 11)]) == 9.0
    assert percentile([5.0]) == 5.0
    assert [report.duration(s) for s in (None, 9, 65, 3600, 90061)] == [
        "-",
        "9s",
        "1m 05s",
        "1h 00m",
        "1d 01h",
    ]


def test_main_does_not_create_a_missing_tracker_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    for name in ("KAT_TRACKER_DB_URL", "KAT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAT_TRACKER_DB", str(tmp_path / "none.db"))
    monkeypatch.setenv("KAT_HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'h.db'}")
    assert report.main(["--days", "2", "--format", "csv", "--timezone", "UTC"]) == 0
    assert "no feedback recorded yet" in capsys.readouterr().out
    assert not (tmp_path / "none.db").exists()
    assert report.main(["--days", "0"]) == 1
    assert "report failed: ValueError" in capsys.readouterr().err


def test_command_line(tmp_path: Path) -> None:
    tracker_store, store = sqlite_stores(tmp_path)
    today = datetime.now(timezone.utc).timestamp() - 60
    save(
        tracker_store,
        IDS["web"],
        [
            user(today, "faq", "socketio"),
            *answer(today, "utter_faq/side_effects", "utter_faq"),
        ],
    )
    ticket(store, IDS["web"], "crisis", True, today)
    env = {
        "KAT_TRACKER_DB": str(tmp_path / "tracker.db"),
        "KAT_HANDOFF_DB_URL": f"sqlite:///{tmp_path / 'handoff.db'}",
        "PYTHONPATH": str(ROOT),
        "PATH": "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "kat.report", "--days", "7"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    assert "the last 7 days" in out and "side_effects 1" in out
    assert "Unclaimed urgent tickets (now)" in out and "crisis  " in out
    for secret in SECRETS:
        assert secret not in out


def test_time_to_claim_comes_from_the_staff_audit_trail(tmp_path: Path) -> None:
    from kat.audit import AuditLog, audit

    store = HandoffStore(f"sqlite:///{tmp_path / 'h.db'}")
    now = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
    created = (now - timedelta(hours=3)).timestamp()
    first = ticket(store, "rest:claimed", "clinical_question", False, created, "jo")
    second = ticket(store, "rest:other", "patient_asked", False, created, "jo")
    AuditLog(store)  # creates the table
    with store.engine.begin() as conn:
        for ticket_id, minutes, action in (
            (first, 10, "claim"),
            (first, 50, "take_over"),  # the first claim counts
            (second, 30, "claim"),
        ):
            conn.execute(
                audit.insert().values(
                    at=datetime.fromtimestamp(created, timezone.utc)
                    + timedelta(minutes=minutes),
                    username="jo",
                    action=action,
                    ticket_id=ticket_id,
                )
            )
    insights = compute(None, store, 7, now=now)
    [total] = insights.of_kind("total")
    assert sorted(total.claim_seconds) == [600.0, 1800.0]
    assert median(total.claim_seconds) == 1200.0
    assert "20m 00s" in report.as_text(insights)
