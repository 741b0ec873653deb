"""Delete old conversations and closed hand-off tickets.

    python -m kat.retention [--days N] [--dry-run]

- Conversations: Rasa's SQL tracker store keeps every event in the ``events`` table
  (``sender_id``, ``timestamp`` in epoch seconds). A conversation whose *latest* event is
  older than the cutoff is deleted whole; one with an open or claimed hand-off ticket is
  kept until the ticket is resolved.
- Hand-off tickets: ``resolved`` tickets last updated before the cutoff. Open and claimed
  tickets are never deleted.

The days come from ``--days``, else ``retention_days`` in content/clinic_profile.yml.
Databases: ``KAT_TRACKER_DB_URL`` (any SQLAlchemy URL, e.g. PostgreSQL); else, with
``KAT_PROFILE=production``, the hand-off database (the profile keeps both there); else the
SQLite file ``KAT_TRACKER_DB`` (var/tracker.db). The hand-off store from
``KAT_HANDOFF_DB_URL`` as everywhere else. Prints counts only, never conversation ids or text.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, List, Optional, Set

import sqlalchemy as sa

from kat.handoff_store import HandoffStore, default_db_url
from kat.handoff_store import tickets as tickets_table
from kat.paths import PROJECT_ROOT

# The two columns of Rasa's ``events`` table (rasa.core.tracker_store.SQLTrackerStore)
# that retention needs; the table itself is created by Rasa.
_events = sa.Table(
    "events",
    sa.MetaData(),
    sa.Column("sender_id", sa.String(255)),
    sa.Column("timestamp", sa.Float),
)
KEEP_STATUSES = ("open", "claimed")


@dataclass
class Report:
    conversations: int = 0
    events: int = 0
    tickets: int = 0
    labels: int = 0
    dry_run: bool = False

    def __str__(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (
            f"retention: {verb} {self.conversations} conversations "
            f"({self.events} events), {self.tickets} resolved tickets and "
            f"{self.labels} review labels"
        )


def cutoff_for(days: int, now: Optional[datetime] = None) -> datetime:
    if days < 1:
        raise ValueError("retention must be at least one day")
    return (now or datetime.now(timezone.utc)) - timedelta(days=days)


def _chunks(items: List[str], size: int = 500) -> Iterable[List[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def purge_conversations(
    engine: sa.engine.Engine,
    cutoff: datetime,
    keep: Iterable[str] = (),
    dry_run: bool = False,
) -> Report:
    """Delete every conversation whose latest event is before ``cutoff``."""
    report = Report(dry_run=dry_run)
    if not sa.inspect(engine).has_table("events"):
        return report
    kept: Set[str] = set(keep)
    latest = sa.func.max(_events.c.timestamp)
    stale_query = (
        sa.select(_events.c.sender_id)
        .group_by(_events.c.sender_id)
        .having(latest < cutoff.timestamp())
    )
    with engine.begin() as conn:
        stale = [s for (s,) in conn.execute(stale_query) if s not in kept]
        for chunk in _chunks(stale):
            matching = _events.c.sender_id.in_(chunk)
            report.events += int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(_events).where(matching)
                ).scalar()
                or 0
            )
            if not dry_run:
                conn.execute(_events.delete().where(matching))
    report.conversations = len(stale)
    return report


def purge_tickets(store: HandoffStore, cutoff: datetime, dry_run: bool = False) -> int:
    """Delete resolved tickets last updated before ``cutoff``; returns how many."""
    condition = sa.and_(
        tickets_table.c.status == "resolved", tickets_table.c.updated_at < cutoff
    )
    with store.engine.begin() as conn:
        count = int(
            conn.execute(
                sa.select(sa.func.count()).select_from(tickets_table).where(condition)
            ).scalar()
            or 0
        )
        if not dry_run:
            conn.execute(tickets_table.delete().where(condition))
    return count


def conversations_with_open_tickets(store: HandoffStore) -> Set[str]:
    query = sa.select(tickets_table.c.conversation_id).where(
        tickets_table.c.status.in_(KEEP_STATUSES)
    )
    with store.engine.connect() as conn:
        return {row[0] for row in conn.execute(query)}


def run(
    tracker_engine: sa.engine.Engine,
    store: HandoffStore,
    days: int,
    dry_run: bool = False,
    now: Optional[datetime] = None,
) -> Report:
    cutoff = cutoff_for(days, now)
    report = purge_conversations(
        tracker_engine, cutoff, conversations_with_open_tickets(store), dry_run
    )
    report.tickets = purge_tickets(store, cutoff, dry_run)
    # The review queue's labels (its entries are the conversations' own events).
    from kat.review_queue import ReviewLabels

    report.labels = ReviewLabels(store).purge_before(cutoff, dry_run)
    return report


def tracker_db_url() -> str:
    url = os.environ.get("KAT_TRACKER_DB_URL")
    if url:
        return url
    if os.environ.get("KAT_PROFILE") == "production":
        # endpoints.production.yml keeps conversations and tickets in one database.
        return default_db_url()
    var_dir = os.environ.get("KAT_VAR_DIR", str(PROJECT_ROOT / "var"))
    path = os.environ.get("KAT_TRACKER_DB", os.path.join(var_dir, "tracker.db"))
    return f"sqlite:///{path}"


def profile_days() -> int:
    from kat.clinic_profile import load_profile

    days = load_profile().get("retention_days")
    if not isinstance(days, int) or isinstance(days, bool):
        raise ValueError("retention_days in content/clinic_profile.yml must be a number")
    return days


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, help="default: retention_days of the profile")
    parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    args = parser.parse_args(argv)
    try:
        days = args.days if args.days is not None else profile_days()
        report = run(
            sa.create_engine(tracker_db_url(), future=True),
            HandoffStore(default_db_url()),
            days,
            args.dry_run,
        )
    except (ValueError, sa.exc.SQLAlchemyError) as exc:
        # The type only: SQLAlchemy's message can quote rows (conversation ids).
        print(f"retention failed: {type(exc).__name__}", file=sys.stderr)
        return 1
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
