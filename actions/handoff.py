"""``action_handoff``: pass the conversation to a person at the clinic.

Opens a ticket in the hand-off store (or adds to the one already open), tells the patient
what happens next, and — for a new, non-urgent hand-off — sets ``handoff_offer_contact``
so the rules offer to take contact details (handoff_contact_form, consent first).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from kat.clinic_hours import is_open
from kat.clinic_profile import cached_profile
from kat.handoff_rules import decide, transcript
from kat.handoff_store import default_store
from kat.notify import notify_and_record
from kat.rate_limit import HOUR, Limits
from kat.session_context import remembers_crisis

logger = logging.getLogger(__name__)


def _clinic_open() -> bool:
    try:
        return is_open(cached_profile())
    except Exception:  # a malformed profile must not stop the hand-off
        logger.exception("could not read opening hours from the clinic profile")
        return True


def latest_user_message(tracker: Tracker) -> List[Dict[str, Any]]:
    """The patient's latest message as a one-entry ticket transcript."""
    return transcript([e for e in tracker.events if e.get("event") == "user"][-1:])


def client_of(tracker: Tracker) -> Optional[str]:
    """The channel's keyed hash of the client behind the latest message, if any
    (channels/base.py puts it in the message's metadata; never an address)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            key = (event.get("metadata") or {}).get("kat_client")
            return str(key) if key else None
    return None


def _channel(tracker: Tracker) -> str:
    return str(tracker.get_latest_input_channel() or "unknown")


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Dict[Text, Any]]:
        intents = [
            (e.get("parse_data") or {}).get("intent", {}).get("name")
            for e in tracker.events
            if e.get("event") == "user"
        ]
        decision = decide(
            tracker.latest_message.get("intent"),
            [i for i in intents if i],
            after_contraindication_check=bool(
                tracker.get_slot("contraindication_checked")
            ),
        )
        try:
            store = default_store()
            ticket = store.open_ticket_for(tracker.sender_id)
            if ticket is not None:
                store.append_messages(
                    ticket.id,
                    latest_user_message(tracker),
                    urgent=decision.urgent,
                    language=tracker.get_slot("language"),
                )
                created = False
            else:
                client = client_of(tracker)
                flood = (
                    client is not None
                    and store.recent_from_client(client, HOUR)
                    >= Limits.from_env().handoffs_per_hour
                )
                ticket = store.open_ticket(
                    conversation_id=tracker.sender_id,
                    channel=_channel(tracker),
                    reason=decision.reason,
                    urgent=decision.urgent,
                    transcript=transcript(tracker.events),
                    client_key=client,
                    suspected_flood=flood,
                    language=tracker.get_slot("language") or "en",
                )
                created = True
                if flood:
                    # Beyond the client's hand-off limit (kat/rate_limit.py): kept, and
                    # shown to staff in one group, but it pages nobody.
                    logger.warning("hand-off ticket %s: suspected flood", ticket.id)
                    store.set_notification(ticket.id, "off", "suspected flood")
                else:
                    store.set_notification(ticket.id, "pending")
                    # Notify staff at once, without making the patient wait.
                    threading.Thread(
                        target=notify_and_record, args=(store, ticket), daemon=True
                    ).start()
        except Exception:  # the store is down: never leave the patient in silence
            logger.exception("hand-off store unavailable (reason=%s)", decision.reason)
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return [
                SlotSet("handoff_requested", True),
                SlotSet("handoff_offer_contact", False),
            ]

        logger.info(
            "hand-off ticket %s %s (reason=%s urgent=%s)",
            ticket.id,
            "opened" if created else "updated",
            decision.reason,
            decision.urgent,
        )
        events: List[Dict[Text, Any]] = [
            SlotSet("handoff_requested", True),
            SlotSet("handoff_ticket_id", ticket.id),
            SlotSet("handoff_active", True),
            SlotSet("handoff_urgent", bool(ticket.urgent)),
            SlotSet("handoff_offer_contact", False),
        ]
        if decision.reason == "crisis":
            # Remembered in later sessions for a day (kat/session_context.py).
            events.append(SlotSet("crisis_at", time.time()))
            # The crisis reply already gave the emergency numbers; confirm the alert,
            # in Spanish after a crisis the Spanish patterns found.
            why = (tracker.latest_message.get("intent") or {}).get("safety_gate") or {}
            spanish = why.get("language") == "es"
            dispatcher.utter_message(
                response="utter_handoff_urgent_es" if spanish else "utter_handoff_urgent"
            )
            return events
        if not created:
            dispatcher.utter_message(response="utter_handoff_added")
            return events
        if decision.reason == "clinical_question":
            dispatcher.utter_message(response="utter_handoff_clinical")
        else:
            dispatcher.utter_message(response="utter_handoff_confirmation")
        if decision.urgent:
            dispatcher.utter_message(response="utter_handoff_urgent")
        elif not _clinic_open():
            dispatcher.utter_message(response="utter_handoff_out_of_hours")
        if tracker.get_slot("contact_consent") is None:
            # data/rules/handoff.yml starts the consent form when this is true.
            events.append(SlotSet("handoff_offer_contact", True))
        return events


class ActionAddToHandoff(Action):
    """Put the patient's latest message on the open ticket, silently: after a crisis
    (the ticket stays urgent), and after a general question answered while a person
    is on the way.

    The SafetyPolicy answers such messages with ``utter_crisis_followup`` (still here, a
    person is coming, the emergency numbers) and then runs this, so the person who
    picks up the ticket reads everything the patient wrote after the crisis ("I already
    took them") — not only the message that raised the alarm. Says nothing itself: the
    patient has just been answered.
    """

    def name(self) -> Text:
        return "action_add_to_handoff"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Dict[Text, Any]]:
        try:
            store = default_store()
            ticket = store.open_ticket_for(tracker.sender_id)
            if ticket is None:
                return []
            crisis = remembers_crisis(
                tracker.get_slot("crisis_at"), time.time()
            ) or "crisis" in [
                (e.get("parse_data") or {}).get("intent", {}).get("name")
                for e in tracker.events
                if e.get("event") == "user"
            ]
            store.append_messages(ticket.id, latest_user_message(tracker), urgent=crisis)
        except Exception:  # the patient has been answered (and, after a crisis, helped)
            logger.exception("could not add a message to its open ticket")
            return []
        logger.info("hand-off ticket %s updated (after a crisis: %s)", ticket.id, crisis)
        return []
