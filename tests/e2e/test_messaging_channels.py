"""Telegram, Messenger and Slack against the real Rasa server: signatures and replies.

Incoming payloads have the shapes documented by each provider (Telegram Bot API
``Update``; Messenger ``object: page`` webhooks; Slack Events API ``event_callback`` and
``url_verification``), signed as each provider signs them. The only thing faked is each
provider's outbound API: TELEGRAM_API_BASE, FACEBOOK_API_BASE and SLACK_API_BASE point
the channels' own clients (aiogram, fbmessenger, slack_sdk) at local HTTP servers that
record what would have been sent to Telegram, Facebook and Slack.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
import requests

from tests.e2e.harness import Servers
from tests.http_receiver import Receiver

pytestmark = pytest.mark.e2e

TELEGRAM_TOKEN = "123456789:AAE-test-token_for_e2e"
TELEGRAM_SECRET = "telegram-e2e-secret_0123456789"
FB_APP_SECRET = "facebook-e2e-app-secret"
FB_VERIFY = "facebook-e2e-verify-token"
SLACK_SECRET = "slack-e2e-signing-secret"
PRIVACY = "not a private place for health details"


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    workdir = Path(tmp_path_factory.mktemp("messaging"))
    # Fakes of the providers' APIs only, answering as the real APIs do.
    telegram_api = Receiver(
        reply_json={
            "ok": True,
            "result": {
                "message_id": 1,
                "date": 1700000000,
                "chat": {"id": 1, "type": "private"},
                "text": "sent",
            },
        }
    )
    graph_api = Receiver(reply_json={"recipient_id": "1", "message_id": "m_1"})
    slack_api = Receiver(
        reply_json={"ok": True, "channel": "D1", "ts": "1700000000.000100"},
        ok_status=200,
    )
    credentials = workdir / "credentials.yml"
    credentials.write_text(
        "channels.rest.RestInput:\n"
        "channels.telegram.TelegramInput:\n"
        f'  access_token: "{TELEGRAM_TOKEN}"\n'
        '  verify: "kat_clinic_bot"\n'
        '  webhook_url: "https://clinic.example/webhooks/telegram/webhook"\n'
        f'  secret_token: "{TELEGRAM_SECRET}"\n'
        "channels.messenger.MessengerInput:\n"
        f'  verify: "{FB_VERIFY}"\n'
        f'  secret: "{FB_APP_SECRET}"\n'
        '  page-access-token: "fb-page-token"\n'
        "channels.slack.SlackInput:\n"
        '  slack_token: "xoxb-e2e"\n'
        '  slack_channel: "C0CLINIC"\n'
        f'  slack_signing_secret: "{SLACK_SECRET}"\n'
    )
    servers = Servers(
        workdir=workdir,
        credentials=str(credentials),
        extra_env={
            "TELEGRAM_API_BASE": telegram_api.url,
            "FACEBOOK_API_BASE": graph_api.url,
            "SLACK_API_BASE": slack_api.url,
        },
    )
    try:
        servers.start()
        yield {
            "servers": servers,
            "telegram": telegram_api,
            "graph": graph_api,
            "slack": slack_api,
        }
    finally:
        servers.stop_all()
        telegram_api.close()
        graph_api.close()
        slack_api.close()


def wait_for(
    sent: Callable[[], List[Dict[str, Any]]],
    found: Callable[[Dict[str, Any]], bool],
    timeout: float = 30,
) -> Dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for item in sent():
            if found(item):
                return item
        time.sleep(0.2)
    raise AssertionError(f"nothing matching was sent; sent {sent()}")


def user_texts(servers: Servers, sender: str, channel: str) -> List[str]:
    """What the patient said, from the tracker of ``sender`` on ``channel``."""
    events = servers.tracker(sender, channel)["events"]
    return [e.get("text") or "" for e in events if e["event"] == "user"]


# --- Telegram ----------------------------------------------------------------------------


def telegram_sent(api: Receiver, chat_id: int) -> List[Dict[str, Any]]:
    """sendMessage calls to ``chat_id``: their form fields, reply_markup decoded."""
    calls = []
    for post in api.posts:
        if not post["path"].endswith(f"/bot{TELEGRAM_TOKEN}/sendMessage"):
            continue
        content_type = post["headers"].get("Content-Type", "")
        assert content_type.startswith("application/x-www-form-urlencoded"), content_type
        fields = {
            k: v[0] for k, v in urllib.parse.parse_qs(post["body"].decode()).items()
        }
        if fields.get("chat_id") == str(chat_id):
            if "reply_markup" in fields:
                fields["reply_markup"] = json.loads(fields["reply_markup"])
            calls.append(fields)
    return calls


def telegram_update(chat_id: int, text: str, chat_type: str = "private") -> Dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "Pat", "language_code": "en"}
    chat = {"id": chat_id, "type": chat_type, "first_name": "Pat"}
    if chat_type != "private":
        chat = {"id": chat_id, "type": chat_type, "title": "Friends"}
    return {
        "update_id": int(time.time() * 1000) % 10**9,
        "message": {
            "message_id": 7,
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        },
    }


def post_telegram(servers: Servers, update: Dict, secret: Optional[str]) -> int:
    return post_telegram_response(servers, update, secret).status_code


def post_telegram_response(
    servers: Servers, update: Dict, secret: Optional[str]
) -> requests.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return requests.post(
        f"{servers.rasa_url}/webhooks/telegram/webhook",
        json=update,
        headers=headers,
        timeout=60,
    )


def new_chat_id() -> int:
    return 10**9 + uuid.uuid4().int % 10**9


def test_telegram_updates_without_the_secret_token_never_reach_the_assistant(
    chat: Dict[str, Any]
) -> None:
    servers: Servers = chat["servers"]
    chat_id = new_chat_id()
    update = telegram_update(chat_id, "hi")
    assert post_telegram(servers, update, None) == 403
    assert post_telegram(servers, update, "wrong-secret") == 403
    assert post_telegram(servers, update, TELEGRAM_SECRET + "x") == 403
    time.sleep(1)
    assert telegram_sent(chat["telegram"], chat_id) == []
    assert user_texts(servers, str(chat_id), "telegram") == []


def test_telegram_greeting_has_the_privacy_note_and_buttons_work(
    chat: Dict[str, Any]
) -> None:
    servers: Servers = chat["servers"]
    api: Receiver = chat["telegram"]
    chat_id = new_chat_id()
    assert post_telegram(servers, telegram_update(chat_id, "hi"), TELEGRAM_SECRET) == 200
    greeting = wait_for(
        lambda: telegram_sent(api, chat_id), lambda m: "reply_markup" in m
    )
    assert PRIVACY in greeting["text"]
    keyboard = greeting["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == [
        "What is KAT?",
        "Side effects",
        "Talk to a person",
    ]
    assert keyboard[1][0]["callback_data"] == "what are the side effects"
    # Telegram never contacted for anything but replies (no setWebhook, no getMe).
    assert all(p["path"].endswith("/sendMessage") for p in api.posts)

    # The patient taps "Side effects": Telegram sends a callback_query.
    press = {
        "update_id": 5,
        "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": {"id": chat_id, "is_bot": False, "first_name": "Pat"},
            "message": {
                "message_id": 8,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Pat"},
                "text": greeting["text"],
            },
            "chat_instance": "-1234567890",
            "data": "what are the side effects",
        },
    }
    reply = post_telegram_response(servers, press, TELEGRAM_SECRET)
    assert reply.status_code == 200
    # The button press is answered in the webhook reply (Telegram runs the method), so
    # the button stops spinning; no extra call to Telegram's API.
    assert reply.json() == {
        "method": "answerCallbackQuery",
        "callback_query_id": "4382bfdwdsb323b2d9",
    }
    answer = wait_for(
        lambda: telegram_sent(api, chat_id),
        lambda m: "Short-term side effects may include" in m["text"],
    )
    assert len(answer["text"]) <= 4096
    assert user_texts(servers, str(chat_id), "telegram") == [
        "hi",
        "what are the side effects",
    ]
    assert all(p["path"].endswith("/sendMessage") for p in api.posts)


def test_telegram_start_command_greets_and_group_chats_get_no_answer(
    chat: Dict[str, Any]
) -> None:
    servers: Servers = chat["servers"]
    api: Receiver = chat["telegram"]
    chat_id = new_chat_id()
    assert (
        post_telegram(servers, telegram_update(chat_id, "/start"), TELEGRAM_SECRET) == 200
    )
    wait_for(lambda: telegram_sent(api, chat_id), lambda m: PRIVACY in m["text"])

    group_id = -new_chat_id()
    update = telegram_update(group_id, "hi", chat_type="group")
    assert post_telegram(servers, update, TELEGRAM_SECRET) == 200
    time.sleep(1)
    assert telegram_sent(api, group_id) == []
    # (A group's id is negative: not even an acceptable conversation id.)
    events = servers.tracker_of(f"telegram:{group_id}")["events"]
    assert not [e for e in events if e["event"] == "user"]


# --- Facebook Messenger ------------------------------------------------------------------


def messenger_payload(psid: str, text: str) -> bytes:
    now = int(time.time() * 1000)
    return json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "PAGE_ID",
                    "time": now,
                    "messaging": [
                        {
                            "sender": {"id": psid},
                            "recipient": {"id": "PAGE_ID"},
                            "timestamp": now,
                            "message": {"mid": "m_" + uuid.uuid4().hex, "text": text},
                        }
                    ],
                }
            ],
        }
    ).encode()


def fb_signature(body: bytes, secret: str = FB_APP_SECRET, algo: str = "sha256") -> str:
    return (
        f"{algo}=" + hmac.new(secret.encode(), body, getattr(hashlib, algo)).hexdigest()
    )


def post_messenger(servers: Servers, body: bytes, headers: Dict[str, str]) -> int:
    return requests.post(
        f"{servers.rasa_url}/webhooks/facebook/webhook",
        data=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=60,
    ).status_code


def messenger_sent(api: Receiver, psid: str) -> List[Dict[str, Any]]:
    """Send API message bodies for ``psid`` (sender actions left out)."""
    sent = []
    for post in api.posts:
        body = json.loads(post["body"] or b"{}")
        if body.get("recipient", {}).get("id") == psid and "message" in body:
            assert post["path"].startswith("/v2.12/me/messages?")
            assert "access_token=fb-page-token" in post["path"]
            sent.append(body["message"])
    return sent


def message_text(message: Dict[str, Any]) -> str:
    if "text" in message:
        return str(message["text"])
    return str(message.get("attachment", {}).get("payload", {}).get("text", ""))


def test_messenger_webhooks_without_a_valid_signature_never_reach_the_assistant(
    chat: Dict[str, Any]
) -> None:
    servers: Servers = chat["servers"]
    psid = str(new_chat_id())
    body = messenger_payload(psid, "hi")
    assert post_messenger(servers, body, {}) == 403
    wrong = fb_signature(body, secret="not-the-app-secret")
    assert post_messenger(servers, body, {"X-Hub-Signature-256": wrong}) == 403
    # Signed, then changed in transit.
    tampered = body.replace(b'"hi"', b'"hey"')
    assert (
        post_messenger(servers, tampered, {"X-Hub-Signature-256": fb_signature(body)})
        == 403
    )
    time.sleep(1)
    assert messenger_sent(chat["graph"], psid) == []
    assert user_texts(servers, psid, "facebook") == []


def test_messenger_greeting_has_the_privacy_note_and_the_options(
    chat: Dict[str, Any]
) -> None:
    servers: Servers = chat["servers"]
    api: Receiver = chat["graph"]
    psid = str(new_chat_id())
    body = messenger_payload(psid, "hi")
    assert (
        post_messenger(servers, body, {"X-Hub-Signature-256": fb_signature(body)}) == 200
    )
    greeting = wait_for(
        lambda: messenger_sent(api, psid), lambda m: PRIVACY in message_text(m)
    )
    # A button template, or quick replies when the text is over its 640 characters.
    options = (
        greeting.get("quick_replies") or greeting["attachment"]["payload"]["buttons"]
    )
    assert [o["title"] for o in options] == [
        "What is KAT?",
        "Side effects",
        "Talk to a person",
    ]
    assert options[1]["payload"] == "what are the side effects"
    assert all(len(message_text(m)) <= 2000 for m in messenger_sent(api, psid))

    # The older SHA1 X-Hub-Signature is accepted too; the quick reply's payload is used.
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "PAGE_ID",
                    "time": 1,
                    "messaging": [
                        {
                            "sender": {"id": psid},
                            "recipient": {"id": "PAGE_ID"},
                            "timestamp": 1,
                            "message": {
                                "mid": "m_2",
                                "text": "Side effects",
                                "quick_reply": {"payload": "what are the side effects"},
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()
    signature = fb_signature(body, algo="sha1")
    assert post_messenger(servers, body, {"X-Hub-Signature": signature}) == 200
    wait_for(
        lambda: messenger_sent(api, psid),
        lambda m: "Short-term side effects may include" in message_text(m),
    )
    assert user_texts(servers, psid, "facebook") == ["hi", "what are the side effects"]


def test_messenger_webhook_verification_needs_the_verify_token(
    chat: Dict[str, Any]
) -> None:
    url = f"{chat['servers'].rasa_url}/webhooks/facebook/webhook"
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    ok = requests.get(url, params={**params, "hub.verify_token": FB_VERIFY}, timeout=10)
    assert (ok.status_code, ok.text) == (200, "1158201444")
    bad = requests.get(url, params={**params, "hub.verify_token": "guess"}, timeout=10)
    assert bad.status_code == 403 and "1158201444" not in bad.text


# --- Slack -------------------------------------------------------------------------------


def slack_headers(
    body: bytes, secret: str = SLACK_SECRET, timestamp: Optional[int] = None
) -> Dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }


def post_slack(
    servers: Servers, body: bytes, headers: Dict[str, str]
) -> requests.Response:
    return requests.post(
        f"{servers.rasa_url}/webhooks/slack/webhook",
        data=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=60,
    )


def slack_event(user: str, channel: str, text: str) -> bytes:
    ts = f"{time.time():.6f}"
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": "T0CLINIC",
            "api_app_id": "A0KAT",
            "event": {
                "type": "message",
                "channel": channel,
                "user": user,
                "text": text,
                "ts": ts,
                "event_ts": ts,
                "channel_type": "im",
            },
            "type": "event_callback",
            "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": int(time.time()),
            "authorizations": [{"user_id": "U0KATBOT", "is_bot": True}],
        }
    ).encode()


def slack_sent(api: Receiver, channel: str) -> List[Dict[str, Any]]:
    sent = []
    for post in api.posts:
        if post["path"] != "/chat.postMessage":
            continue
        assert post["headers"].get("Authorization") == "Bearer xoxb-e2e"
        body = json.loads(post["body"])
        if body.get("channel") == channel:
            sent.append(body)
    return sent


def test_slack_url_verification_is_answered_only_when_signed(
    chat: Dict[str, Any]
) -> None:
    servers: Servers = chat["servers"]
    body = json.dumps(
        {
            "token": "legacy",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    ).encode()
    ok = post_slack(servers, body, slack_headers(body))
    assert ok.status_code == 200
    assert ok.json() == {
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    }
    unsigned = post_slack(servers, body, {})
    assert unsigned.status_code == 401 and "3eZbrw1a" not in unsigned.text


def test_slack_events_without_a_valid_signature_never_reach_the_assistant(
    chat: Dict[str, Any]
) -> None:
    servers: Servers = chat["servers"]
    user, channel = "U" + uuid.uuid4().hex[:8].upper(), "D" + uuid.uuid4().hex[:8].upper()
    body = slack_event(user, channel, "hi")
    assert post_slack(servers, body, {}).status_code == 401
    assert (
        post_slack(servers, body, slack_headers(body, secret="other")).status_code == 401
    )
    stale = slack_headers(body, timestamp=int(time.time()) - 600)
    assert post_slack(servers, body, stale).status_code == 401  # replayed
    time.sleep(1)
    assert slack_sent(chat["slack"], channel) == []
    assert user_texts(servers, user, "slack") == []


def test_slack_greeting_is_answered_in_the_channel_without_the_privacy_note(
    chat: Dict[str, Any]
) -> None:
    servers: Servers = chat["servers"]
    api: Receiver = chat["slack"]
    user, channel = "U" + uuid.uuid4().hex[:8].upper(), "D" + uuid.uuid4().hex[:8].upper()
    body = slack_event(user, channel, "hi")
    assert post_slack(servers, body, slack_headers(body)).status_code == 200
    greeting = wait_for(lambda: slack_sent(api, channel), lambda m: "blocks" in m)
    assert "assistant" in greeting["text"] and PRIVACY not in greeting["text"]
    buttons = greeting["blocks"][1]["elements"]
    assert [b["value"] for b in buttons] == [
        "what is ketamine-assisted therapy",
        "what are the side effects",
        "I'd like to talk to a person",
    ]
    assert user_texts(servers, user, "slack") == ["hi"]


def test_rest_greeting_has_no_privacy_note(chat: Dict[str, Any]) -> None:
    servers: Servers = chat["servers"]
    replies = servers.say(f"rest-{uuid.uuid4().hex}", "hi")
    text = "\n".join(r.get("text", "") for r in replies)
    assert "assistant" in text and PRIVACY not in text
