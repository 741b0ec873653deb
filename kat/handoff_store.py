"""Hand-off tickets: what a person at the clinic must follow up.

One module shared by the actions (which open tickets) and, later, the staff inbox.
SQLAlchemy (already in Rasa's stack): a SQLite file by default, PostgreSQL when
``KAT_HANDOFF_DB_URL`` points to one. Schema versioned in ``schema_version``.

Personal data: a ticket holds the conversation transcript (the patient wrote it to the
clinic) and, only with consent, a contact. Nothing here logs message text or contacts.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from kat.paths import PROJECT_ROOT, make_private, private_dir, sqlite_file

SCHEMA_VERSION = 5
REASONS = (
    "crisis",
    "clinical_question",
    "patient_asked",
    "contraindication_follow_up",
    "repeated_fallback",
    "assistant_unavailable",
)
STATUSES = ("open", "claimed", "resolved")
# A ticket's life: open -> claimed -> resolved (or open -> resolved). A resolved ticket
# stays resolved: later messages start a new one. set_status refuses anything else.
TRANSITIONS: Dict[str, tuple] = {
    "open": ("claimed", "resolved"),
    "claimed": ("resolved",),
    "resolved": (),
}


class IllegalTransition(ValueError):
    """A status change the ticket's life does not allow (TRANSITIONS)."""


