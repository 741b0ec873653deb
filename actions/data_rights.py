"""The patient's data rights in chat: ``action_tell_stored_data`` ("what do you know
about me?") and ``action_forget_conversation`` ("forget me", after the patient said yes
to ``utter_forget_confirm``).

Neither reads back a message or a contact detail, on any channel: only counts, a date,
whether contact details were given and the ticket's status. Every word the patient sees
is a domain.yml response; this module picks which and fills numbers and dates.

Forgetting (kat/data_rights.py): the tickets keep only reason, urgency, status and times
(kat/handoff_store.py ``forget_conversation``); the audit trail gets a ``patient_forget``
row per ticket, without content; the conversation's stored events are deleted by the
tracker store when it saves this turn (components/tracker_store.py), because Rasa writes
back what it holds in memory after the action. The web chat's copy in the browser goes
when the widget receives ``utter_forgotten``'s socket.io variant.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from kat.audit import PATIENT, AuditLog
from kat.data_rights import (
    StoredMessages,
    best_count,
    from_events,
    from_tracker_db,
    since_text,
)
from kat.handoff_store import default_store
from kat.report import clinic_zone
from kat.retention import tracker_db_url
from kat.session_context import remembers_crisis

logger = logging.getLogger(__name__)

TICKET_STATUS_RESPONSES = {
    "open": "utter_stored_data_ticket_open",
    "claimed": "utter_stored_data_ticket_claimed",
    "resolved": "utter_stored_data_ticket_resolved",
}


def _stored_in_db(sender_id: str) -> Optional[StoredMessages]:
    """The tracker store's own count, or None where the action server cannot read it
    (another machine without KAT_TRACKER_DB_URL): then the session's events count."""
    try:
        engine = sa.create_engine(tracker_db_url(), future=True)
        try:
            return from_tracker_db(engine, sender_id)
        finally:
            engine.dispose()
    except sa.exc.SQLAlchemyError as exc:
        logger.warning("stored data: tracker store not readable (%s)", type(exc).__name__)
        return None


class ActionTellStoredData(Action):
    def name(self) -> Text:
        return "action_tell_stored_data"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Dict[Text, Any]]:
        messages = best_count(
            from_events(tracker.events), _stored_in_db(tracker.sender_id)
        )
        dispatcher.utter_message(
            response="utter_stored_data_messages",
            messages=messages.count,
            since=since_text(messages.since, clinic_zone(None)),
        )
        tickets = default_store().tickets_for(tracker.sender_id)
        given = any(t.contact for t in tickets)
        dispatcher.utter_message(
            response="utter_stored_data_contact_given"
            if given
            else "utter_stored_data_no_contact"
        )
        if tickets:
            dispatcher.utter_message(response=TICKET_STATUS_RESPONSES[tickets[-1].status])
        dispatcher.utter_message(response="utter_stored_data_how_to_forget")
        return []


class ActionForgetConversation(Action):
    def name(self) -> Text:
        return "action_forget_conversation"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Dict[Text, Any]]:
        store = default_store()
        tickets = store.forget_conversation(tracker.sender_id)
        audit = AuditLog(store)
        for ticket in tickets:
            audit.record(PATIENT, "patient_forget", ticket_id=ticket.id)
        dispatcher.utter_message(response="utter_forgotten")
        if any(t.status != "resolved" for t in tickets):
            dispatcher.utter_message(response="utter_forgotten_ticket_kept")
        crisis = remembers_crisis(tracker.get_slot("crisis_at"), time.time()) or any(
            (e.get("parse_data") or {}).get("intent", {}).get("name") == "crisis"
            for e in tracker.events
            if e.get("event") == "user"
        )
        if crisis:
            dispatcher.utter_message(response="utter_crisis_help")
        # The stored events go when the tracker store saves this turn; these slots are
        # what Rasa holds until then.
        return [SlotSet("handoff_active", False), SlotSet("handoff_ticket_id", None)]
