"""What a new session of a conversation keeps from the earlier ones.

Rasa starts a new session after ``session_expiration_time`` minutes of quiet
(domain.yml) and, with ``carry_over_slots_to_new_session: false``, forgets every slot:
a patient with an open (possibly urgent) ticket who writes "I already took them" an hour
later would be a fresh chat, and the message would no longer reach the ticket. The
hand-off store still knows, so ``action_session_start`` (actions/session_start.py) sets
again what these return:

* an open ticket: ``handoff_active``, ``handoff_requested``, ``handoff_ticket_id`` and
  its urgency, ``handoff_urgent``: the patient's messages keep going onto it;
* a crisis in this conversation (a crisis ticket not resolved yet, or one opened in the
  last ``CRISIS_MEMORY_HOURS``): ``earlier_crisis``, so the SafetyPolicy answers with
  the crisis follow-up (a person is coming, the emergency numbers) instead of cheerful
  FAQ chatter, exactly as within the session of the crisis.

Nothing else is carried over: no contact details, no message text.
"""

from __future__ import annotations

from typing import Any, Dict

from kat.handoff_store import HandoffStore

# How long a crisis is remembered after its ticket was resolved (an open crisis ticket
# is remembered until it is resolved).
CRISIS_MEMORY_HOURS = 24


def restored_slots(store: HandoffStore, conversation_id: str) -> Dict[str, Any]:
    """The slots a new session of ``conversation_id`` starts with (module docstring)."""
    slots: Dict[str, Any] = {}
    ticket = store.open_ticket_for(conversation_id)
    if ticket is not None:
        slots.update(
            handoff_requested=True,
            handoff_active=True,
            handoff_ticket_id=ticket.id,
            handoff_urgent=ticket.urgent,
        )
    if store.crisis_since(conversation_id, CRISIS_MEMORY_HOURS * 3600):
        slots["earlier_crisis"] = True
    return slots
