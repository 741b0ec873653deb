"""What the assistant did, in numbers, per day and per week of the last N days.

Pure helpers (SQLAlchemy, no Rasa imports) behind ``python -m kat.report``. They read
Rasa's ``events`` table (the SQL tracker store: one row per event, ``data`` the event
as JSON) and the hand-off tickets (kat/handoff_store.py). What they return is counts,
shares, durations and names from fixed vocabularies — channels, FAQ topics, hand-off
reasons, outcomes — never a message text, a contact or a conversation id: those stay
inside the loops below (the ids only to count distinct conversations and to match a
ticket with its conversation's staff replies).

A patient message is a user event that is not external (the staff inbox's
``staff_reply`` and ``staff_resolved`` come in through Rasa's trigger_intent as external
events). Its outcome is decided by what the assistant did before the next user event,
strongest first: handed to a person (``action_handoff`` ran), "rather not guess"
(``utter_faq_unsure``), not answered (``utter_out_of_scope``, ``utter_not_covered``),
answered directly (``utter_faq/<topic>``, ``utter_clinic_info_*``), handed to a person
(added to the open ticket by ``action_add_to_handoff``, e.g. after a crisis), else other.

Not recorded anywhere, so not computed: when a ticket was claimed (the store keeps
``claimed_by`` but not the time; ``updated_at`` moves with every later message). The
first staff reply's time is the reply's ``time`` on the ticket when it has one (the
inbox writes none today), else the conversation's ``staff_reply`` event: Rasa saves it
only when the reply reached the patient's channel.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

import sqlalchemy as sa

from kat.conversation_id import NAMESPACES, WHATSAPP, namespace_of
from kat.handoff_store import REASONS, HandoffStore
from kat.handoff_store import tickets as tickets_table

CHANNELS = ("web", "rest", "sms", WHATSAPP, "telegram", "messenger", "slack")
OTHER = "other"
OUTCOMES = ("answered", "unsure", "not_answered", "handed_to_person", OTHER)
# What the assistant did after a message, strongest first: the first one found decides
# its outcome ("added", the message put on the open ticket, counts as handed to a person
# only when nothing else answered it).
_PRECEDENCE = (
    ("handoff", "handed_to_person"),
    ("unsure", "unsure"),
    ("not_answered", "not_answered"),
    ("answered", "answered"),
    ("added", "handed_to_person"),
)
HANDOFF_ACTION = "action_handoff"
ADD_TO_HANDOFF_ACTION = "action_add_to_handoff"
STAFF_REPLY_INTENT = "staff_reply"
FEEDBACK_INTENT = "feedback"
EXTERNAL_PREFIX = "EXTERNAL: "  # Rasa's UserUttered.create_external
_TOPIC = re.compile(r"[a-z0-9_]{1,64}")
_YES = {"true", "yes", "y", "1", "helpful"}
_NO = {"false", "no", "n", "0", "not_helpful", "unhelpful"}

# The columns of Rasa's ``events`` table (rasa.core.tracker_store.SQLTrackerStore) the
# report reads; the table itself is created by Rasa.
events_table = sa.Table(
    "events",
    sa.MetaData(),
    sa.Column("id", sa.Integer),
    sa.Column("sender_id", sa.String(255)),
    sa.Column("type_name", sa.String(255)),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


@dataclass
class Period:
    kind: str  # "day", "week" or "total"
    start: date  # first day counted (a week is cut to the window)
    days: int
    conversations: Counter = field(default_factory=Counter)  # channel -> n
    messages: Counter = field(default_factory=Counter)  # channel -> patient messages
    outcomes: Counter = field(default_factory=Counter)  # OUTCOMES -> messages
    faq_topics: Counter = field(default_factory=Counter)  # topic -> FAQ answers
    crisis_replies: int = 0
    handoffs: Counter = field(default_factory=Counter)  # reason -> tickets opened
    claimed: int = 0  # of those tickets, claimed by staff since
    reply_seconds: List[float] = field(default_factory=list)  # to first staff reply
    claim_seconds: List[float] = field(default_factory=list)  # to the first claim
    feedback: Dict[str, Counter] = field(default_factory=dict)  # topic -> verdicts

    @property
    def tickets(self) -> int:
        return sum(self.handoffs.values())


@dataclass
class Insights:
    days: int
    zone: str
    first_day: date
    last_day: date
    generated_at: datetime
    tracker_found: bool
    periods: List[Period]
    unclaimed_urgent: Counter = field(default_factory=Counter)  # reason -> open tickets
    oldest_unclaimed_urgent_seconds: Optional[float] = None
    feedback_recorded: bool = False

    def of_kind(self, kind: str) -> List[Period]:
        return [p for p in self.periods if p.kind == kind]


def median(values: List[float]) -> Optional[float]:
    return float(statistics.median(values)) if values else None


def percentile(values: List[float], share: float = 0.9) -> Optional[float]:
    """Nearest rank: the smallest value at least ``share`` of the values reach."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(math.ceil(share * len(ordered)), 1) - 1])