metadata = sa.MetaData()
tickets = sa.Table(
    "handoff_tickets",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False, default=False),
    sa.Column("status", sa.String(16), nullable=False, default="open", index=True),
    sa.Column("transcript", sa.Text, nullable=False, default="[]"),
    sa.Column("contact", sa.Text, nullable=True),
    # Staff notification: {"status": "pending|delivered|failed|off", "error": ..., "at": ...}
    sa.Column("notification", sa.Text, nullable=True),
    # Ownership (v3): the staff user handling the ticket — only they reply or resolve
    # it — and, after a take-over, whom it was taken from (the latest one only; a full
    # audit trail is not kept here).
    sa.Column("claimed_by", sa.String(128), nullable=True),
    sa.Column("taken_over_from", sa.String(128), nullable=True),
    # Floods (v4): the channel's keyed hash of the client that asked (never its
    # address; kat/rate_limit.py), and whether this ticket came beyond the client's
    # hand-off limit: such tickets are shown to staff as one group and page nobody.
    sa.Column("client_key", sa.String(32), nullable=True, index=True),
    sa.Column("suspected_flood", sa.Boolean, nullable=False, default=False),
    # Language (v5): the conversation's language when the ticket last heard from the
    # patient (en / es: slot language), so staff reply in it.
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
schema_version = sa.Table(
    "handoff_schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Ticket:
    id: str
    conversation_id: str
    channel: str
    reason: str
    urgent: bool
    status: str
    transcript: List[Dict[str, Any]] = field(default_factory=list)
    contact: Optional[Dict[str, str]] = field(default=None, repr=False)
    notification: Optional[Dict[str, Any]] = None
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    claimed_by: Optional[str] = None
    taken_over_from: Optional[str] = None
    client_key: Optional[str] = None
    suspected_flood: bool = False
    language: Optional[str] = None


@dataclass
class Claim:
    """The outcome of HandoffStore.claim: ``ok`` when the user holds the ticket now;
    ``previous`` is who held it before the call (the holder who refused it, when not
    ok; the one taken over from, after a take-over)."""

    ok: bool
    ticket: Ticket
    previous: Optional[str]


def default_db_url() -> str:
    url = os.environ.get("KAT_HANDOFF_DB_URL")
    if url:
        return url
    var_dir = private_dir(Path(os.environ.get("KAT_VAR_DIR", str(PROJECT_ROOT / "var"))))
    return f"sqlite:///{var_dir / 'handoff.db'}"


class HandoffStore:
    def __init__(self, url: Optional[str] = None) -> None:
        self.url = url or default_db_url()
        self.engine = sa.create_engine(self.url, future=True, pool_pre_ping=True)
        self._migrate()
        database = sqlite_file(self.url)
        if database is not None:
            make_private(database)

    def _migrate(self) -> None:
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            current = conn.execute(
                sa.select(sa.func.max(schema_version.c.version))
            ).scalar()
            if current is None:
                conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
            elif current < SCHEMA_VERSION:
                columns = {
                    c["name"] for c in sa.inspect(conn).get_columns("handoff_tickets")
                }
                if current < 2:  # v2: staff notification status on tickets
                    if "notification" not in columns:
                        conn.execute(
                            sa.text(
                                "ALTER TABLE handoff_tickets ADD COLUMN notification TEXT"
                            )
                        )
                if current < 3:  # v3: who claimed a ticket, and from whom it was taken
                    for column in ("claimed_by", "taken_over_from"):
                        if column not in columns:
                            conn.execute(
                                sa.text(
                                    f"ALTER TABLE handoff_tickets ADD COLUMN {column} "
                                    "VARCHAR(128)"
                                )
                            )
                if current < 4:  # v4: the client behind a ticket, suspected floods
                    if "client_key" not in columns:
                        conn.execute(
                            sa.text(
                                "ALTER TABLE handoff_tickets ADD COLUMN client_key "
                                "VARCHAR(32)"
                            )
                        )
                    if "suspected_flood" not in columns:
                        conn.execute(
                            sa.text(
                                "ALTER TABLE handoff_tickets ADD COLUMN suspected_flood "
                                "BOOLEAN NOT NULL DEFAULT FALSE"
                            )
                        )
                if current < 5 and "language" not in columns:  # v5: the language
                    conn.execute(
                        sa.text(
                            "ALTER TABLE handoff_tickets ADD COLUMN language VARCHAR(8)"
                        )
                    )
                conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
            elif current > SCHEMA_VERSION:
                raise RuntimeError(
                    f"hand-off store schema {current} is newer than this code "
                    f"({SCHEMA_VERSION}); upgrade the assistant"
                )

    @staticmethod
    def _row_to_ticket(row: Any) -> Ticket:
        return Ticket(
            id=row.id,
            conversation_id=row.conversation_id,
            channel=row.channel,
            reason=row.reason,
            urgent=bool(row.urgent),
            status=row.status,
            transcript=json.loads(row.transcript or "[]"),
            contact=json.loads(row.contact) if row.contact else None,
            notification=json.loads(row.notification) if row.notification else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
            claimed_by=row.claimed_by,
            taken_over_from=row.taken_over_from,
            client_key=row.client_key,
            suspected_flood=bool(row.suspected_flood),
            language=row.language,
        )

    def open_ticket(
        self,
        conversation_id: str,
        channel: str,
        reason: str,
        urgent: bool,
        transcript: List[Dict[str, Any]],
        client_key: Optional[str] = None,
        suspected_flood: bool = False,
        language: Optional[str] = None,
    ) -> Ticket:
        if reason not in REASONS:
            raise ValueError(f"unknown hand-off reason {reason!r}")
        now = utcnow()
        ticket_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            conn.execute(
                tickets.insert().values(
                    id=ticket_id,
                    conversation_id=conversation_id,
                    channel=channel,
                    reason=reason,
                    urgent=urgent,
                    status="open",
                    transcript=json.dumps(transcript),
                    client_key=client_key,
                    suspected_flood=suspected_flood,
                    language=language,
                    created_at=now,
                    updated_at=now,
                )
            )
        ticket = self.get(ticket_id)
        assert ticket is not None
        return ticket

    def get(self, ticket_id: str) -> Optional[Ticket]:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(tickets).where(tickets.c.id == ticket_id)
            ).first()
        return self._row_to_ticket(row) if row else None

    def recent_from_client(self, client_key: str, seconds: float) -> int:
        """How many tickets the client opened in the last ``seconds``."""
        since = utcnow() - timedelta(seconds=seconds)
        query = (
            sa.select(sa.func.count())
            .select_from(tickets)
            .where(tickets.c.client_key == client_key)
            .where(tickets.c.created_at >= since)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def open_ticket_for(self, conversation_id: str) -> Optional[Ticket]:
        """The conversation's ticket that is not resolved yet, if any (newest first)."""
        query = (
            sa.select(tickets)
            .where(tickets.c.conversation_id == conversation_id)
            .where(tickets.c.status != "resolved")
            .order_by(tickets.c.created_at.desc())
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return self._row_to_ticket(row) if row else None

    def append_messages(
        self,
        ticket_id: str,
        messages: List[Dict[str, Any]],
        urgent: bool = False,
        language: Optional[str] = None,
    ) -> Ticket:
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(tickets).where(tickets.c.id == ticket_id).with_for_update()
            ).first()
            if row is None:
                raise KeyError(ticket_id)
            transcript = json.loads(row.transcript or "[]") + messages
            values: Dict[str, Any] = {
                "transcript": json.dumps(transcript),
                "updated_at": utcnow(),
            }
            if urgent:
                values["urgent"] = True
            if language:
                values["language"] = language
            conn.execute(
                tickets.update().where(tickets.c.id == ticket_id).values(**values)
            )
        ticket = self.get(ticket_id)
        assert ticket is not None
        return ticket

    def set_contact(self, ticket_id: str, contact: Dict[str, str]) -> bool:
        """Put contact details on a ticket; False if there is no such ticket."""
        with self.engine.begin() as conn:
            result = conn.execute(
                tickets.update()
                .where(tickets.c.id == ticket_id)
                .values(contact=json.dumps(contact), updated_at=utcnow())
            )
        return bool(result.rowcount)

    def set_notification(
        self, ticket_id: str, status: str, error: Optional[str] = None
    ) -> None:
        record = {"status": status, "error": error, "at": utcnow().isoformat()}
        with self.engine.begin() as conn:
            conn.execute(
                tickets.update()
                .where(tickets.c.id == ticket_id)
                .values(notification=json.dumps(record))
            )

    def tickets_to_notify(self, pending_after: float = 120.0) -> List[Ticket]:
        """Open tickets whose notification failed, for the retry loop. A "pending" one
        only once it has been pending ``pending_after`` seconds: until then its first
        delivery (with its own backoff) may still be running in the action server, and
        retrying it too would notify staff twice; after that its sender has died."""
        now = utcnow()
        due: List[Ticket] = []
        for ticket in self.list_tickets(status="open"):
            record = ticket.notification or {}
            if record.get("status") == "failed":
                due.append(ticket)
            elif record.get("status") == "pending":
                try:
                    since = datetime.fromisoformat(str(record.get("at")))
                except ValueError:
                    since = None
                if since is None or (now - since).total_seconds() >= pending_after:
                    due.append(ticket)
        return due

    def set_status(self, ticket_id: str, status: str) -> None:
        """Move a ticket to ``status``; IllegalTransition if its life does not allow
        it from the status it has (decided in one conditional UPDATE)."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        allowed_from = [old for old, new in TRANSITIONS.items() if status in new]
        with self.engine.begin() as conn:
            result = conn.execute(
                tickets.update()
                .where(tickets.c.id == ticket_id)
                .where(tickets.c.status.in_(allowed_from))
                .values(status=status, updated_at=utcnow())
            )
        if not result.rowcount:
            current = self.get(ticket_id)
            raise IllegalTransition(
                f"ticket {ticket_id}: {current.status if current else 'missing'} -> "
                f"{status} is not allowed"
            )

    def claim(self, ticket_id: str, user: str, take_over: bool = False) -> Claim:
        """Record ``user`` as the ticket's claimer; an open ticket becomes claimed
        (a claimed or resolved one keeps its status).

        Taken when the ticket has no claimer or is ``user``'s already; when someone
        else holds it, only with ``take_over`` (then ``taken_over_from`` records
        them). One conditional UPDATE decides, so two users claiming at once cannot
        both win, on SQLite as on PostgreSQL. KeyError when there is no such ticket.
        """
        current = self.get(ticket_id)
        if current is None:
            raise KeyError(ticket_id)
        previous = current.claimed_by
        if previous not in (None, user) and not take_over:
            return Claim(ok=False, ticket=current, previous=previous)
        values: Dict[str, Any] = {
            "claimed_by": user,
            "status": sa.case(
                (tickets.c.status == "open", "claimed"), else_=tickets.c.status
            ),
            "updated_at": utcnow(),
        }
        if previous is None:
            unchanged = tickets.c.claimed_by.is_(None)
        else:
            unchanged = tickets.c.claimed_by == previous
        if previous not in (None, user):
            values["taken_over_from"] = previous
        with self.engine.begin() as conn:
            done = conn.execute(
                tickets.update()
                .where(tickets.c.id == ticket_id)
                .where(unchanged)
                .values(**values)
            ).rowcount
        ticket = self.get(ticket_id)
        assert ticket is not None
        if not done:  # another claim came between the read and the update
            if ticket.claimed_by == user:
                return Claim(ok=True, ticket=ticket, previous=previous)
            return Claim(ok=False, ticket=ticket, previous=ticket.claimed_by)
        return Claim(ok=True, ticket=ticket, previous=previous)

    def tickets_for(self, conversation_id: str) -> List[Ticket]:
        """Every ticket of the conversation, oldest first."""
        query = (
            sa.select(tickets)
            .where(tickets.c.conversation_id == conversation_id)
            .order_by(tickets.c.created_at)
        )
        with self.engine.connect() as conn:
            return [self._row_to_ticket(row) for row in conn.execute(query)]

    def forget_conversation(self, conversation_id: str) -> List[Ticket]:
        """The patient asked to be forgotten: each of the conversation's tickets keeps
        only its reason, urgency, status and times (and the conversation id, which
        carries a staff reply back to the patient); the transcript, contact details and
        client hash go. Returns the tickets as they are now."""
        with self.engine.begin() as conn:
            conn.execute(
                tickets.update()
                .where(tickets.c.conversation_id == conversation_id)
                .values(
                    transcript="[]", contact=None, client_key=None, updated_at=utcnow()
                )
            )
        return self.tickets_for(conversation_id)

    def list_tickets(self, status: Optional[str] = None) -> List[Ticket]:
        query = sa.select(tickets).order_by(tickets.c.urgent.desc(), tickets.c.created_at)
        if status:
            query = query.where(tickets.c.status == status)
        with self.engine.connect() as conn:
            return [self._row_to_ticket(row) for row in conn.execute(query)]


@lru_cache(maxsize=4)
def store_for(url: str) -> HandoffStore:
    return HandoffStore(url)


def default_store() -> HandoffStore:
    return store_for(default_db_url())
