"""Staff notifications for new hand-off tickets: a signed webhook, retried with backoff.

Configuration (environment):
  KAT_NOTIFY_URL      where to POST (unset: notifications are off, tickets still kept)
  KAT_NOTIFY_SECRET   HMAC-SHA256 key; the signature goes in ``X-KAT-Signature``
  KAT_NOTIFY_FORMAT   "json" (default) or "slack" (a Slack/Teams-compatible ``text``)

The payload carries what staff need to act — ticket id, reason, urgency, channel and a
link to the inbox — but no message text and no contact details: those stay in the inbox,
behind staff login. Signature: hex HMAC-SHA256 over ``<timestamp>.<body>``, sent as
``X-KAT-Signature: sha256=<hex>`` with ``X-KAT-Timestamp`` (reject old timestamps to
stop replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

import requests

from kat import ports

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-KAT-Signature"
TIMESTAMP_HEADER = "X-KAT-Timestamp"
BACKOFF_SECONDS = (0.5, 2.0, 8.0)


@dataclass(frozen=True)
class NotifyConfig:
    url: Optional[str]
    secret: str
    fmt: str = "json"
    inbox_url: str = f"http://127.0.0.1:{ports.STAFF_INBOX}"

    @classmethod
    def from_env(cls) -> NotifyConfig:
        return cls(
            url=os.environ.get("KAT_NOTIFY_URL") or None,
            secret=os.environ.get("KAT_NOTIFY_SECRET", ""),
            fmt=os.environ.get("KAT_NOTIFY_FORMAT", "json"),
            inbox_url=os.environ.get(
                "KAT_INBOX_PUBLIC_URL", f"http://127.0.0.1:{ports.STAFF_INBOX}"
            ),
        )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, max_age: float = 300
) -> bool:
    """For receivers (and tests): constant-time check plus a freshness window."""
    try:
        fresh = abs(time.time() - float(timestamp)) <= max_age
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


def payload(
    ticket: Any, config: NotifyConfig, escalation: Optional[Dict[str, Any]] = None
) -> Dict[str, Any]:
    """The notification for a new ticket, or (``escalation``: its number and minutes
    unclaimed, kat/escalation.py) the reminder that an urgent one is still unclaimed."""
    link = f"{config.inbox_url.rstrip('/')}/#ticket={ticket.id}"
    urgency = "URGENT" if ticket.urgent else "normal"
    reason = str(ticket.reason).replace("_", " ")
    if config.fmt == "slack":
        icon = ":rotating_light:" if ticket.urgent else ":speech_balloon:"
        if escalation:
            return {
                "text": f"{icon} STILL UNCLAIMED after {escalation['minutes']} min: "
                f"{urgency} hand-off ({reason}) via {ticket.channel}: {link}"
            }
        return {
            "text": f"{icon} {urgency} hand-off ({reason}) via {ticket.channel}: {link}"
        }
    body = {
        "event": "handoff.ticket_opened",
        "ticket_id": ticket.id,
        "reason": ticket.reason,
        "urgent": bool(ticket.urgent),
        "channel": ticket.channel,
        "inbox_url": link,
    }
    if escalation:
        body.update(
            event="handoff.ticket_unclaimed",
            escalation=True,
            escalation_number=escalation["number"],
            minutes_unclaimed=escalation["minutes"],
        )
    return body


def send(
    ticket: Any,
    config: Optional[NotifyConfig] = None,
    post: Optional[Callable[..., Any]] = None,
    sleep: Optional[Callable[[float], None]] = None,
    escalation: Optional[Dict[str, Any]] = None,
) -> Optional[str]:
    """Deliver one notification, retrying with backoff. Returns None on success, else
    the last error (which the caller records on the ticket for the inbox to show)."""
    config = config or NotifyConfig.from_env()
    post = post or requests.post
    sleep = sleep or time.sleep
    if not config.url:
        return "notifications are not configured (KAT_NOTIFY_URL unset)"
    body = json.dumps(payload(ticket, config, escalation), separators=(",", ":")).encode()
    error: Optional[str] = None
    for attempt, pause in enumerate((0.0,) + BACKOFF_SECONDS, start=1):
        if pause:
            sleep(pause)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(config.secret, timestamp, body),
        }
        try:
            response = post(config.url, data=body, headers=headers, timeout=5)
            if 200 <= response.status_code < 300:
                logger.info(
                    "notification for ticket %s delivered (attempt %d)",
                    ticket.id,
                    attempt,
                )
                return None
            error = f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            error = type(exc).__name__
        logger.warning(
            "notification for ticket %s failed (attempt %d): %s",
            ticket.id,
            attempt,
            error,
        )
    return error


def notify_and_record(
    store: Any, ticket: Any, config: Optional[NotifyConfig] = None
) -> None:
    """Send the notification for a ticket and record the outcome on it (never raises)."""
    config = config or NotifyConfig.from_env()
    if not config.url:
        store.set_notification(ticket.id, "off", "KAT_NOTIFY_URL unset")
        return
    try:
        error = send(ticket, config)
    except Exception as exc:  # a notification must never break the hand-off
        error = type(exc).__name__
        logger.exception("notification for ticket %s crashed", ticket.id)
    store.set_notification(ticket.id, "failed" if error else "delivered", error)


def retry_failed(store: Any, config: Optional[NotifyConfig] = None) -> int:
    """Retry every open ticket whose notification is pending or failed; returns count."""
    pending = store.tickets_to_notify()
    for ticket in pending:
        notify_and_record(store, ticket, config)
    return len(pending)
