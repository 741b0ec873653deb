"""What a new session of a conversation keeps from the earlier ones.

Rasa starts a new session after ``session_expiration_time`` minutes of quiet
(domain.yml). The session keeps its slots (``carry_over_slots_to_new_session: true``,
Rasa's own ``action_session_start``, which runs inside Rasa and so needs no action
server): an open ticket (``handoff_active``, ``handoff_ticket_id``, ``handoff_urgent``,
set by action_handoff and cleared when staff resolve the ticket) keeps receiving the
patient's messages, and a crisis (``crisis_at``, the time action_handoff opened a
crisis ticket) keeps the SafetyPolicy's crisis follow-up for ``CRISIS_MEMORY_HOURS``.
The contact form's slots are empty by then (action_save_handoff_contact clears them),
so no contact detail is carried over.
"""

from __future__ import annotations

from typing import Any, Optional

# How long a crisis is remembered in later sessions of the conversation.
CRISIS_MEMORY_HOURS = 24


def remembers_crisis(crisis_at: Any, now: float) -> bool:
    """Whether a crisis at ``crisis_at`` (epoch seconds, or None) still counts."""
    when: Optional[float]
    try:
        when = float(crisis_at) if crisis_at is not None else None
    except (TypeError, ValueError):
        return False
    return when is not None and 0 <= now - when < CRISIS_MEMORY_HOURS * 3600
