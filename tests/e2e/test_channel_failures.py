"""When the assistant fails, every provider channel sends the patient the calm reply.

channels/base.py (``PatientChannel.guard``) promises that a message whose handling
raises gets ``utter_channel_failed`` (how to reach the clinic, 911/988) and that only the
error type is logged. Here that is checked end to end, for Twilio SMS and WhatsApp,
Telegram, Messenger, Slack and REST, against the real action server and Rasa server:
the calm reply, and nothing else, reaches the provider's API (for REST: the HTTP
answer); the webhook answers the provider as usual (no retry of the failed message);
the Rasa log has ``<channel> message failed: <ErrorType>`` and neither the patient's
text nor their ids.

What is faked: only the providers' outbound APIs. TWILIO_API_BASE, TELEGRAM_API_BASE,
FACEBOOK_API_BASE and SLACK_API_BASE point the channels' own clients at local HTTP
receivers (tests/http_receiver.py) that record what would have reached Twilio, Telegram,
Facebook's Graph API and Slack. Webhooks are signed as each provider signs them
(the payload builders of test_messaging_channels.py and test_twilio_channel.py).

How the failure is injected: the Rasa server runs the production profile
(endpoints.production.yml unchanged: PostgreSQL tracker in a fresh database, RabbitMQ
events on a queue of its own) with its Redis — conversation locks and the SMS options —
on a redis-server this module starts on a free port. Once Rasa is up and has answered
one message, that Redis is terminated: Redis going away, as in production. Every later
message fails inside Rasa (the lock store's ticket: ``LockError``; on Twilio the SMS
options' lookup first: ``ConnectionError``); nothing in the project is patched.

A failing tracker store would not do: Rasa wraps it in ``FailSafeTrackerStore``, which
logs the error and carries on with an in-memory tracker, so with the database dropped
(``DROP DATABASE ... WITH (FORCE)``) patients get ordinary replies and no handler ever
raises.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import pytest
import requests
from twilio.request_validator import RequestValidator

from kat.channel_replies import failure_reply
from tests import services
from tests.e2e.harness import MODEL, Servers, free_port, texts
from tests.e2e.test_faults_production import _delete_queue
from tests.e2e.test_messaging_channels import (
    FB_APP_SECRET,
    FB_VERIFY,
    SLACK_SECRET,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    fb_signature,
    message_text,
    messenger_payload,
    messenger_sent,
    new_chat_id,
    post_messenger,
    post_slack,
    post_telegram,
    slack_event,
    slack_headers,
    slack_sent,
    telegram_sent,
    telegram_update,
)
from tests.e2e.test_twilio_channel import ACCOUNT, form, sent_fields, webhook_url
from tests.e2e.test_twilio_channel import TOKEN as TWILIO_TOKEN
from tests.http_receiver import Receiver

pytestmark = pytest.mark.e2e

TWILIO_NUMBER = "+15550000000"
CREDENTIALS = (
    # The project's REST channel (``rest:`` alone would be Rasa's own).
    "channels.rest.RestInput:\n"
    "channels.twilio.TwilioInput:\n"
    f'  account_sid: "{ACCOUNT}"\n'
    f'  auth_token: "{TWILIO_TOKEN}"\n'
    f'  twilio_number: "{TWILIO_NUMBER}"\n'
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
# How long a reply may take to reach a provider's API (they take well under a second).
REPLY_SECONDS = 10


@dataclass
class Failing:
    """The servers, with their Redis gone, and the providers' fake APIs."""

    servers: Servers
    apis: Dict[str, Receiver]

    def rasa_log(self) -> str:
        return self.servers.logs["rasa"].read_text(errors="replace")


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A redis-server of this module's own (no data on disk), and its port."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no"],
        stdout=open(workdir / "redis.log", "wb"),  # noqa: SIM115 - closed with it
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while not services.reachable("127.0.0.1", port, timeout=0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"redis-server did not start on port {port}")
        time.sleep(0.1)
    return proc, port


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Failing]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}; run `make train`")
    services.require("postgres", "rabbitmq")
    workdir = Path(tmp_path_factory.mktemp("channel_failures"))
    apis = {
        "twilio": Receiver(reply_json={"sid": "SM" + "1" * 32, "status": "queued"}),
        "telegram": Receiver(
            reply_json={
                "ok": True,
                "result": {
                    "message_id": 1,
                    "date": 1700000000,
                    "chat": {"id": 1, "type": "private"},
                    "text": "sent",
                },
            }
        ),
        "graph": Receiver(reply_json={"recipient_id": "1", "message_id": "m_1"}),
        "slack": Receiver(
            reply_json={"ok": True, "channel": "D1", "ts": "1700000000.000100"},
            ok_status=200,
        ),
    }
    credentials = workdir / "credentials.yml"
    credentials.write_text(CREDENTIALS)
    run_id = uuid.uuid4().hex[:10]
    env: Dict[str, str] = {}
    redis: Optional[subprocess.Popen[bytes]] = None
    try:
        redis, redis_port = start_redis(workdir)
        own_redis = f"redis://127.0.0.1:{redis_port}/0"
        with services.fresh_database("kat_e2e") as database:
            env = services.production_env(database, run_id)
            env.update(
                {
                    # Every use of Redis (locks, SMS options, web chat) on our own.
                    "KAT_REDIS_HOST": "127.0.0.1",
                    "KAT_REDIS_PORT": str(redis_port),
                    "KAT_REDIS_URL": own_redis,
                    "KAT_WEB_REDIS_URL": own_redis,
                    "TWILIO_API_BASE": apis["twilio"].url,
                    "TELEGRAM_API_BASE": apis["telegram"].url,
                    "FACEBOOK_API_BASE": apis["graph"].url,
                    "SLACK_API_BASE": apis["slack"].url,
                    # The default level, whatever the calling shell has set.
                    "LOG_LEVEL": "INFO",
                }
            )
            servers = Servers(
                workdir=workdir, credentials=str(credentials), extra_env=env
            )
            assert servers.endpoints == "endpoints.production.yml"
            try:
                servers.start()
                # Working before the failure: an ordinary answer, not the calm reply.
                answer = texts(servers.say(f"before-{run_id}", "hi"))
                assert "assistant" in answer and failure_reply() not in answer
                stop(redis)
                assert not services.reachable("127.0.0.1", redis_port)
                yield Failing(servers, apis)
            except Exception:
                print(
                    servers.log_tail("actions"), servers.log_tail("rasa"), sep="\n---\n"
                )
                raise
            finally:
                servers.stop_all()
    finally:
        if redis is not None:
            stop(redis)
        for api in apis.values():
            api.close()
        if env:
            asyncio.run(_delete_queue(env["KAT_RABBITMQ_QUEUE"]))


