"""Channels whose variables are unset stay off; no secret is written out."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from make_credentials import active_channels  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def template() -> dict:
    return yaml.safe_load((ROOT / "credentials.yml").read_text())


def test_only_rest_without_any_channel_variables() -> None:
    kept, skipped = active_channels(template(), {})
    assert list(kept) == ["rest"]
    assert any(line.startswith("channels.twilio_signed") for line in skipped)


def test_a_fully_configured_channel_is_on_and_keeps_references_not_secrets() -> None:
    env = {
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "secret",
        "TWILIO_NUMBER": "+1",
    }
    kept, _ = active_channels(template(), env)
    assert "channels.twilio_signed.SignedTwilioInput" in kept
    assert "secret" not in yaml.safe_dump(kept)
    partial, _ = active_channels(template(), {"SLACK_BOT_TOKEN": "x"})
    assert "slack" not in partial
