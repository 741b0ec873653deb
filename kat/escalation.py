"""Urgent tickets nobody claims are notified again, more and more rarely, until claimed.

An urgent ticket still open (unclaimed) ``urgent_claim_minutes`` after it was opened
(content/clinic_profile.yml, 5 by default) is overdue: the inbox marks it, and a
reminder goes to ``KAT_ESCALATION_URL`` if set, else to ``KAT_NOTIFY_URL`` with
``"escalation": true`` (same signature as every notification: kat/notify.py). The
reminders repeat with a doubling interval — at 5, 15, 35, 75 ... minutes for 5 — until
someone claims the ticket. The reminders sent are counted per ticket in
``handoff_escalations`` (the hand-off store's database), so that a restart neither
repeats nor forgets one. The staff inbox runs ``run_escalations`` in its background loop.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional, Tuple

import sqlalchemy as sa

from kat.clinic_profile import cached_profile
from kat.handoff_store import HandoffStore, Ticket, metadata, utcnow
from kat.notify import NotifyConfig, send

logger = logging.getLogger(__name__)
DEFAULT_CLAIM_MINUTES = 5.0

escalations = sa.Table(
    "handoff_escalations",
    metadata,
    sa.Column("ticket_id", sa.String(36), primary_key=True),
    sa.Column("sent", sa.Integer, nullable=False, default=0),
    sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
)


def claim_minutes(profile: Optional[Dict[str, Any]] = None) -> float:
    value = (profile if profile is not None else cached_profile()).get(
        "urgent_claim_minutes", DEFAULT_CLAIM_MINUTES
    )
    minutes = float(value)
    if minutes <= 0:
        raise ValueError("urgent_claim_minutes must be a positive number")
    return minutes


def due_after(minutes: float, sent: int) -> timedelta:
    """How long after the ticket opened reminder number ``sent + 1`` is due."""
    return timedelta(minutes=minutes * (2 ** (sent + 1) - 1))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def is_overdue(ticket: Ticket, minutes: float, now: Optional[datetime] = None) -> bool:
    """Urgent, nobody has claimed it, and open longer than ``minutes``."""
    if not ticket.urgent or ticket.status != "open" or ticket.created_at is None:
        return False
    return _aware(now or utcnow()) - _aware(ticket.created_at) >= timedelta(
        minutes=minutes
    )


class Escalations:
    def __init__(self, store: HandoffStore) -> None:
        self.store = store
        metadata.create_all(store.engine, tables=[escalations])

    def sent(self) -> Dict[str, int]:
        with self.store.engine.connect() as conn:
            return {
                r.ticket_id: int(r.sent) for r in conn.execute(sa.select(escalations))
            }

    def due(
        self, minutes: float, now: Optional[datetime] = None
    ) -> List[Tuple[Ticket, int]]:
        """(ticket, the number of its next reminder) for each reminder due now."""
        now = _aware(now or utcnow())
        sent = self.sent()
        found = []
        for ticket in self.store.list_tickets(status="open"):
            if not is_overdue(ticket, minutes, now) or ticket.suspected_flood:
                continue
            assert ticket.created_at is not None
            done = sent.get(ticket.id, 0)
            if now - _aware(ticket.created_at) >= due_after(minutes, done):
                found.append((ticket, done + 1))
        return found

    def record(self, ticket_id: str, number: int, now: datetime) -> None:
        with self.store.engine.begin() as conn:
            updated = conn.execute(
                escalations.update()
                .where(escalations.c.ticket_id == ticket_id)
                .values(sent=number, last_at=now)
            ).rowcount
            if not updated:
                conn.execute(
                    escalations.insert().values(
                        ticket_id=ticket_id, sent=number, last_at=now
                    )
                )


def escalation_config(base: Optional[NotifyConfig] = None) -> NotifyConfig:
    base = base or NotifyConfig.from_env()
    return replace(base, url=os.environ.get("KAT_ESCALATION_URL") or base.url)


def run_escalations(
    store: HandoffStore,
    now: Optional[datetime] = None,
    minutes: Optional[float] = None,
    config: Optional[NotifyConfig] = None,
    post: Optional[Callable[..., Any]] = None,
) -> int:
    """Send every reminder due now; returns how many were delivered. A reminder that
    could not be delivered is tried again on the next run."""
    now = _aware(now or utcnow())
    minutes = minutes if minutes is not None else claim_minutes()
    config = escalation_config(config)
    book = Escalations(store)
    delivered = 0
    for ticket, number in book.due(minutes, now):
        unclaimed = int((now - _aware(ticket.created_at or now)).total_seconds() // 60)
        error = send(
            ticket,
            config,
            post=post,
            sleep=lambda _: None,
            escalation={"number": number, "minutes": unclaimed},
        )
        if error:
            logger.warning(
                "escalation %d of ticket %s failed: %s", number, ticket.id, error
            )
            continue
        book.record(ticket.id, number, now)
        logger.warning(
            "urgent ticket %s unclaimed after %d min: escalation %d sent",
            ticket.id,
            unclaimed,
            number,
        )
        delivered += 1
    return delivered
