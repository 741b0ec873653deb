"""Plain-text formatting for SMS-like channels: numbered options, split long answers."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

SMS_LIMIT = 1500  # below Twilio's 1,600 characters, leaving room for carriers


def number_options(text: str, buttons: List[Dict[str, Any]]) -> str:
    lines = [text.rstrip(), ""] if text else []
    lines += [f"{i}. {b.get('title', '')}" for i, b in enumerate(buttons, start=1)]
    lines.append("Reply with a number.")
    return "\n".join(lines)


def pick_option(reply: str, buttons: Optional[List[Dict[str, Any]]]) -> Optional[str]:
    """The payload of the numbered option the patient replied with, if any."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*[.)]?\s*", reply or "")
    if not match or not buttons:
        return None
    index = int(match.group(1)) - 1
    if 0 <= index < len(buttons):
        return str(buttons[index].get("payload") or buttons[index].get("title"))
    return None


def split_message(text: str, limit: int = SMS_LIMIT) -> List[str]:
    """Split at paragraph, line or sentence boundaries so each part fits ``limit``."""
    text = text or ""
    if len(text) <= limit:
        return [text]
    parts: List[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(". "))
        if cut < limit // 3:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        else:
            cut += 1
        parts.append(rest[:cut].strip())
        rest = rest[cut:].lstrip()
    if rest.strip():
        parts.append(rest.strip())
    return parts
