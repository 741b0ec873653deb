"""Replies that fit Telegram and Messenger; the one-time Telegram webhook registration.

Only the providers' APIs are faked: TELEGRAM_API_BASE / FACEBOOK_API_BASE point the
channels' real clients (aiogram, fbmessenger) at a local HTTP server that records what
would have been sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import urllib.parse
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from channels.messenger import ClinicMessengerBot, client, signature_valid
from channels.telegram import ClinicTelegramOutput, TelegramInput, keyboard
from tests.http_receiver import Receiver

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import telegram_set_webhook  # noqa: E402

TOKEN = "123456789:AAE-unit-test-token"
PARAGRAPH = "Ketamine-assisted therapy is given at the clinic under supervision. " * 60
BUTTONS = [{"title": f"Option {i}", "payload": f"/choose_{i}"} for i in range(1, 6)]


@pytest.fixture()
def telegram_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    api = Receiver(
        reply_json={
            "ok": True,
            "result": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}},
        }
    )
    monkeypatch.setenv("TELEGRAM_API_BASE", api.url)
    yield api
    api.close()


@pytest.fixture()
def graph_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    api = Receiver(reply_json={"recipient_id": "5", "message_id": "m_1"})
    monkeypatch.setenv("FACEBOOK_API_BASE", api.url)
    yield api
    api.close()


def telegram_messages(api: Receiver) -> List[Dict[str, Any]]:
    out = []
    for post in api.posts:
        assert post["path"] == f"/bot{TOKEN}/sendMessage"
        fields = {
            k: v[0] for k, v in urllib.parse.parse_qs(post["body"].decode()).items()
        }
        if "reply_markup" in fields:
            fields["reply_markup"] = json.loads(fields["reply_markup"])
        out.append(fields)
    return out


async def test_long_telegram_answers_are_split_under_4096(telegram_api: Receiver) -> None:
    bot = ClinicTelegramOutput(TOKEN)
    await bot.send_text_message("5", PARAGRAPH + "\n\nSecond paragraph.")
    await bot.session.close()
    sent = telegram_messages(telegram_api)
    assert len(sent) == 3
    assert all(len(m["text"]) <= 4096 and m["chat_id"] == "5" for m in sent)
    assert " ".join(m["text"] for m in sent[:2]).split() == PARAGRAPH.split()
    assert sent[2]["text"] == "Second paragraph."


async def test_telegram_buttons_come_with_the_last_part(telegram_api: Receiver) -> None:
    bot = ClinicTelegramOutput(TOKEN)
    await bot.send_text_with_buttons("5", PARAGRAPH, BUTTONS[:3])
    await bot.session.close()
    sent = telegram_messages(telegram_api)
    assert len(sent) == 2 and "reply_markup" not in sent[0]
    rows = sent[1]["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in rows] == [
        ["/choose_1"],
        ["/choose_2"],
        ["/choose_3"],
    ]


def test_telegram_keyboard_kinds() -> None:
    row = keyboard(BUTTONS[:2], "inline").to_python()["inline_keyboard"]
    assert [[b["text"] for b in r] for r in row] == [["Option 1", "Option 2"]]
    # Callback data over Telegram's 64 bytes: a reply keyboard of titles instead.
    long = [{"title": "Tell me more", "payload": "x" * 65}]
    reply = keyboard(long, None).to_python()
    assert reply["keyboard"] == [[{"text": "Tell me more"}]]
    assert reply["one_time_keyboard"] is True


def test_telegram_channel_needs_a_valid_secret_token() -> None:
    base = {"access_token": TOKEN, "verify": "kat_bot", "webhook_url": "https://x/"}
    for bad in (None, "", "has spaces", "x" * 257):
        with pytest.raises(Exception, match="secret_token"):
            TelegramInput.from_credentials({**base, "secret_token": bad})
    channel = TelegramInput.from_credentials({**base, "secret_token": "ok_-1"})
    assert isinstance(channel, TelegramInput) and channel.secret_token == "ok_-1"


def messenger_messages(api: Receiver) -> List[Dict[str, Any]]:
    bodies = [json.loads(p["body"]) for p in api.posts]
    assert all(p["path"].startswith("/v2.12/me/messages?") for p in api.posts)
    return [b["message"] for b in bodies if "message" in b]


async def test_long_messenger_answers_are_split_under_2000(graph_api: Receiver) -> None:
    bot = ClinicMessengerBot(client("page-token"))
    await bot.send_text_message("5", PARAGRAPH)
    sent = messenger_messages(graph_api)
    assert len(sent) == 3 and all(len(m["text"]) <= 2000 for m in sent)
    assert " ".join(m["text"] for m in sent).split() == PARAGRAPH.split()


async def test_messenger_buttons_template_or_quick_replies(graph_api: Receiver) -> None:
    bot = ClinicMessengerBot(client("page-token"))
    await bot.send_text_with_buttons("5", "Choose:", [dict(b) for b in BUTTONS[:2]])
    await bot.send_text_with_buttons("5", "Choose again:", [dict(b) for b in BUTTONS])
    template, quick = messenger_messages(graph_api)
    payload = template["attachment"]["payload"]
    assert payload["template_type"] == "button" and payload["text"] == "Choose:"
    assert [(b["type"], b["payload"]) for b in payload["buttons"]] == [
        ("postback", "/choose_1"),
        ("postback", "/choose_2"),
    ]
    # Rasa drops more than three buttons; here they become quick replies.
    assert quick["text"] == "Choose again:"
    assert [q["payload"] for q in quick["quick_replies"]] == [
        b["payload"] for b in BUTTONS
    ]


def test_messenger_signature_sha256_or_sha1() -> None:
    body = b'{"object":"page"}'
    sha256 = hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    sha1 = hmac.new(b"secret", body, hashlib.sha1).hexdigest()
    assert signature_valid("secret", body, {"X-Hub-Signature-256": "sha256=" + sha256})
    assert signature_valid("secret", body, {"X-Hub-Signature": "sha1=" + sha1})
    assert not signature_valid("secret", body, {"X-Hub-Signature": "sha256=" + sha256})
    assert not signature_valid("other", body, {"X-Hub-Signature-256": "sha256=" + sha256})
    assert not signature_valid("secret", body + b" ", {"X-Hub-Signature": "sha1=" + sha1})
    assert not signature_valid("secret", body, {})


def test_webhook_registration_sends_the_secret_token() -> None:
    api = Receiver(reply_json={"ok": True, "result": {"username": "kat_bot"}})
    env = {
        "TELEGRAM_ACCESS_TOKEN": TOKEN,
        "TELEGRAM_BOT_USERNAME": "@kat_bot",
        "TELEGRAM_WEBHOOK_URL": "https://clinic.example/webhooks/telegram/webhook",
        "TELEGRAM_SECRET_TOKEN": "s3cret_token",
        "TELEGRAM_API_BASE": api.url,
    }
    try:
        assert "@kat_bot" in telegram_set_webhook.register(env)
        get_me, set_webhook = api.posts
        assert get_me["path"] == f"/bot{TOKEN}/getMe"
        assert set_webhook["path"] == f"/bot{TOKEN}/setWebhook"
        sent = json.loads(set_webhook["body"])
        assert sent["url"] == env["TELEGRAM_WEBHOOK_URL"]
        assert sent["secret_token"] == "s3cret_token"
        with pytest.raises(telegram_set_webhook.SetupError, match="not @other_bot"):
            telegram_set_webhook.register({**env, "TELEGRAM_BOT_USERNAME": "other_bot"})
        with pytest.raises(telegram_set_webhook.SetupError, match="TELEGRAM_SECRET"):
            telegram_set_webhook.register({**env, "TELEGRAM_SECRET_TOKEN": ""})
    finally:
        api.close()


async def test_telegram_closes_its_reply_session_when_the_server_stops(
    telegram_api: Receiver,
) -> None:
    """aiogram's HTTP session (opened by the first reply) is closed by the blueprint's
    after_server_stop listener, not left for the interpreter to complain about."""
    channel = TelegramInput(TOKEN, "kat_bot", None, secret_token="s3cret")
    outputs: List[ClinicTelegramOutput] = []
    made = channel.get_output_channel

    def remembered() -> ClinicTelegramOutput:
        outputs.append(made())
        return outputs[-1]

    channel.get_output_channel = remembered  # type: ignore[method-assign]

    async def on_new_message(_: Any) -> None:
        return None

    blueprint = channel.blueprint(on_new_message)
    [stop] = [
        future.listener
        for future in blueprint._future_listeners
        if future.event == "after_server_stop"
    ]
    out = outputs[0]
    await out.send_text_message("5", "hello")  # opens the session
    session = out._session
    assert session is not None and not session.closed
    await stop(None, None)
    assert session.closed
    await stop(None, None)  # twice is fine
