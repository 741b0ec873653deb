"""``action_handoff``: pass the conversation to a person at the clinic."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionHandoff(Action):
    """Tell the patient a person will follow up, and mark the conversation as handed off."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        dispatcher.utter_message(response="utter_handoff_confirmation")
        return [SlotSet("handoff_requested", True)]
