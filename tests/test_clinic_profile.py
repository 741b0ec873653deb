"""The clinic profile loads, and placeholders are never presented as facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from kat.clinic_profile import (
    REQUIRED_KEYS,
    ProfileError,
    is_placeholder,
    load_profile,
    response_values,
)


def test_shipped_profile_has_every_key() -> None:
    profile = load_profile()
    assert set(REQUIRED_KEYS) <= set(profile)


def test_shipped_profile_invents_no_prices_or_policies() -> None:
    profile = load_profile()
    for key in ("cost", "insurance", "booking", "phone", "email", "hours"):
        assert is_placeholder(profile[key]), f"{key} must stay a placeholder until filled"


def test_placeholders_are_reworded_for_patients() -> None:
    values = response_values({"cost": "[fees here]", "phone": "[phone]", "name": "Calm"})
    assert "[" not in values["clinic_cost"]
    assert "ask the team" in values["clinic_cost"]
    assert values["clinic_name"] == "Calm"
    assert "[" not in values["clinic_phone"]


def test_filled_values_are_used_as_written() -> None:
    values = response_values({"cost": "Fees are discussed at your first visit."})
    assert values["clinic_cost"] == "Fees are discussed at your first visit."


def test_missing_keys_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "profile.yml"
    bad.write_text("name: x\n")
    with pytest.raises(ProfileError, match="missing keys"):
        load_profile(bad)
