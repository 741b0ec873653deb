"""The clinic profile (content/clinic_profile.yml): facts the assistant may state.

Values still in ``[square brackets]`` are placeholders the clinic has not filled in. They
are never shown as if they were facts: :func:`response_values` replaces them with a
sentence that sends the patient to the clinic team instead.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Mapping

import yaml

from kat.paths import content_dir

REQUIRED_KEYS = (
    "name",
    "phone",
    "email",
    "address",
    "website",
    "web_chat_url",
    "channel_privacy_note",
    "hours",
    "timezone",
    "opening_hours",
    "reply_time",
    "booking",
    "cost",
    "insurance",
    "emergency_number",
    "crisis_line",
    "crisis_line_text",
    "crisis_text_line",
    "crisis_line_text_es",
    "substance_use_helpline",
    "disclaimer",
)

# Keys whose placeholder still reads naturally in a sentence.
PLACEHOLDER_WORDING = {
    "name": "clinic",
    "phone": "the number on the clinic's website",
    "email": "the address on the clinic's website",
    "address": "see the clinic's website",
    "website": "not set up in this assistant yet",
    "web_chat_url": "see the clinic's website",
    "reply_time": "as soon as they can",
    "hours": "see the clinic's website",
}
# The same for the Spanish replies, as clinic_<key>_es.
PLACEHOLDER_WORDING_ES = {
    "name": "la clínica",
    "phone": "el número que aparece en el sitio web de la clínica",
    "email": "la dirección que aparece en el sitio web de la clínica",
    "address": "consulte el sitio web de la clínica",
    "website": "todavía no está disponible en este asistente",
    "web_chat_url": "consulte el sitio web de la clínica",
    "reply_time": "lo antes posible",
    "hours": "consulte el sitio web de la clínica",
}
DEFAULT_PLACEHOLDER_WORDING = (
    "the clinic hasn't added this to the assistant yet, so please ask the team"
)
DEFAULT_PLACEHOLDER_WORDING_ES = (
    "la clínica todavía no ha agregado este dato al asistente, así que le pido que se "
    "lo pregunte al equipo"
)

_PLACEHOLDER = re.compile(r"^\s*\[.*\]\s*$", re.DOTALL)


class ProfileError(ValueError):
    """The clinic profile is missing keys or malformed."""


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and bool(_PLACEHOLDER.match(value))


def load_profile(path: Path | None = None) -> Dict[str, Any]:
    path = path or content_dir() / "clinic_profile.yml"
    with open(path, encoding="utf-8") as handle:
        profile = yaml.safe_load(handle) or {}
    if not isinstance(profile, dict):
        raise ProfileError(f"{path}: expected a mapping")
    missing = [key for key in REQUIRED_KEYS if key not in profile]
    if missing:
        raise ProfileError(f"{path}: missing keys {missing}")
    return profile


@lru_cache(maxsize=4)
def _cached_profile(path: str) -> Dict[str, Any]:
    return load_profile(Path(path))


def cached_profile() -> Dict[str, Any]:
    """The profile, read once per process (restart to pick up edits)."""
    return _cached_profile(str(content_dir() / "clinic_profile.yml"))


def response_values(profile: Mapping[str, Any]) -> Dict[str, str]:
    """``clinic_<key>`` -> text safe to put in a reply (placeholders reworded)."""
    values: Dict[str, str] = {}
    for key, value in profile.items():
        if not isinstance(value, (str, int, float)):
            continue
        text = str(value).strip()
        placeholder = is_placeholder(text)
        if placeholder and key.endswith("_es"):
            # A Spanish key still in [brackets] ("reply_time_es"): Spanish wording.
            text = PLACEHOLDER_WORDING_ES.get(
                key.removesuffix("_es"), DEFAULT_PLACEHOLDER_WORDING_ES
            )
        elif placeholder:
            text = PLACEHOLDER_WORDING.get(key, DEFAULT_PLACEHOLDER_WORDING)
        values[f"clinic_{key}"] = text
        if key in PLACEHOLDER_WORDING_ES and f"{key}_es" not in profile:
            # The same value in both languages (a name, a number), or its Spanish wording.
            values[f"clinic_{key}_es"] = (
                PLACEHOLDER_WORDING_ES[key] if placeholder else str(value).strip()
            )
    return values
