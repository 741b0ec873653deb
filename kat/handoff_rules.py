"""Pure decisions for hand-offs: why, how urgent, what the staff see, contact formats."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

# Messages are capped in the transcript a person reads (a 100 kB paste stays readable).
MAX_TRANSCRIPT_TEXT = 4000
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_PHONE_CHARS = re.compile(r"^[0-9 +().\-]+$")


@dataclass(frozen=True)
class HandoffDecision:
    reason: str
    urgent: bool


def decide(
    latest_intent: Optional[Dict[str, Any]],
    recent_intents: Iterable[str],
    after_contraindication_check: bool = False,
) -> HandoffDecision:
    """Reason and urgency from the message that led to the hand-off.

    ``latest_intent`` is the parse result's intent (with the safety gate's note);
    ``recent_intents`` the conversation's earlier intents, newest last.
    """
    intent = latest_intent or {}
    name = intent.get("name")
    gate = intent.get("safety_gate") or {}
    if name == "crisis":
        return HandoffDecision("crisis", True)
    if name == "clinical_question":
        return HandoffDecision("clinical_question", bool(gate.get("urgent")))
    if name == "nlu_fallback":
        return HandoffDecision("repeated_fallback", False)
    recent = list(recent_intents)
    if "crisis" in recent:
        return HandoffDecision("crisis", True)
    if after_contraindication_check:
        return HandoffDecision("contraindication_follow_up", False)
    return HandoffDecision("patient_asked", False)


def transcript(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Patient and assistant messages of a tracker's events, in order."""
    lines: List[Dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind not in ("user", "bot"):
            continue
        text = event.get("text")
        if not text:
            continue
        text = str(text)
        if len(text) > MAX_TRANSCRIPT_TEXT:
            text = text[:MAX_TRANSCRIPT_TEXT] + " [...]"
        lines.append(
            {
                "from": "patient" if kind == "user" else "assistant",
                "text": text,
                "time": event.get("timestamp"),
            }
        )
    return lines


def normalise_contact(value: str) -> Optional[Dict[str, str]]:
    """A phone number or e-mail address, or None if it is neither."""
    value = (value or "").strip()
    if _EMAIL.match(value):
        return {"email": value.lower()}
    digits = re.sub(r"\D", "", value)
    if _PHONE_CHARS.match(value) and 7 <= len(digits) <= 15:
        return {"phone": ("+" if value.startswith("+") else "") + digits}
    return None


def plausible_name(value: str) -> bool:
    value = (value or "").strip()
    return (
        1 <= len(value) <= 80
        and not any(ch.isdigit() for ch in value)
        and "@" not in value
    )
