"""Twilio (SMS) channel against the real Rasa server: signatures, numbered options.

Payloads have the shape of Twilio's documented webhook (form-encoded From/To/Body...).
Only the provider's outbound API is replaced: TWILIO_API_BASE points Rasa's Twilio client
at a local HTTP server here, which records what would have been sent to Twilio.
"""

from __future__ import annotations

import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.e2e.harness import Servers
from tests.http_receiver import Receiver

pytestmark = pytest.mark.e2e

ACCOUNT = "AC" + "0" * 32
TOKEN = "twilio-test-auth-token"


@pytest.fixture(scope="module")
def sms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    workdir = Path(tmp_path_factory.mktemp("twilio"))
    twilio_api = Receiver(reply_json={"sid": "SM" + "1" * 32, "status": "queued"})
    credentials = workdir / "credentials.yml"
    credentials.write_text(
        "channels.rest.RestInput:\n"
        "channels.twilio.TwilioInput:\n"
        f'  account_sid: "{ACCOUNT}"\n'
        f'  auth_token: "{TOKEN}"\n'
        '  twilio_number: "+15550000000"\n'
    )
    servers = Servers(
        workdir=workdir,
        credentials=str(credentials),
        extra_env={"TWILIO_API_BASE": twilio_api.url},
    )
    try:
        servers.start()
        yield {"servers": servers, "api": twilio_api}
    finally:
        servers.stop_all()
        twilio_api.close()


def webhook_url(servers: Servers) -> str:
    return f"{servers.rasa_url}/webhooks/twilio/webhook"


def form(phone: str, body: str) -> Dict[str, str]:
    return {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": ACCOUNT,
        "From": phone,
        "To": "+15550000000",
        "Body": body,
        "NumMedia": "0",
    }


def post(servers: Servers, params: Dict[str, str], signature: str | None) -> int:
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    reply = requests.post(webhook_url(servers), data=params, headers=headers, timeout=60)
    return reply.status_code


def sent_bodies(api: Receiver, phone: str) -> List[str]:
    bodies = []
    for item in api.posts:
        fields = urllib.parse.parse_qs(item["body"].decode())
        if fields.get("To") == [phone]:
            bodies.append(fields["Body"][0])
    return bodies


def wait_for(api: Receiver, phone: str, needle: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for body in sent_bodies(api, phone):
            if needle in body:
                return body
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} not sent; sent {sent_bodies(api, phone)}")


def test_unsigned_and_wrongly_signed_requests_never_reach_the_assistant(sms) -> None:  # type: ignore[no-untyped-def]
    servers: Servers = sms["servers"]
    phone = "+1555" + str(uuid.uuid4().int)[:7]
    params = form(phone, "hi")
    assert post(servers, params, None) == 403
    assert post(servers, params, "bm90IGEgc2lnbmF0dXJl") == 403
    other = RequestValidator("some-other-token").compute_signature(
        webhook_url(servers), params
    )
    assert post(servers, params, other) == 403
    time.sleep(1)
    assert sent_bodies(sms["api"], phone) == []
    events = servers.tracker(phone, "twilio")["events"]
    assert not [e for e in events if e["event"] == "user"]


def test_signed_sms_gets_numbered_options_and_a_number_picks_one(sms) -> None:  # type: ignore[no-untyped-def]
    servers: Servers = sms["servers"]
    phone = "+1555" + str(uuid.uuid4().int)[:7]
    validator = RequestValidator(TOKEN)
    params = form(phone, "hello")
    assert (
        post(servers, params, validator.compute_signature(webhook_url(servers), params))
        == 204
    )
    wait_for(sms["api"], phone, "automated assistant")
    options = wait_for(sms["api"], phone, "Reply with a number.")
    assert "1. What is KAT?" in options and "3. Talk to a person" in options
    params = form(phone, "2")
    assert (
        post(servers, params, validator.compute_signature(webhook_url(servers), params))
        == 204
    )
    wait_for(sms["api"], phone, "Short-term side effects may include")
    assert all(len(body) <= 1600 for body in sent_bodies(sms["api"], phone))


PRIVACY = "not a private place for health details"


def sent_fields(api: Receiver, to: str) -> List[Dict[str, str]]:
    """The Messages API calls (form fields) addressed to ``to``."""
    calls = []
    for item in api.posts:
        fields = {
            k: v[0] for k, v in urllib.parse.parse_qs(item["body"].decode()).items()
        }
        if fields.get("To") == to:
            calls.append(fields)
    return calls


def test_sms_greeting_carries_the_privacy_note(sms) -> None:  # type: ignore[no-untyped-def]
    servers: Servers = sms["servers"]
    phone = "+1555" + str(uuid.uuid4().int)[:7]
    params = form(phone, "hi")
    signature = RequestValidator(TOKEN).compute_signature(webhook_url(servers), params)
    assert post(servers, params, signature) == 204
    note = wait_for(sms["api"], phone, PRIVACY)
    assert "secure web chat" in note.lower()


def test_whatsapp_is_answered_on_whatsapp(sms) -> None:  # type: ignore[no-untyped-def]
    servers: Servers = sms["servers"]
    patient = "whatsapp:+1555" + str(uuid.uuid4().int)[:7]
    # Twilio's WhatsApp webhook: the same form, with whatsapp: addresses.
    params = {
        **form(patient, "hi"),
        "To": "whatsapp:+15550000000",
        "ProfileName": "Pat",
        "WaId": patient.removeprefix("whatsapp:+"),
        "SmsMessageSid": "SM" + uuid.uuid4().hex,
    }
    signature = RequestValidator(TOKEN).compute_signature(webhook_url(servers), params)
    assert post(servers, params, signature) == 204
    wait_for(sms["api"], patient, PRIVACY)
    sent = sent_fields(sms["api"], patient)
    assert sent and {m["From"] for m in sent} == {"whatsapp:+15550000000"}
    assert servers.tracker(patient, "twilio")["latest_message"]["text"] == "hi"
