"""Rasa's REST channel, hardened for whatever a client sends.

Rasa's ``RestInput`` trusts the request: a body that is not valid UTF-8 JSON is a bare
400, a missing ``sender`` files the message under the shared id ``default``, a
``message`` that is a number or a list crashes the NLU, the client may claim any
``input_channel`` and attach any ``metadata``, and when processing fails the patient
gets an empty reply while the message text goes to the error log. Here:

* the body is decoded leniently (invalid UTF-8 becomes U+FFFD, lone surrogates too),
  so binary junk still gets a calm reply instead of an error;
* ``sender`` is required (400 with a JSON explanation otherwise) and kept short;
* ``message`` is always text (``null`` -> "", numbers -> their digits, anything else ->
  "");
* the channel is always ``rest`` and client metadata is dropped;
* if the assistant fails, the patient gets a calm reply with the emergency numbers and
  how to reach a person, and only the error type is logged, never the text.

The name stays ``rest`` (webhook ``/webhooks/rest/webhook``), so clients don't change.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from kat.clinic_profile import failure_reply
from kat.input_check import message_text

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128


def parse_body(raw: bytes) -> Optional[Dict[str, Any]]:
    """The request body as a JSON object, decoding invalid UTF-8 leniently."""
    try:
        # strict=False: control characters inside strings are text, not an error.
        body = json.loads(raw.decode("utf-8", errors="replace") or "null", strict=False)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class SafeRestInput(RestInput):
    """The REST channel with lenient decoding, a required sender and a calm failure."""

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[None]]
    ) -> Blueprint:
        webhook = Blueprint("kat_safe_rest", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = parse_body(request.body or b"")
            if body is None:
                return response.json(
                    {"error": 'Send a JSON object: {"sender": "...", "message": "..."}'},
                    status=400,
                )
            sender = message_text(body.get("sender")).strip()[:MAX_SENDER_CHARS]
            if not sender:
                return response.json(
                    {"error": "A non-empty 'sender' (the conversation id) is required."},
                    status=400,
                )
            text = message_text(body.get("message"))
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        text, collector, sender, input_channel=self.name(), metadata=None
                    )
                )
            except Exception as exc:  # noqa: BLE001 - the patient gets a calm reply
                logger.error("REST message failed: %s", type(exc).__name__)
                return response.json([{"recipient_id": sender, "text": failure_reply()}])
            return response.json(collector.messages)

        return webhook