# --- one patient message per channel, and what reached the provider's API ---------------


@dataclass
class Sent:
    """What a channel did with one patient message."""

    channel: str  # the channel's name, as in its log lines
    secrets: List[str]  # the patient's text and provider ids: never in the log
    replies: Callable[[], List[str]]  # the texts sent to that patient so far
    status: int  # the webhook's answer to the provider
    expected_status: int  # what it answers when all is well (no provider retry)
    check: Callable[[], None] = lambda: None  # anything else about what was sent


def unique_text() -> str:
    return f"my private words {uuid.uuid4().hex[:12]}"


def via_rest(failing: Failing) -> Sent:
    sender, text = f"pat-{uuid.uuid4().hex[:12]}", unique_text()
    reply = requests.post(
        f"{failing.servers.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=60,
    )
    # The HTTP answer is the REST channel's only way to the patient.
    answer = reply.json() if reply.ok else []
    return Sent(
        "rest",
        [text, sender],
        lambda: [m.get("text", "") for m in answer],
        reply.status_code,
        200,
    )


def via_twilio(failing: Failing, patient: str, extra: Dict[str, str]) -> Sent:
    text = unique_text()
    params = {**form(patient, text), **extra}
    url = webhook_url(failing.servers)
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    reply = requests.post(
        url, data=params, headers={"X-Twilio-Signature": signature}, timeout=60
    )
    api = failing.apis["twilio"]

    def answered_from_the_clinic_number() -> None:
        senders = {m["From"] for m in sent_fields(api, patient)}
        number = params["To"]  # whatsapp:+1... on WhatsApp
        assert senders == {number}, f"sent from {senders}, not from {number}"

    return Sent(
        "twilio",
        [text, patient.removeprefix("whatsapp:")],
        lambda: [m["Body"] for m in sent_fields(api, patient)],
        reply.status_code,
        204,
        answered_from_the_clinic_number,
    )


