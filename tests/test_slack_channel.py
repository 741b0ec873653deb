"""channels/slack.py on its own: the signature check (401), the URL verification, which
events reach the assistant, Slack's retries, and where replies are posted.

The channel's real blueprint runs on a local Sanic server (serve_channel from
tests/test_twilio_channel_unit.py); the assistant behind it is a recording coroutine.
Only Slack is faked: SLACK_API_BASE points the channel's own Slack client (slack_sdk) at
a local receiver (tests/http_receiver.py) recording what would have been posted to
Slack's Web API. Payloads have the shapes of Slack's Events API and interactivity
requests, signed as Slack signs them. tests/e2e/test_messaging_channels.py does the
same against the real Rasa server.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import urllib.parse
import uuid
from typing import Any, Dict, Iterator, List, Optional

import httpx
import pytest

from channels.slack import SlackInput
from kat import rate_limit
from tests.http_receiver import Receiver
from tests.test_twilio_channel_unit import Assistant, eventually, serve_channel

SECRET = "slack-unit-signing-secret"
BOT_TOKEN = "xoxb-unit"
BOT_USER = "U0KATBOT"
CLINIC_CHANNEL = "C0CLINIC"
# Long enough for a background task that was going to run to have run.
SETTLE_SECONDS = 0.5


@pytest.fixture(autouse=True)
def fresh_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limit, "_LIMITER", {})


@pytest.fixture()
def slack_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """Stands in for Slack's Web API (answers chat.postMessage as Slack does)."""
    api = Receiver(reply_json={"ok": True, "channel": "D1", "ts": "1.1"}, ok_status=200)
    monkeypatch.setenv("SLACK_API_BASE", api.url)
    yield api
    api.close()


def channel(slack_channel: Optional[str] = CLINIC_CHANNEL) -> SlackInput:
    credentials = {"slack_token": BOT_TOKEN, "slack_signing_secret": SECRET}
    if slack_channel:
        credentials["slack_channel"] = slack_channel
    made = SlackInput.from_credentials(credentials)
    assert isinstance(made, SlackInput)
    return made


def event(user: Optional[str], channel_id: str, text: str, **extra: Any) -> bytes:
    """An Events API ``event_callback`` carrying a message event."""
    ts = f"{time.time():.6f}"
    body: Dict[str, Any] = {
        "type": "message",
        "channel": channel_id,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "im",
        **extra,
    }
    if user is not None:
        body["user"] = user
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": "T0CLINIC",
            "api_app_id": "A0KAT",
            "event": body,
            "type": "event_callback",
            "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": int(time.time()),
            "authorizations": [{"user_id": BOT_USER, "is_bot": True}],
        }
    ).encode()


def signature(body: bytes, secret: str = SECRET, ts: Optional[int] = None) -> Dict:
    stamp = str(int(time.time()) if ts is None else ts)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }


