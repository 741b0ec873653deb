"""The audit trail: who did what to which ticket, and when. Append-only.

One table, ``staff_audit``, in the hand-off store's database (SQLite or PostgreSQL).
The staff inbox writes a row for every claim, take-over, reply (delivered or not),
resolve, view of contact details, label and export; the action server writes one when a
patient has their conversation deleted (``patient_forget``, user ``PATIENT``: which
ticket, never which conversation). Nothing in the project updates or deletes a row (the
retention purge keeps them: they hold no message text or contact details, only who,
when, what and which ticket). Pure SQLAlchemy, so both servers share it.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from kat.handoff_store import HandoffStore, metadata, utcnow

ACTIONS = (
    "claim",
    "take_over",
    "reply",
    "reply_not_delivered",
    "resolve",
    "resolve_failed",
    "view_contact",
    "label",
    "export",
    "patient_forget",
)
# The "user" of a row the patient caused, shown as such in the inbox's audit list.
PATIENT = "(patient)"

audit = sa.Table(
    "staff_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("username", sa.String(128), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("ticket_id", sa.String(36), nullable=True, index=True),
    # A reason or a count, never message text or contact details.
    sa.Column("detail", sa.String(128), nullable=True),
)


class AuditLog:
    def __init__(self, store: HandoffStore) -> None:
        self.engine = store.engine
        metadata.create_all(self.engine, tables=[audit])

    def record(
        self,
        username: str,
        action: str,
        ticket_id: Optional[str] = None,
        detail: Optional[str] = None,
    ) -> None:
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        with self.engine.begin() as conn:
            conn.execute(
                audit.insert().values(
                    at=utcnow(),
                    username=username,
                    action=action,
                    ticket_id=ticket_id,
                    detail=(detail or None) and detail[:128],
                )
            )

    def rows(self, ticket_id: Optional[str] = None) -> List[Dict[str, Any]]:
        query = sa.select(audit).order_by(audit.c.id)
        if ticket_id is not None:
            query = query.where(audit.c.ticket_id == ticket_id)
        with self.engine.connect() as conn:
            return [
                {
                    "at": row.at.isoformat(),
                    "ticket_id": row.ticket_id,
                    "who": row.username,
                    "action": row.action,
                    "detail": row.detail,
                }
                for row in conn.execute(query)
            ]
