from __future__ import annotations

from datetime import datetime, timezone

from kat.clinic_hours import is_open

PROFILE = {
    "timezone": "America/New_York",
    "opening_hours": {"monday": ["09:00", "17:00"]},
}


def test_open_during_hours_in_the_clinic_time_zone() -> None:
    # Monday 2026-11-23 15:00 UTC is 10:00 in New York.
    assert is_open(PROFILE, datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc))


def test_closed_outside_hours_and_on_days_without_hours() -> None:
    assert not is_open(
        PROFILE, datetime(2026, 11, 23, 23, 0, tzinfo=timezone.utc)
    )  # 18:00 NY
    assert not is_open(
        PROFILE, datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
    )  # Tuesday
