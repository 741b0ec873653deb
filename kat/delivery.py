"""Why a staff reply did not reach the patient: one list, for the channels that find
out (channels/base.py ``DeliveryFailed``) and the staff inbox that shows it.

A channel raises ``DeliveryFailed(reason)`` while sending a staff reply; Rasa's HTTP API
answers the inbox 500 with the exception's text in its message, which carries
``marker(reason)``; the inbox reads it back with ``reason_in`` and keeps the reply on
the ticket as not delivered, with the reason. Staff-facing wording only.
"""

from __future__ import annotations

import re
from typing import Optional

PREFIX = "kat-delivery-failed:"
REASONS = {
    "whatsapp_window": (
        "WhatsApp's 24-hour window has passed: WhatsApp takes a reply only within 24 "
        "hours of the patient's last message. Call the patient, or wait until they "
        "write again."
    ),
    "provider_error": "The messaging provider refused the message.",
    "web_chat_closed": (
        "The patient's web chat is closed, so the reply could not be shown. Call the "
        "patient if it cannot wait."
    ),
    "assistant_error": "The assistant failed while sending the reply.",
    "assistant_unreachable": "The assistant could not be reached.",
}
_MARKER = re.compile(re.escape(PREFIX) + r"([a-z_]+)")


def marker(reason: str) -> str:
    if reason not in REASONS:
        raise ValueError(f"unknown delivery failure {reason!r}")
    return PREFIX + reason


def reason_in(text: str) -> Optional[str]:
    """The reason a marker in ``text`` names, if it is a known one."""
    found = _MARKER.search(text or "")
    return found.group(1) if found and found.group(1) in REASONS else None


def explain(reason: Optional[str]) -> str:
    return REASONS.get(reason or "", REASONS["assistant_error"])
