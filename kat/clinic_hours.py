"""Is the clinic open right now? From ``opening_hours`` and ``timezone`` in the profile."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Mapping, Optional
from zoneinfo import ZoneInfo

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def is_open(profile: Mapping[str, Any], now: Optional[datetime] = None) -> bool:
    """True within the day's opening hours, in the clinic's time zone."""
    zone = ZoneInfo(str(profile.get("timezone") or "UTC"))
    local = (now or datetime.now(tz=zone)).astimezone(zone)
    hours = (profile.get("opening_hours") or {}).get(DAYS[local.weekday()])
    if not hours:
        return False
    opens, closes = (time.fromisoformat(str(h)) for h in hours)
    return opens <= local.time() < closes
