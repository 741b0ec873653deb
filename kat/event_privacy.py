"""Personal data in stored and published Rasa events (plain dicts, no Rasa imports).

Two rules (docs/privacy.md):

* **The contact form's answers live on the ticket only.** While the form runs, the
  patient's name and phone number or e-mail sit in the conversation: in the user
  events that answered the form, and in the ``SlotSet`` events of ``contact_name`` and
  ``contact_details``. Once the form is over (the details saved on the ticket, consent
  withdrawn, or the form closed by a crisis), ``masked`` rewrites those events:
  the user message's text becomes ``MASK`` and the slot's value ``None``.
  components/tracker_store.py applies it to the stored rows.
* **The event stream carries no message text** unless ``KAT_BROKER_INCLUDE_TEXT=true``:
  ``for_broker`` drops the text of user and bot events (and the NLU's copy of it,
  with the entities found in it) and the value of every free-text slot; the intents,
  actions, slot names and times stay, which is what analytics need. The contact slots'
  values are never published, whatever the setting.
"""

from __future__ import annotations

import copy
import os
from typing import Any, Dict, Iterable, Optional, Set

CONTACT_SLOTS = ("contact_name", "contact_details")
# Slots whose value is text the patient or staff typed.
FREE_TEXT_SLOTS = (*CONTACT_SLOTS, "staff_message")
MASK = "[contact details: kept on the ticket only]"
INCLUDE_TEXT_ENV = "KAT_BROKER_INCLUDE_TEXT"


def _norm(text: Any) -> str:
    return " ".join(str(text or "").split()).casefold()


def contact_values(events: Iterable[Dict[str, Any]]) -> Set[str]:
    """The contact slots' values in ``events`` (normalised), excluding empty ones."""
    return {
        _norm(e.get("value"))
        for e in events
        if e.get("event") == "slot"
        and e.get("name") in CONTACT_SLOTS
        and _norm(e.get("value"))
    }


def masked(event: Dict[str, Any], values: Set[str]) -> Optional[Dict[str, Any]]:
    """``event`` without the contact details in ``values``, or None if it has none.

    A user event is masked when its text is one of the values: the contact slots are
    filled ``from_text``, so the whole message is the answer.
    """
    kind = event.get("event")
    if kind == "slot" and event.get("name") in CONTACT_SLOTS:
        if event.get("value") is None:
            return None
        return {**event, "value": None}
    if kind != "user" or not values:
        return None
    text = _norm(event.get("text"))
    if not text or text not in values:
        return None
    clean = copy.deepcopy(event)
    clean["text"] = MASK
    parse = clean.get("parse_data")
    if isinstance(parse, dict):
        parse["text"] = MASK
        parse["entities"] = []
        parse.pop("response_selector", None)
    return clean


def include_text(environ: Optional[Dict[str, str]] = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get(INCLUDE_TEXT_ENV, "").strip().lower() in ("1", "true", "yes")


def for_broker(event: Dict[str, Any], with_text: bool = False) -> Dict[str, Any]:
    """The event as published to the event stream (module docstring)."""
    kind = event.get("event")
    out = dict(event)
    if kind == "slot" and out.get("name") in FREE_TEXT_SLOTS:
        if not with_text or out.get("name") in CONTACT_SLOTS:
            out["value"] = None
        return out
    if with_text or kind not in ("user", "bot"):
        return out
    out.pop("text", None)
    if kind == "bot":
        out.pop("data", None)  # buttons and custom payloads carry reply text
    parse = out.get("parse_data")
    if isinstance(parse, dict):
        parse = dict(parse)
        parse.pop("text", None)
        parse.pop("entities", None)
        parse.pop("response_selector", None)
        out["parse_data"] = parse
    return out
