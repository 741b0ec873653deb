"""channels/twilio.py on its own: the signature check, what reaches the assistant, and
how replies are addressed (SMS, WhatsApp), numbered and split.

The channel's real blueprint runs on a Sanic server on a free port in the test's event
loop (``serve_channel``, also used by tests/test_slack_channel.py); the assistant behind
it is a recording coroutine. Only Twilio is faked: TWILIO_API_BASE points the channel's
own Twilio client at a local receiver (tests/http_receiver.py) that records the Messages
API calls that would have gone to Twilio. tests/e2e/test_twilio_channel.py does the same
against the real Rasa server.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import urllib.parse
import uuid
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional

import httpx
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from twilio.request_validator import RequestValidator

from channels.twilio import TwilioInput
from kat import rate_limit
from kat.sms_format import SMS_LIMIT
from tests.http_receiver import Receiver

ACCOUNT = "AC" + "0" * 32
TOKEN = "twilio-unit-auth-token"
NUMBER = "+15550000000"
PATIENT = "+14155550100"
BUTTONS = [
    {"title": "What is KAT?", "payload": "what is ketamine-assisted therapy"},
    {"title": "Side effects", "payload": "what are the side effects"},
]


@pytest.fixture(autouse=True)
def fresh_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limit, "_LIMITER", {})


@pytest.fixture()
def twilio_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """Stands in for Twilio's Messages API (answers as Twilio does: 201 and JSON)."""
    api = Receiver(reply_json={"sid": "SM" + "1" * 32, "status": "queued"})
    monkeypatch.setenv("TWILIO_API_BASE", api.url)
    yield api
    api.close()


class Assistant:
    """Records what reaches the assistant; answers with ``reply`` (and ``buttons``)."""

    def __init__(self, reply: str = "", buttons: Optional[List[Dict]] = None) -> None:
        self.seen: List[UserMessage] = []
        self.answered = 0
        self.reply = reply
        self.buttons = buttons

    async def __call__(self, message: UserMessage) -> None:
        self.seen.append(message)
        out = message.output_channel
        if self.buttons:
            await out.send_text_with_buttons(message.sender_id, self.reply, self.buttons)
        elif self.reply:
            await out.send_text_message(message.sender_id, self.reply)
        self.answered += 1

    def texts(self) -> List[str]:
        return [m.text or "" for m in self.seen]


async def eventually(condition: Callable[[], bool], timeout: float = 10) -> None:
    """For channels that hand the message on in a background task (Slack)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def serve_channel(channel: Any, assistant: Any) -> AsyncIterator[str]:
    """The channel's blueprint, mounted as Rasa mounts it (/webhooks/<name>/), on
    127.0.0.1:<free port>; yields the webhook URL."""
    Sanic.test_mode = True  # many apps in one process
    app = Sanic(f"channel_{uuid.uuid4().hex}")
    prefix = f"/webhooks/{channel.url_prefix()}"
    app.blueprint(channel.blueprint(assistant), url_prefix=prefix)
    # A socket of our own: Sanic reads port=0 as "8000" (``port or 8000``).
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(
        sock=sock, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    port = sock.getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}{prefix}/webhook"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


def channel(**extra: Any) -> TwilioInput:
    credentials = {"account_sid": ACCOUNT, "auth_token": TOKEN, "twilio_number": NUMBER}
    made = TwilioInput.from_credentials({**credentials, **extra})
    assert isinstance(made, TwilioInput)
    return made


def form(sender: str, body: str) -> Dict[str, str]:
    """Twilio's documented webhook fields for an incoming message."""
    return {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": ACCOUNT,
        "From": sender,
        "To": NUMBER,
        "Body": body,
        "NumMedia": "0",
    }


def signed(url: str, params: Dict[str, str], token: str = TOKEN) -> Dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


async def post(url: str, params: Dict[str, str], headers: Dict[str, str]) -> int:
    async with httpx.AsyncClient(timeout=30) as client:
        return (await client.post(url, data=params, headers=headers)).status_code


