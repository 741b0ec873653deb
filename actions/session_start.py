"""``action_session_start``: a new session that remembers the open ticket and a crisis.

Rasa's own ``action_session_start`` starts the session, carries slots over only if
``carry_over_slots_to_new_session`` says so (it does not: domain.yml), and listens.
This one does the same and then sets the slots ``kat/session_context.py`` restores from
the hand-off store: an open ticket and its urgency, and that a crisis happened in this
conversation. If the store cannot be read the session starts as Rasa's would, with the
error logged (its type only): never a failed start.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from kat.handoff_store import default_store
from kat.session_context import restored_slots

logger = logging.getLogger(__name__)


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Dict[Text, Any]]:
        events: List[Dict[Text, Any]] = [SessionStarted()]
        try:
            slots = restored_slots(default_store(), tracker.sender_id)
        except Exception as exc:  # noqa: BLE001 - the session starts anyway
            logger.error("session context not restored: %s", type(exc).__name__)
            slots = {}
        if slots:
            logger.info("new session restored %s", ", ".join(sorted(slots)))
        events.extend(SlotSet(name, value) for name, value in slots.items())
        events.append(ActionExecuted("action_listen"))
        return events
