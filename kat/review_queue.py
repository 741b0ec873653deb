"""The review queue: patient messages the assistant could not answer, for reviewers.

A message is in the queue when the assistant answered it with "I'd rather not guess"
(``utter_faq_unsure``), "I can't help with that" (``utter_out_of_scope``) or "the
clinic's information does not cover that" (``utter_not_covered``), or when the patient
gave the FAQ answer it got a 👎 (a ``feedback`` event with ``helpful: no``). Never in it:
a crisis or check-in message, a contact-form answer (masked once the form is over:
kat/event_privacy.py), a button payload. Entries are read live from the tracker store's
``events`` table within the retention period (``retention_days``), so the retention
purge removes them with their conversations; the labels live in ``review_labels`` (the
hand-off store's database), purged after the same period (kat/retention.py).

A reviewer labels an entry with an intent or FAQ topic (``faq/<topic>``), or
``not_for_assistant``; ``export_yaml`` writes the labelled ones as a Rasa NLU file of
*candidate* examples for the content owners to review. Nothing here retrains anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set

import sqlalchemy as sa
import yaml

from kat.event_privacy import MASK
from kat.faq_topics import load_topics
from kat.handoff_store import HandoffStore, metadata, utcnow
from kat.insights import channel_of, event_data, events_table
from kat.paths import PROJECT_ROOT

REASONS = {
    "utter_faq_unsure": "rather_not_guess",
    "utter_out_of_scope": "out_of_scope",
    "utter_not_covered": "not_covered",
}
NOT_FOR_ASSISTANT = "not_for_assistant"
# Never queued: the patient's crisis, the gentle check-in, a feedback click.
EXCLUDED_INTENTS = {"crisis", "check_in", "feedback"}

labels = sa.Table(
    "review_labels",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True),
    sa.Column("label", sa.String(128), nullable=False),
    sa.Column("labelled_by", sa.String(128), nullable=False),
    sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass
class Entry:
    id: int
    at: float
    reason: str
    text: str
    channel: str
    label: Optional[str] = None
    topic: Optional[str] = None  # the FAQ topic a 👎 was about

    def as_dict(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "at": datetime.fromtimestamp(self.at, timezone.utc).isoformat(),
            "reason": self.reason,
            "text": self.text,
            "channel": self.channel,
            "label": self.label,
            "topic": self.topic,
        }


def allowed_labels(domain_file: Optional[Path] = None) -> Set[str]:
    """FAQ topics (``faq/<topic>``), the domain's other intents, and
    ``not_for_assistant``: the one list of intents is domain.yml's."""
    found = {f"faq/{topic}" for topic in load_topics()} | {NOT_FOR_ASSISTANT}
    path = domain_file or PROJECT_ROOT / "domain.yml"
    if path.exists():
        domain = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in domain.get("intents") or []:
            name = item if isinstance(item, str) else next(iter(item))
            if name not in EXCLUDED_INTENTS | {"faq", "nlu_fallback"}:
                found.add(str(name))
    return found


def _eligible(data: Dict[str, Any], intent: Optional[str]) -> bool:
    text = str(data.get("text") or "").strip()
    return (
        bool(text)
        and text != MASK
        and not text.startswith("/")
        and (intent not in EXCLUDED_INTENTS)
    )


def entries(
    tracker: Optional[sa.engine.Engine], days: int, now: Optional[datetime] = None
) -> List[Entry]:
    """The queue, oldest first (module docstring)."""
    if tracker is None or not sa.inspect(tracker).has_table("events"):
        return []
    since = ((now or utcnow()) - timedelta(days=days)).timestamp()
    e = events_table.c
    query = (
        sa.select(e.id, e.sender_id, e.type_name, e.timestamp, e.intent_name, e.data)
        .where(e.type_name.in_(("user", "bot")))
        .where(e.timestamp >= since)
        .order_by(e.sender_id, e.id)
    )
    found: List[Entry] = []
    with tracker.connect() as conn:
        sender: Optional[str] = None
        last_user: Optional[Entry] = None
        answered: Optional[Entry] = None  # the last user message an FAQ answered
        answered_topic: Optional[str] = None
        for row in conn.execute(query):
            if row.sender_id != sender:
                sender, last_user, answered = row.sender_id, None, None
            data = event_data(row.data)
            if row.type_name == "user":
                intent = row.intent_name
                if intent == "feedback":
                    values = {
                        x.get("entity"): x.get("value")
                        for x in (data.get("parse_data") or {}).get("entities") or []
                    }
                    if str(values.get("helpful")).lower() == "no" and answered:
                        answered.reason = "thumbs_down"
                        answered.topic = answered_topic
                        found.append(answered)
                        answered = None
                    continue
                last_user = None
                if _eligible(data, intent):
                    last_user = Entry(
                        int(row.id),
                        float(row.timestamp),
                        "",
                        str(data.get("text")).strip(),
                        channel_of(row.sender_id, data.get("input_channel")),
                    )
                continue
            utter = str((data.get("metadata") or {}).get("utter_action") or "")
            if last_user is None:
                continue
            if utter in REASONS:
                last_user.reason = REASONS[utter]
                found.append(last_user)
                last_user = None
            elif utter.startswith("utter_faq/"):
                answered, answered_topic = last_user, utter.split("/", 1)[1]
    return sorted(found, key=lambda entry: entry.at)


class ReviewLabels:
    def __init__(self, store: HandoffStore) -> None:
        self.engine = store.engine
        metadata.create_all(self.engine, tables=[labels])

    def all(self) -> Dict[int, str]:
        with self.engine.connect() as conn:
            return {
                int(r.event_id): str(r.label) for r in conn.execute(sa.select(labels))
            }

    def set(self, event_id: int, label: str, by: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(labels.delete().where(labels.c.event_id == event_id))
            conn.execute(
                labels.insert().values(
                    event_id=event_id, label=label, labelled_by=by, labelled_at=utcnow()
                )
            )

    def purge_before(self, cutoff: datetime, dry_run: bool = False) -> int:
        old = labels.c.labelled_at < cutoff
        with self.engine.begin() as conn:
            count = int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(labels).where(old)
                ).scalar()
                or 0
            )
            if not dry_run:
                conn.execute(labels.delete().where(old))
        return count


def with_labels(found: Iterable[Entry], known: Dict[int, str]) -> List[Entry]:
    out = list(found)
    for entry in out:
        entry.label = known.get(entry.id)
    return out


def export_yaml(found: Iterable[Entry]) -> str:
    """Labelled entries (not ``not_for_assistant``) as a Rasa NLU file of candidates."""
    groups: Dict[str, List[str]] = {}
    for entry in found:
        if entry.label and entry.label != NOT_FOR_ASSISTANT:
            text = " ".join(entry.text.split())
            if text not in groups.setdefault(entry.label, []):
                groups[entry.label].append(text)
    lines = [
        "# Candidate NLU examples from the review queue (kat/review_queue.py).",
        "# NOT training data: the content owners review each one, and copy the ones",
        "# they approve into data/nlu/ themselves. The assistant never retrains itself.",
        'version: "3.1"',
        "nlu:",
    ]
    for label in sorted(groups):
        lines.append(f"- intent: {label}")
        lines.append("  examples: |")
        lines += [f"    - {yaml_line(text)}" for text in groups[label]]
    return "\n".join(lines) + "\n"


def yaml_line(text: str) -> str:
    """One example, safe inside a YAML block scalar (no line breaks, no leading #)."""
    clean = text.replace("\r", " ").replace("\n", " ").strip()
    return clean if not clean.startswith("#") else "\\" + clean