def sent(api: Receiver) -> List[Dict[str, str]]:
    """The Messages API calls Twilio would have received, as their form fields."""
    calls = []
    for item in api.posts:
        assert item["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
        fields = urllib.parse.parse_qs(item["body"].decode())
        calls.append({key: values[0] for key, values in fields.items()})
    return calls


async def test_a_signed_sms_reaches_the_assistant_and_is_answered_by_sms(
    twilio_api: Receiver,
) -> None:
    assistant = Assistant(reply="Hello from the clinic")
    async with serve_channel(channel(), assistant) as url:
        params = form(PATIENT, "hi there")
        assert await post(url, params, signed(url, params)) == 204
    [message] = assistant.seen
    assert (message.text, message.sender_id) == ("hi there", f"sms:{PATIENT}")
    assert message.input_channel == "twilio"
    assert set(message.metadata or {}) == {"kat_client"}  # Twilio's fields dropped
    [reply] = sent(twilio_api)
    assert (reply["To"], reply["From"], reply["Body"]) == (
        PATIENT,
        NUMBER,
        "Hello from the clinic",
    )


async def test_unsigned_or_wrongly_signed_requests_never_reach_the_assistant(
    twilio_api: Receiver,
) -> None:
    assistant = Assistant(reply="should not be sent")
    async with serve_channel(channel(), assistant) as url:
        params = form(PATIENT, "hi")
        tampered = {**params, "Body": "I need my dose doubled"}
        assert await post(url, params, {}) == 403
        assert await post(url, params, {"X-Twilio-Signature": ""}) == 403
        assert await post(url, params, signed(url, params, "another-token")) == 403
        assert await post(url, tampered, signed(url, params)) == 403  # body changed
        other_url = url.replace("/webhook", "/elsewhere")
        assert await post(url, params, signed(other_url, params)) == 403
    assert assistant.seen == [] and twilio_api.posts == []


async def test_behind_a_proxy_the_public_url_is_what_twilio_signs(
    twilio_api: Receiver,
) -> None:
    public = "https://clinic.example/webhooks/twilio/webhook"
    assistant = Assistant()
    async with serve_channel(channel(public_url=public), assistant) as url:
        params = form(PATIENT, "hi")
        assert await post(url, params, signed(url, params)) == 403
        assert await post(url, params, signed(public, params)) == 204
    assert assistant.texts() == ["hi"]


async def test_whatsapp_is_its_own_conversation_and_answered_from_whatsapp(
    twilio_api: Receiver,
) -> None:
    patient = f"whatsapp:{PATIENT}"
    assistant = Assistant(reply="Hello on WhatsApp")
    async with serve_channel(channel(), assistant) as url:
        params = {**form(patient, "hi"), "To": f"whatsapp:{NUMBER}"}
        assert await post(url, params, signed(url, params)) == 204
    [message] = assistant.seen
    assert message.sender_id == patient  # not sms:+1..., not the SMS conversation
    [reply] = sent(twilio_api)
    assert (reply["To"], reply["From"]) == (patient, f"whatsapp:{NUMBER}")


async def test_a_sender_that_is_no_acceptable_id_is_refused(twilio_api: Receiver) -> None:
    assistant = Assistant(reply="x")
    async with serve_channel(channel(), assistant) as url:
        for sender in ("../+14155550100", "sms:+14155550100/x", "+1 415 555"):
            params = form(sender, "hi")
            assert await post(url, params, signed(url, params)) == 204
    assert assistant.seen == [] and twilio_api.posts == []


async def test_numbered_options_and_a_number_picks_one_for_that_patient_only(
    twilio_api: Receiver,
) -> None:
    other = "+14155550199"
    assistant = Assistant(reply="How can I help?", buttons=BUTTONS)
    async with serve_channel(channel(), assistant) as url:
        params = form(PATIENT, "hi")
        assert await post(url, params, signed(url, params)) == 204
        assistant.buttons = None  # the next answers are plain text
        # The patient's "2" picks; another patient's does not; a second "2" does not
        # either, the options having been used.
        for sender in (PATIENT, other, PATIENT):
            params = form(sender, "2")
            assert await post(url, params, signed(url, params)) == 204
    assert assistant.texts() == ["hi", "what are the side effects", "2", "2"]
    # Rasa's Twilio output sends each paragraph as its own SMS: text, then options.
    text, options = [call["Body"] for call in sent(twilio_api)[:2]]
    assert text == "How can I help?"
    assert options == "1. What is KAT?\n2. Side effects\nReply with a number."


async def test_a_long_answer_is_split_below_twilios_limit(twilio_api: Receiver) -> None:
    answer = "Ketamine-assisted therapy is given at the clinic under supervision. " * 60
    async with serve_channel(channel(), Assistant(reply=answer)) as url:
        params = form(PATIENT, "tell me everything")
        assert await post(url, params, signed(url, params)) == 204
    bodies = [call["Body"] for call in sent(twilio_api)]
    assert len(bodies) > 1 and all(len(body) <= SMS_LIMIT for body in bodies)
    assert " ".join(bodies).split() == answer.split()  # nothing lost


async def test_staff_replies_use_the_patients_own_address(twilio_api: Receiver) -> None:
    """get_output_channel is what Rasa's HTTP API uses for the staff inbox's replies:
    it is addressed by conversation id, and reaches SMS and WhatsApp patients alike."""
    out = channel().get_output_channel()
    await out.send_text_message(f"sms:{PATIENT}", "A nurse here")
    await out.send_text_message(f"whatsapp:{PATIENT}", "A nurse here")
    assert [(c["To"], c["From"]) for c in sent(twilio_api)] == [
        (PATIENT, NUMBER),
        (f"whatsapp:{PATIENT}", f"whatsapp:{NUMBER}"),
    ]


async def test_blank_fields_twilio_signed_keep_the_request_genuine(
    twilio_api: Receiver,
) -> None:
    """Twilio signs every field it sends, blank ones too (FromCity=, ToZip=)."""
    assistant = Assistant(reply="Hello from the clinic")
    async with serve_channel(channel(), assistant) as url:
        params = {**form(PATIENT, "hi there"), "FromCity": "", "ToZip": ""}
        assert await post(url, params, signed(url, params)) == 204
    assert [m.text for m in assistant.seen] == ["hi there"]


async def test_a_picture_only_mms_reaches_the_assistant_as_an_empty_message(
    twilio_api: Receiver,
) -> None:
    """No text (Body=, NumMedia=1): the assistant answers it as any empty message
    (the safety gate's calm reply), instead of an HTTP 500 and silence."""
    assistant = Assistant(reply="I can only read text messages")
    async with serve_channel(channel(), assistant) as url:
        params = {**form(PATIENT, ""), "NumMedia": "1", "MediaUrl0": "https://x/1.jpg"}
        assert await post(url, params, signed(url, params)) == 204
    assert [m.text for m in assistant.seen] == [""]
    assert [r["Body"] for r in sent(twilio_api)] == ["I can only read text messages"]