async def post(
    url: str,
    body: bytes,
    headers: Dict[str, str],
    content_type: str = "application/json",
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(
            url, content=body, headers={"Content-Type": content_type, **headers}
        )


def posted(api: Receiver) -> List[Dict[str, Any]]:
    """The chat.postMessage calls Slack would have received."""
    calls = []
    for item in api.posts:
        assert item["path"] == "/chat.postMessage"
        assert item["headers"].get("Authorization") == f"Bearer {BOT_TOKEN}"
        calls.append(json.loads(item["body"]))
    return calls


def new_ids() -> tuple[str, str]:
    return "U" + uuid.uuid4().hex[:8].upper(), "D" + uuid.uuid4().hex[:8].upper()


async def test_a_signed_direct_message_reaches_the_assistant_and_is_answered_there(
    slack_api: Receiver,
) -> None:
    user, dm = new_ids()
    assistant = Assistant(reply="Hello from the clinic")
    async with serve_channel(channel(), assistant) as url:
        body = event(user, dm, "what are the side effects")
        reply = await post(url, body, signature(body))
        assert reply.status_code == 200
        await eventually(lambda: assistant.answered == 1)
    [message] = assistant.seen
    assert (message.text, message.sender_id) == (
        "what are the side effects",
        f"slack:{user}",
    )
    assert set(message.metadata or {}) == {"kat_client"}  # Slack's metadata dropped
    [sent] = posted(slack_api)
    assert (sent["channel"], sent["text"]) == (dm, "Hello from the clinic")


async def test_requests_without_a_valid_signature_get_401_and_reach_nobody(
    slack_api: Receiver,
) -> None:
    user, dm = new_ids()
    assistant = Assistant(reply="should not be sent")
    now = int(time.time())
    body = event(user, dm, "hi")
    other = event(user, dm, "I need my dose doubled")
    async with serve_channel(channel(), assistant) as url:
        for headers in (
            {},
            {"X-Slack-Signature": signature(body)["X-Slack-Signature"]},  # no stamp
            signature(body, secret="not-the-secret"),
            signature(other),  # signed another body
            signature(body, ts=now - 6 * 60),  # replayed: older than five minutes
            signature(body, ts=now + 6 * 60),
        ):
            reply = await post(url, body, headers)
            assert reply.status_code == 401, headers
        await asyncio.sleep(SETTLE_SECONDS)
    assert assistant.seen == [] and slack_api.posts == []


async def test_the_url_verification_is_answered_as_slack_documents_only_when_signed(
    slack_api: Receiver,
) -> None:
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = json.dumps(
        {"token": "legacy", "challenge": challenge, "type": "url_verification"}
    ).encode()
    assistant = Assistant()
    async with serve_channel(channel(), assistant) as url:
        signed = await post(url, body, signature(body))
        unsigned = await post(url, body, {})
    assert signed.status_code == 200 and signed.json() == {"challenge": challenge}
    assert unsigned.status_code == 401 and challenge not in unsigned.text
    assert assistant.seen == []


async def test_the_bots_own_messages_and_events_that_are_no_message_are_ignored(
    slack_api: Receiver,
) -> None:
    user, dm = new_ids()
    assistant = Assistant(reply="x")
    ignored = [
        event(BOT_USER, dm, "Hello from the clinic", bot_id="B0KAT"),  # our own reply
        event(user, dm, "", subtype="message_changed"),  # an edit: no text of its own
        event(user, "C0ELSEWHERE", "hi", channel_type="channel"),  # not our channel
    ]
    async with serve_channel(channel(), assistant) as url:
        for body in ignored:
            reply = await post(url, body, signature(body))
            assert reply.status_code == 200
        await asyncio.sleep(SETTLE_SECONDS)
    assert assistant.seen == [] and slack_api.posts == []


async def test_a_mention_and_a_message_in_the_clinics_channel_reach_the_assistant(
    slack_api: Receiver,
) -> None:
    user, _ = new_ids()
    mention = event(
        user,
        "C0ELSEWHERE",
        f"<@{BOT_USER}> how do I book",
        type="app_mention",
        channel_type="channel",
    )
    in_channel = event(user, CLINIC_CHANNEL, "opening hours?", channel_type="channel")
    assistant = Assistant()
    async with serve_channel(channel(), assistant) as url:
        for count, body in enumerate((mention, in_channel), start=1):
            assert (await post(url, body, signature(body))).status_code == 200
            await eventually(lambda count=count: assistant.answered == count)  # type: ignore[misc]
    # The bot's own name is taken out of the text the assistant reads.
    assert assistant.texts() == ["how do I book", "opening hours?"]
    assert {m.sender_id for m in assistant.seen} == {f"slack:{user}"}


async def test_a_retry_after_a_timeout_is_acknowledged_not_processed_again(
    slack_api: Receiver,
) -> None:
    user, dm = new_ids()
    assistant = Assistant()
    body = event(user, dm, "hi")
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    async with serve_channel(channel(), assistant) as url:
        first = await post(url, body, signature(body))
        again = await post(url, body, {**signature(body), **retry})
        await asyncio.sleep(SETTLE_SECONDS)
    assert first.status_code == 200
    assert again.status_code == 201 and again.headers["X-Slack-No-Retry"] == "1"
    assert assistant.texts() == ["hi"]


async def test_an_event_without_an_acceptable_user_id_is_refused(
    slack_api: Receiver,
) -> None:
    _, dm = new_ids()
    assistant = Assistant(reply="x")
    async with serve_channel(channel(), assistant) as url:
        for user in (None, "../U123", "U1 U2"):
            body = event(user, dm, "hi")
            assert (await post(url, body, signature(body))).status_code == 200
        await asyncio.sleep(SETTLE_SECONDS)
    assert assistant.seen == [] and slack_api.posts == []


async def test_a_button_click_reaches_the_assistant_as_the_buttons_value(
    slack_api: Receiver,
) -> None:
    user, dm = new_ids()
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "channel": {"id": dm},
        "message": {"ts": "1700000000.000100"},
        "actions": [{"type": "button", "value": "what are the side effects"}],
    }
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    form = "application/x-www-form-urlencoded"
    assistant = Assistant(reply="Side effects may include")
    async with serve_channel(channel(), assistant) as url:
        assert (await post(url, body, {}, form)).status_code == 401
        assert (await post(url, body, signature(body), form)).status_code == 200
        await eventually(lambda: assistant.answered == 1)
    [message] = assistant.seen
    assert (message.text, message.sender_id) == (
        "what are the side effects",
        f"slack:{user}",
    )
    assert [m["channel"] for m in posted(slack_api)] == [dm]


async def test_when_the_assistant_fails_the_patient_gets_the_calm_reply(
    slack_api: Receiver,
) -> None:
    user, dm = new_ids()

    async def failing(message: Any) -> None:
        raise RuntimeError("the assistant broke")

    async with serve_channel(channel(), failing) as url:
        body = event(user, dm, "hi")
        assert (await post(url, body, signature(body))).status_code == 200
        await eventually(lambda: len(slack_api.posts) == 1)
    [sent] = posted(slack_api)
    assert sent["channel"] == dm
    assert "911" in sent["text"] and "988" in sent["text"]


async def test_a_staff_reply_without_a_clinic_channel_goes_to_the_patient(
    slack_api: Receiver,
) -> None:
    """get_output_channel is what Rasa's HTTP API uses for the staff inbox's replies,
    addressed by conversation id."""
    user, _ = new_ids()
    out = channel(slack_channel=None).get_output_channel()
    await out.send_text_message(f"slack:{user}", "A nurse here")
    [sent] = posted(slack_api)
    assert (sent["channel"], sent["text"]) == (user, "A nurse here")


async def test_a_staff_reply_goes_to_the_patient_not_the_clinics_channel(
    slack_api: Receiver,
) -> None:
    """With slack_channel configured, Rasa's own output posts every reply there: a
    clinician's reply to one patient would land in the clinic's shared channel."""
    user, _ = new_ids()
    out = channel(slack_channel=CLINIC_CHANNEL).get_output_channel()
    await out.send_text_message(f"slack:{user}", "A nurse here about your question")
    [sent] = posted(slack_api)
    assert sent["channel"] == user != CLINIC_CHANNEL
