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
    assert list(kept) == ["channels.rest.RestInput"]
    assert any(line.startswith("channels.twilio") for line in skipped)


def test_a_fully_configured_channel_is_on_and_keeps_references_not_secrets() -> None:
    env = {
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "secret",
        "TWILIO_NUMBER": "+1",
    }
    kept, _ = active_channels(template(), env)
    assert "channels.twilio.TwilioInput" in kept
    assert "secret" not in yaml.safe_dump(kept)
    partial, _ = active_channels(template(), {"SLACK_BOT_TOKEN": "x"})
    assert "slack" not in partial


def test_messaging_channels_use_the_signed_subclasses_and_need_every_secret() -> None:
    channels = {
        "channels.telegram.TelegramInput": {
            "TELEGRAM_ACCESS_TOKEN": "1:x",
            "TELEGRAM_BOT_USERNAME": "kat_bot",
            "TELEGRAM_WEBHOOK_URL": "https://clinic.example/webhooks/telegram/webhook",
            "TELEGRAM_SECRET_TOKEN": "s",
        },
        "channels.messenger.MessengerInput": {
            "FACEBOOK_VERIFY_TOKEN": "v",
            "FACEBOOK_APP_SECRET": "s",
            "FACEBOOK_PAGE_ACCESS_TOKEN": "t",
        },
        "channels.slack.SlackInput": {
            "SLACK_BOT_TOKEN": "xoxb",
            "SLACK_SIGNING_SECRET": "s",
        },
    }
    assert "facebook" not in template() and "slack" not in template()
    for name, env in channels.items():
        kept, _ = active_channels(template(), env)
        assert name in kept, name
        for missing in env:
            partial = {k: v for k, v in env.items() if k != missing}
            kept, skipped = active_channels(template(), partial)
            assert name not in kept
            assert any(line.startswith(name) and missing in line for line in skipped)


def test_optional_settings_are_left_out_when_unset_and_kept_when_set() -> None:
    slack = {"SLACK_BOT_TOKEN": "xoxb", "SLACK_SIGNING_SECRET": "s"}
    kept, _ = active_channels(template(), slack)
    block = kept["channels.slack.SlackInput"]
    assert "slack_channel" not in block  # Rasa would refuse an unfilled ${SLACK_CHANNEL}
    assert block["slack_token"] == "${SLACK_BOT_TOKEN}"
    kept, _ = active_channels(template(), {**slack, "SLACK_CHANNEL": "C1"})
    assert kept["channels.slack.SlackInput"]["slack_channel"] == "${SLACK_CHANNEL}"

    web = {"KAT_WEB_SESSION_SECRET": "x" * 32, "KAT_WEB_ORIGINS": "https://a.example"}
    name = "channels.socketio.SocketIOInput"
    kept, _ = active_channels(template(), web)
    assert "redis_url" not in kept[name] and "redis_channel" not in kept[name]
    kept, _ = active_channels(
        template(), {**web, "KAT_WEB_REDIS_URL": "redis://r:6379/1"}
    )
    assert kept[name]["redis_url"] == "${KAT_WEB_REDIS_URL}"
    assert "redis_channel" not in kept[name]
    # Required settings stay required: without the session secret the web chat is off.
    kept, skipped = active_channels(template(), {"KAT_WEB_ORIGINS": "https://a.example"})
    assert name not in kept
    assert any("KAT_WEB_SESSION_SECRET" in line for line in skipped)


def test_webhook_paths_come_from_the_channel_classes() -> None:
    from make_credentials import webhook_path

    assert webhook_path("channels.rest.RestInput") == "/webhooks/rest/webhook"
    assert webhook_path("channels.twilio.TwilioInput") == "/webhooks/twilio/webhook"
    assert webhook_path("channels.messenger.MessengerInput") == (
        "/webhooks/facebook/webhook"
    )
    assert webhook_path("channels.slack.SlackInput") == "/webhooks/slack/webhook"
    assert webhook_path("channels.telegram.TelegramInput") == "/webhooks/telegram/webhook"
    assert webhook_path("channels.socketio.SocketIOInput") is None