def channel_of(conversation_id: str, input_channel: Any) -> str:
    """The conversation id's namespace; else the Rasa channel's; else "other"."""
    namespace = namespace_of(conversation_id)
    if namespace in CHANNELS:
        return namespace
    return NAMESPACES.get(str(input_channel or ""), OTHER)


def _utc(moment: datetime) -> datetime:
    # SQLite gives the stored UTC times back without their zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def event_data(text: Any) -> Dict[str, Any]:
    """A stored event's ``data`` column as a dict ({} when unreadable)."""
    try:
        value = json.loads(text or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _seconds(value: Any) -> Optional[float]:
    """A transcript time (epoch seconds or ISO 8601) as epoch seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return _utc(datetime.fromisoformat(value)).timestamp()
        except ValueError:
            return None
    return None


def _verdict(value: Any) -> str:
    text = str(value).strip().lower() if value is not None else ""
    return "helpful" if text in _YES else "not_helpful" if text in _NO else "unrated"


class _Calendar:
    """The window's periods, and which of them a moment falls in."""

    def __init__(self, days: int, now: datetime, zone: tzinfo) -> None:
        if days < 1:
            raise ValueError("the report needs at least one day")
        self.zone = zone
        self.last_day = now.astimezone(zone).date()
        self.first_day = self.last_day - timedelta(days=days - 1)
        self.start = datetime.combine(self.first_day, time(0), tzinfo=zone)
        self.end = now
        self.day_periods = [
            Period("day", self.first_day + timedelta(days=i), 1) for i in range(days)
        ]
        self.weeks: Dict[date, Period] = {}
        for day in self.day_periods:
            monday = day.start - timedelta(days=day.start.weekday())
            week = self.weeks.setdefault(monday, Period("week", day.start, 0))
            week.days += 1
        self.total = Period("total", self.first_day, days)

    def periods(self) -> List[Period]:
        return [*self.day_periods, *self.weeks.values(), self.total]

    def of(self, seconds: float) -> List[Period]:
        day = datetime.fromtimestamp(seconds, self.zone).date()
        index = (day - self.first_day).days
        if not 0 <= index < len(self.day_periods) or seconds > self.end.timestamp():
            return []
        monday = day - timedelta(days=day.weekday())
        return [self.day_periods[index], self.weeks[monday], self.total]


def _events(engine: sa.engine.Engine, calendar: _Calendar) -> Iterable[Any]:
    e = events_table.c
    query = (
        sa.select(e.sender_id, e.type_name, e.timestamp, e.intent_name, e.action_name)
        .add_columns(e.data)
        .where(e.type_name.in_(("user", "bot", "action")))
        .where(e.timestamp >= calendar.start.timestamp())
        .where(e.timestamp <= calendar.end.timestamp())
        .order_by(e.sender_id, e.id)
    )
    with engine.connect() as conn:
        yield from conn.execution_options(stream_results=True).execute(query)


class _Tally:
    """One pass over the window's events, conversation by conversation."""

    def __init__(self, calendar: _Calendar) -> None:
        self.calendar = calendar
        self.seen: Dict[int, Set[Tuple[str, str]]] = {}  # period -> (channel, id)
        self.staff_replies: Dict[str, List[float]] = {}  # conversation -> times
        self.feedback: List[Tuple[List[Period], Any, str]] = []
        self.message: Optional[Tuple[List[Period], Set[str]]] = None  # what it got

    def close(self) -> None:
        if self.message:
            periods, done = self.message
            outcome = next((o for flag, o in _PRECEDENCE if flag in done), OTHER)
            for period in periods:
                period.outcomes[outcome] += 1
        self.message = None

    def outcome(self, flag: str) -> None:
        if self.message:
            self.message[1].add(flag)

    def add(self, row: Any) -> None:
        periods = self.calendar.of(float(row.timestamp or 0))
        if row.type_name == "user":
            self.close()
            self.user(row, periods)
        elif row.type_name == "bot":
            self.bot(event_data(row.data), periods)
        elif row.action_name == HANDOFF_ACTION:
            self.outcome("handoff")
        elif row.action_name == ADD_TO_HANDOFF_ACTION:
            self.outcome("added")

    def user(self, row: Any, periods: List[Period]) -> None:
        data = event_data(row.data)
        metadata = data.get("metadata") or {}
        if (isinstance(metadata, dict) and metadata.get("is_external")) or str(
            data.get("text") or ""
        ).startswith(EXTERNAL_PREFIX):
            if row.intent_name == STAFF_REPLY_INTENT:
                self.staff_replies.setdefault(row.sender_id, []).append(row.timestamp)
            return
        if not periods:
            return
        if row.intent_name == FEEDBACK_INTENT:
            # A 👍/👎 click: counted as feedback, not as a patient message.
            found = {
                str(e.get("entity")): e.get("value")
                for e in (data.get("parse_data") or {}).get("entities") or []
                if isinstance(e, dict)
            }
            self.feedback.append(
                (periods, found.get("topic"), _verdict(found.get("helpful")))
            )
            return
        channel = channel_of(row.sender_id, data.get("input_channel"))
        for period in periods:
            period.messages[channel] += 1
            self.seen.setdefault(id(period), set()).add((channel, row.sender_id))
        self.message = (periods, set())

    def bot(self, data: Dict[str, Any], periods: List[Period]) -> None:
        metadata = data.get("metadata") or {}
        action = (
            str(metadata.get("utter_action") or "") if isinstance(metadata, dict) else ""
        )
        if action.startswith("utter_crisis_help"):
            for period in periods:
                period.crisis_replies += 1
        if action.startswith("utter_faq/"):
            topic = action[len("utter_faq/") :]
            topic = topic if _TOPIC.fullmatch(topic) else OTHER
            for period in periods:
                period.faq_topics[topic] += 1
            self.outcome("answered")
        elif action.startswith("utter_clinic_info_"):
            self.outcome("answered")
        elif action == "utter_faq_unsure":
            self.outcome("unsure")
        elif action in ("utter_out_of_scope", "utter_not_covered"):
            self.outcome("not_answered")

    def finish(self, known_topics: Set[str]) -> bool:
        self.close()
        for period in self.calendar.periods():
            for channel, _ in self.seen.get(id(period), ()):
                period.conversations[channel] += 1
        known = (known_topics | set(self.calendar.total.faq_topics)) - {OTHER}
        for periods, topic, verdict in self.feedback:
            name = topic if isinstance(topic, str) and topic in known else OTHER
            for period in periods:
                period.feedback.setdefault(name, Counter())[verdict] += 1
        return bool(self.feedback)


def _tickets(
    store: HandoffStore, calendar: _Calendar, tally: _Tally, out: Insights
) -> None:
    t = tickets_table.c
    query = (
        sa.select(t.id, t.conversation_id, t.reason, t.urgent, t.status, t.claimed_by)
        .add_columns(t.transcript, t.created_at)
        .where(
            sa.or_(
                t.created_at >= calendar.start,
                sa.and_(t.urgent.is_(True), t.status == "open"),
            )
        )
        .order_by(t.created_at)
    )
    with store.engine.connect() as conn:
        rows = list(conn.execute(query))
    claims = _claim_times(store)
    opened: Dict[str, List[float]] = {}  # conversation -> its tickets' creation times
    for row in rows:
        opened.setdefault(row.conversation_id, []).append(
            _utc(row.created_at).timestamp()
        )
    now = calendar.end.timestamp()
    for row in rows:
        created = _utc(row.created_at).timestamp()
        reason = row.reason if row.reason in REASONS else OTHER
        if row.urgent and row.status == "open":
            out.unclaimed_urgent[reason] += 1
            waited = max(now - created, 0.0)
            out.oldest_unclaimed_urgent_seconds = max(
                out.oldest_unclaimed_urgent_seconds or 0.0, waited
            )
        periods = calendar.of(created) if created >= calendar.start.timestamp() else []
        if not periods:
            continue
        # A conversation has one unresolved ticket at a time: its staff replies between
        # this ticket's creation and the next ticket's are replies to this one.
        later = [c for c in opened[row.conversation_id] if c > created]
        until = min(later) if later else math.inf
        replies = [
            s
            for s in tally.staff_replies.get(row.conversation_id, [])
            if created <= s < until
        ]
        for entry in _json_list(row.transcript):
            moment = _seconds(entry.get("time"))
            if (
                entry.get("from") == "staff"
                and entry.get("delivered") is not False
                and moment
            ):
                replies.append(moment)
        claimed_at = claims.get(row.id)
        for period in periods:
            period.handoffs[reason] += 1
            period.claimed += row.claimed_by is not None
            if claimed_at is not None:
                period.claim_seconds.append(max(claimed_at - created, 0.0))
            if replies:
                period.reply_seconds.append(max(min(replies) - created, 0.0))


def _claim_times(store: HandoffStore) -> Dict[str, float]:
    """Each ticket's first claim (or take-over), from the staff audit trail
    (kat/audit.py: table ``staff_audit``), as epoch seconds; {} without it."""
    if not sa.inspect(store.engine).has_table("staff_audit"):
        return {}
    audit = sa.table(
        "staff_audit", sa.column("ticket_id"), sa.column("action"), sa.column("at")
    )
    query = (
        sa.select(audit.c.ticket_id, sa.func.min(audit.c.at))
        .where(audit.c.action.in_(("claim", "take_over")))
        .group_by(audit.c.ticket_id)
    )
    with store.engine.connect() as conn:
        return {
            str(ticket): _utc(_as_datetime(at)).timestamp()
            for ticket, at in conn.execute(query)
            if ticket and at is not None
        }


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _json_list(text: Any) -> List[Dict[str, Any]]:
    try:
        value = json.loads(text or "[]")
    except (TypeError, ValueError):
        return []
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def compute(
    tracker: Optional[sa.engine.Engine],
    store: HandoffStore,
    days: int,
    zone: tzinfo = timezone.utc,
    now: Optional[datetime] = None,
    known_topics: Iterable[str] = (),
) -> Insights:
    """The report's numbers for the ``days`` calendar days (in ``zone``) up to ``now``.
    ``tracker`` None, or a database without Rasa's ``events`` table: no conversations
    yet. ``known_topics``: FAQ topics feedback may name (others count as "other")."""
    calendar = _Calendar(days, _utc(now or datetime.now(timezone.utc)), zone)
    tally = _Tally(calendar)
    found = tracker is not None and sa.inspect(tracker).has_table("events")
    if found:
        assert tracker is not None
        sender = None
        for row in _events(tracker, calendar):
            if row.sender_id != sender:
                tally.close()
                sender = row.sender_id
            tally.add(row)
    out = Insights(
        days=days,
        zone=str(getattr(zone, "key", zone)),
        first_day=calendar.first_day,
        last_day=calendar.last_day,
        generated_at=calendar.end,
        tracker_found=found,
        periods=calendar.periods(),
    )
    out.feedback_recorded = tally.finish(set(known_topics))
    _tickets(store, calendar, tally, out)
    return out
