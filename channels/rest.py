"""Rasa's REST channel, hardened for whatever a client sends, and bound to its caller.

Rasa's ``RestInput`` trusts the request: a body that is not valid UTF-8 JSON is a bare
400, a missing ``sender`` files the message under the shared id ``default``, any
``sender`` addresses that conversation (whichever channel it belongs to), a ``message``
that is a number or a list crashes the NLU, the client may claim any ``input_channel``
and attach any ``metadata``, and when processing fails the patient gets an empty reply
while the message text goes to the error log. Here:

* the body is decoded leniently (invalid UTF-8 becomes U+FFFD, lone surrogates too),
  so binary junk still gets a calm reply instead of an error;
* ``sender`` is required and must be an acceptable id (400 with a JSON explanation
  otherwise); the conversation is ``rest:<sender>`` (kat/conversation_id.py), so a REST
  client can never reach a web chat, SMS or Telegram patient;
* with ``sender_secret`` set (production: ``KAT_REST_SENDER_SECRET``) the server issues
  senders: ``POST /webhooks/rest/session`` answers ``{"sender", "token"}`` (the token is
  ``HMAC-SHA256(secret, sender)``, as for the web chat, kat/web_session.py), and every
  message must carry its ``token`` (401 otherwise), so knowing a sender id is not
  enough to write into its conversation. Without it (``make run``, development) the
  client chooses its sender, inside the ``rest:`` namespace only;
* ``message`` is always text, capped, with client metadata dropped, and a calm reply
  when the assistant fails (channels/base.py);
* a staff reply (Rasa's ``trigger_intent`` with ``output_channel=rest``) is kept for
  its conversation and comes first in the reply to the patient's next message. It is
  kept in this process: run one Rasa server for REST patients, or use the web chat.

The name stays ``rest`` (webhook ``/webhooks/rest/webhook``), so clients don't change.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels import rest as rasa_rest
from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.base import PatientChannel
from kat.input_check import message_text
from kat.web_session import check_secret, is_valid, issue

logger = logging.getLogger(__name__)

# Staff replies kept for REST conversations that have not written since.
MAX_PENDING_CONVERSATIONS = 10_000
MAX_PENDING_PER_CONVERSATION = 20
# Bodies larger than this are decoded in a worker thread.
LARGE_BODY_BYTES = 64 * 1024


def parse_body(raw: bytes) -> Optional[Dict[str, Any]]:
    """The request body as a JSON object, decoding invalid UTF-8 leniently."""
    try:
        # strict=False: control characters inside strings are text, not an error.
        body = json.loads(raw.decode("utf-8", errors="replace") or "null", strict=False)
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


class PendingReplies(CollectingOutputChannel):
    """Collects what the assistant sends outside a patient's request (a staff reply),
    keeping it per conversation until the patient's next message collects it."""

    def __init__(self, pending: OrderedDict[str, List[Dict[str, Any]]]) -> None:
        super().__init__()
        self.pending = pending

    @classmethod
    def name(cls) -> Text:
        return "rest"

    async def _persist_message(self, message: Dict[Text, Any]) -> None:
        await super()._persist_message(message)
        recipient = str(message.get("recipient_id") or "")
        kept = self.pending.setdefault(recipient, [])
        kept.append(message)
        del kept[:-MAX_PENDING_PER_CONVERSATION]
        self.pending.move_to_end(recipient)
        while len(self.pending) > MAX_PENDING_CONVERSATIONS:
            self.pending.popitem(last=False)


class RestInput(PatientChannel, rasa_rest.RestInput):
    """The REST channel: lenient decoding, its own namespace, optionally issued senders."""

    def __init__(self, sender_secret: Optional[Text] = None) -> None:
        self.sender_secret = check_secret(sender_secret) if sender_secret else None
        self.pending: OrderedDict[str, List[Dict[str, Any]]] = OrderedDict()

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(sender_secret=credentials.get("sender_secret") or None)

    def get_output_channel(self) -> OutputChannel:
        # Used for replies that are not answers to a request (staff replies).
        return self.patient_output(PendingReplies(self.pending))

    def take_pending(self, sender: str) -> List[Dict[str, Any]]:
        return self.pending.pop(sender, [])

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[None]]
    ) -> Blueprint:
        webhook = Blueprint("kat_rest", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/session", methods=["POST"])
        async def new_session(_: Request) -> HTTPResponse:
            if not self.sender_secret:
                return response.json(
                    {"error": "this server lets the client choose its sender"},
                    status=404,
                )
            sender, token = issue(self.sender_secret)
            return response.json({"sender": sender, "token": token})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            raw = request.body or b""
            # A large body is decoded in a worker thread, as a long message is read
            # (channels/base.py): a megabyte of JSON is milliseconds of other
            # patients' time otherwise.
            body = (
                await asyncio.to_thread(parse_body, raw)
                if len(raw) > LARGE_BODY_BYTES
                else parse_body(raw)
            )
            if body is None:
                return response.json(
                    {"error": 'Send a JSON object: {"sender": "...", "message": "..."}'},
                    status=400,
                )
            sender = message_text(body.get("sender")).strip()
            if not sender:
                return response.json(
                    {"error": "A non-empty 'sender' (the conversation id) is required."},
                    status=400,
                )
            if self.conversation_id(sender) is None:
                return response.json(
                    {
                        "error": "'sender' may only contain letters, digits and "
                        "_ . : + @ = - (at most 100 characters)."
                    },
                    status=400,
                )
            if self.sender_secret and not is_valid(
                self.sender_secret, sender, body.get("token")
            ):
                return response.json(
                    {"error": "unknown sender: get one from POST /webhooks/rest/session"},
                    status=401,
                )
            collector = CollectingOutputChannel()
            handle = self.guard(on_new_message, client_address=request.ip)
            await handle(
                UserMessage(
                    message_text(body.get("message")),
                    collector,
                    sender,
                    input_channel=self.name(),
                )
            )
            return response.json(self.take_pending(sender) + collector.messages)

        return self.patient_blueprint(webhook)