def via_sms(failing: Failing) -> Sent:
    return via_twilio(failing, "+1555" + str(uuid.uuid4().int)[:7], {})


def via_whatsapp(failing: Failing) -> Sent:
    # Twilio's WhatsApp webhook: the SMS form with whatsapp: addresses.
    patient = "whatsapp:+1555" + str(uuid.uuid4().int)[:7]
    extra = {
        "To": f"whatsapp:{TWILIO_NUMBER}",
        "ProfileName": "Pat",
        "WaId": patient.removeprefix("whatsapp:+"),
        "SmsMessageSid": "SM" + uuid.uuid4().hex,
    }
    return via_twilio(failing, patient, extra)


def via_telegram(failing: Failing) -> Sent:
    chat_id, text = new_chat_id(), unique_text()
    status = post_telegram(
        failing.servers, telegram_update(chat_id, text), TELEGRAM_SECRET
    )
    return Sent(
        "telegram",
        [text, str(chat_id)],
        lambda: [m["text"] for m in telegram_sent(failing.apis["telegram"], chat_id)],
        status,
        200,
    )


def via_messenger(failing: Failing) -> Sent:
    psid, text = str(new_chat_id()), unique_text()
    body = messenger_payload(psid, text)
    status = post_messenger(
        failing.servers, body, {"X-Hub-Signature-256": fb_signature(body)}
    )
    return Sent(
        "facebook",
        [text, psid],
        lambda: [message_text(m) for m in messenger_sent(failing.apis["graph"], psid)],
        status,
        200,
    )


def via_slack(failing: Failing) -> Sent:
    user = "U" + uuid.uuid4().hex[:8].upper()
    channel = "D" + uuid.uuid4().hex[:8].upper()
    text = unique_text()
    body = slack_event(user, channel, text)
    reply = post_slack(failing.servers, body, slack_headers(body))
    return Sent(
        "slack",
        [text, user, channel],
        lambda: [m.get("text", "") for m in slack_sent(failing.apis["slack"], channel)],
        reply.status_code,
        200,
    )


CHANNELS: Dict[str, Callable[[Failing], Sent]] = {
    "twilio_sms": via_sms,
    "whatsapp": via_whatsapp,
    "telegram": via_telegram,
    "messenger": via_messenger,
    "slack": via_slack,
    "rest": via_rest,
}


def failure_lines(log: str) -> List[str]:
    """The guard's failure lines (channels/base.py), logger and message only."""
    return re.findall(r"channels\.base +- (\w+ message failed: .*)$", log, flags=re.M)


@pytest.mark.parametrize("case", list(CHANNELS))
def test_a_failed_message_gets_the_calm_reply_and_the_log_only_the_error_type(
    failing: Failing, case: str
) -> None:
    calm = failure_reply()
    logged_before = len(failure_lines(failing.rasa_log()))
    sent = CHANNELS[case](failing)

    deadline = time.monotonic() + REPLY_SECONDS
    while calm not in sent.replies() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # anything sent after the calm reply would show now
    log = failing.rasa_log()
    assert sent.replies() == [calm], (
        f"{case}: the patient should get the calm reply and nothing else; got "
        f"{sent.replies()} (webhook answered {sent.status})\n"
        f"--- Rasa log ---\n{failing.servers.log_tail('rasa', 12)}"
    )
    sent.check()
    assert sent.status == sent.expected_status
    # Redis gone: the SMS options (looked up first, inside the guard) fail with the
    # client's ConnectionError; elsewhere Rasa's lock store raises LockError.
    error = "ConnectionError" if sent.channel == "twilio" else "LockError"
    assert failure_lines(log)[logged_before:] == [
        f"{sent.channel} message failed: {error}"
    ]
    leaked = [secret for secret in sent.secrets if secret in log]
    assert not leaked, f"{case}: in the Rasa log: {leaked}"
