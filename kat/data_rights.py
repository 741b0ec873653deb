"""A patient's data rights, asked in chat: "what do you know about me?" and "forget me".

Pure helpers (no Rasa). The actions (actions/data_rights.py) answer from them; the
tracker store (components/tracker_store.py) deletes the stored conversation when it
saves a turn in which ``FORGET_ACTION`` ran, because Rasa saves the conversation it holds
in memory after the action: a deletion made by the action server would be written back.

What is kept where (docs/patient-data.md):
- the conversation's events: Rasa's tracker store (SQLite or PostgreSQL), all sessions;
- hand-off tickets: transcript, contact details (only with consent), reason, urgency,
  status and times (kat/handoff_store.py);
- review labels point at event ids (kat/review_queue.py): they go with the events;
- the audit trail holds no content; the RabbitMQ stream (production) carries no text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, Optional, Sequence

import sqlalchemy as sa

FORGET_ACTION = "action_forget_conversation"
# Rasa's events table (rasa.core.tracker_store.SQLTrackerStore).
COUNT_USER_EVENTS = sa.text(
    "SELECT COUNT(*), MIN(timestamp) FROM events "
    "WHERE sender_id = :sender_id AND type_name = 'user'"
)
DELETE_EVENTS = sa.text("DELETE FROM events WHERE sender_id = :sender_id")


@dataclass(frozen=True)
class StoredMessages:
    """How many of the patient's messages are kept, and since when (epoch seconds)."""

    count: int
    since: Optional[float]


def from_events(events: Iterable[Dict[str, Any]]) -> StoredMessages:
    """Counted from the events the action server was sent (the current session)."""
    times = [float(e.get("timestamp") or 0) for e in events if e.get("event") == "user"]
    return StoredMessages(len(times), min(times) if times else None)


def from_tracker_db(engine: sa.engine.Engine, sender_id: str) -> StoredMessages:
    """Counted in the tracker store itself: every session of the conversation."""
    with engine.connect() as conn:
        count, since = conn.execute(COUNT_USER_EVENTS, {"sender_id": sender_id}).one()
    return StoredMessages(int(count or 0), float(since) if since else None)


def best_count(
    session: StoredMessages, stored: Optional[StoredMessages]
) -> StoredMessages:
    """The stored figure, unless it is missing or behind (this turn is not saved yet)."""
    if stored is None or stored.count < session.count:
        return session
    return stored


def since_text(epoch: Optional[float], zone: Any = timezone.utc) -> str:
    """ "2026-12-02 14:05" in the clinic's time zone: a date with no month name, so it
    reads the same in every conversation language (the wording around it is in
    domain.yml)."""
    if not epoch:
        return ""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc).astimezone(zone)
    return f"{moment:%Y-%m-%d %H:%M}"


def forget_ran(events: Sequence[Any]) -> bool:
    """Did this turn (the events after the patient's latest message) run the forget
    action? ``events`` are Rasa's event objects (``action_name``, ``type_name``)."""
    for event in reversed(events):
        if getattr(event, "type_name", None) == "user":
            return False
        if getattr(event, "action_name", None) == FORGET_ACTION:
            return True
    return False


def delete_conversation(connection: sa.engine.Connection, sender_id: str) -> int:
    """Delete every stored event of the conversation, all sessions; how many."""
    result = connection.execute(DELETE_EVENTS, {"sender_id": sender_id})
    return int(result.rowcount or 0)
