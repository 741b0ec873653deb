"""Contact details for a hand-off, collected only with consent.

``validate_handoff_contact_form`` checks formats (a name; a phone number or e-mail) and
ends the form at once when the patient says no. ``action_save_handoff_contact`` puts the
details on the ticket. Contact details never go to the logs.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from kat.handoff_rules import normalise_contact, plausible_name
from kat.handoff_store import default_store

logger = logging.getLogger(__name__)


class ValidateHandoffContactForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_handoff_contact_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        if tracker.get_slot("contact_consent") is False:
            return []
        return domain_slots

    async def validate_contact_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        if plausible_name(str(slot_value or "")):
            return {"contact_name": str(slot_value).strip()}
        dispatcher.utter_message(response="utter_contact_name_unreadable")
        return {"contact_name": None}

    async def validate_contact_details(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        if normalise_contact(str(slot_value or "")):
            return {"contact_details": str(slot_value).strip()}
        dispatcher.utter_message(response="utter_contact_details_unreadable")
        return {"contact_details": None}


class ActionSaveHandoffContact(Action):
    def name(self) -> Text:
        return "action_save_handoff_contact"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Dict[Text, Any]]:
        if tracker.get_slot("contact_consent") is not True:
            dispatcher.utter_message(response="utter_contact_declined")
            return [SlotSet("handoff_offer_contact", False)]
        ticket_id: Optional[str] = tracker.get_slot("handoff_ticket_id")
        contact = normalise_contact(str(tracker.get_slot("contact_details") or ""))
        name = str(tracker.get_slot("contact_name") or "")
        saved = False
        if ticket_id and contact:
            try:
                saved = default_store().set_contact(ticket_id, {"name": name, **contact})
            except Exception as exc:  # noqa: BLE001 - the patient is told, not left silent
                logger.error("contact details not saved: %s", type(exc).__name__)
        # "Saved" only when they are on the ticket; else the patient is told how to
        # reach the clinic instead.
        dispatcher.utter_message(
            response="utter_contact_saved" if saved else "utter_contact_not_saved"
        )
        # The details live on the ticket only; clear them from the conversation.
        return [
            SlotSet("contact_name", None),
            SlotSet("contact_details", None),
            SlotSet("handoff_offer_contact", False),
        ]
