"""Facebook Messenger with the webhook signature checked, replies that fit Messenger.

Rasa's FacebookInput answers 200 "not validated" to a badly signed webhook and compares
signatures with ``==``. This channel answers 403 to a POST without a valid signature
(``X-Hub-Signature-256``, HMAC-SHA256 of the body with the app secret, or the older
``X-Hub-Signature`` with SHA1), compared with ``hmac.compare_digest``, before anything
reaches the assistant. Every message of a batched webhook is handled (Rasa's stops
after the first one).

Replies: long answers are split under Messenger's 2,000-character limit; up to three
buttons with a short text become a button template as in Rasa, more buttons (which
Rasa drops) become quick replies. The Send API is called in a worker thread with a
timeout, so a slow Graph API does not block the Rasa server.

``FACEBOOK_API_BASE`` replaces ``https://graph.facebook.com`` — only for tests, which
capture replies on a local server instead of calling Facebook.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text

from fbmessenger import MessengerClient
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput, Messenger, MessengerBot
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.base import PatientChannel
from kat.sms_format import split_message

logger = logging.getLogger(__name__)

MESSENGER_LIMIT = 1900  # below Messenger's 2,000 characters per text message
BUTTON_TEMPLATE_TEXT_LIMIT = 640
MAX_TEMPLATE_BUTTONS = 3
MAX_QUICK_REPLIES = 13
SEND_TIMEOUT = 15


def client(page_access_token: Text) -> MessengerClient:
    messenger_client = MessengerClient(page_access_token)
    base = os.environ.get("FACEBOOK_API_BASE")
    if base:
        messenger_client.graph_url = f"{base.rstrip('/')}/v{messenger_client.api_version}"
    return messenger_client


def signature_valid(app_secret: Text, body: bytes, headers: Any) -> bool:
    for header, digest in (
        ("X-Hub-Signature-256", hashlib.sha256),
        ("X-Hub-Signature", hashlib.sha1),
    ):
        given = headers.get(header)
        if given:
            expected = hmac.new(app_secret.encode(), body, digest).hexdigest()
            prefix = "sha256=" if digest is hashlib.sha256 else "sha1="
            return hmac.compare_digest(given.encode(), (prefix + expected).encode())
    return False


class ClinicMessengerBot(MessengerBot):
    """Messenger output: split long text, quick replies for many buttons, no blocking."""

    async def _send(self, payload: Dict[Text, Any], recipient_id: Text) -> None:
        await asyncio.to_thread(
            self.messenger_client.send,
            payload,
            recipient_id,
            "RESPONSE",
            timeout=SEND_TIMEOUT,
        )

    async def send_text_message(
        self, recipient_id: Text, text: Text, **kwargs: Any
    ) -> None:
        for paragraph in text.strip().split("\n\n"):
            for part in split_message(paragraph, MESSENGER_LIMIT):
                if part:
                    await self._send({"text": part}, recipient_id)

    async def send_image_url(
        self, recipient_id: Text, image: Text, **kwargs: Any
    ) -> None:
        await self._send(
            {"attachment": {"type": "image", "payload": {"url": image}}}, recipient_id
        )

    async def send_action(self, recipient_id: Text, sender_action: Text) -> None:
        await asyncio.to_thread(
            self.messenger_client.send_action,
            sender_action,
            recipient_id,
            timeout=SEND_TIMEOUT,
        )

    async def send_text_with_buttons(
        self,
        recipient_id: Text,
        text: Text,
        buttons: List[Dict[Text, Any]],
        **kwargs: Any,
    ) -> None:
        text = text.strip()
        if (
            len(buttons) <= MAX_TEMPLATE_BUTTONS
            and len(text) <= BUTTON_TEMPLATE_TEXT_LIMIT
        ):
            self._add_postback_info(buttons)
            await self._send(
                {
                    "attachment": {
                        "type": "template",
                        "payload": {
                            "template_type": "button",
                            "text": text,
                            "buttons": buttons,
                        },
                    }
                },
                recipient_id,
            )
            return
        quick = [
            {
                "content_type": "text",
                "title": str(b.get("title", ""))[:20],
                "payload": str(b.get("payload") or b.get("title", "")),
            }
            for b in buttons[:MAX_QUICK_REPLIES]
        ]
        parts = split_message(text, MESSENGER_LIMIT) if text else ["Choose one:"]
        for part in parts[:-1]:
            await self._send({"text": part}, recipient_id)
        await self._send({"text": parts[-1], "quick_replies": quick}, recipient_id)

    async def send_quick_replies(
        self,
        recipient_id: Text,
        text: Text,
        quick_replies: List[Dict[Text, Any]],
        **kwargs: Any,
    ) -> None:
        replies = self._convert_to_quick_reply(quick_replies)
        await self._send({"text": text, "quick_replies": replies.to_dict()}, recipient_id)

    async def send_elements(
        self, recipient_id: Text, elements: Iterable[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        elements = list(elements)
        for element in elements:
            if "buttons" in element:
                self._add_postback_info(element["buttons"])
        await self._send(
            {
                "attachment": {
                    "type": "template",
                    "payload": {"template_type": "generic", "elements": elements},
                }
            },
            recipient_id,
        )

    async def send_custom_json(
        self,
        recipient_id: Text,
        json_message: Any,
        **kwargs: Any,
    ) -> None:
        if isinstance(json_message, dict) and "sender" in json_message:
            recipient_id = json_message.pop("sender", {}).pop("id", recipient_id)
        await asyncio.to_thread(
            self.messenger_client.send,
            json_message,
            recipient_id,
            "RESPONSE",
            timeout=SEND_TIMEOUT,
        )


class ClinicMessenger(Messenger):
    """Handles every message of a webhook, replying through ClinicMessengerBot."""

    def __init__(
        self,
        page_access_token: Text,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        super().__init__(page_access_token, on_new_message)
        self.client = client(page_access_token)

    async def handle(self, payload: Dict, metadata: Optional[Dict[Text, Any]]) -> None:
        for entry in payload.get("entry") or []:
            for message in entry.get("messaging") or []:
                self.last_message = message
                if message.get("message"):
                    await self.message(message, metadata)
                elif message.get("postback"):
                    await self.postback(message, metadata)

    async def _handle_user_message(
        self, text: Text, sender_id: Text, metadata: Optional[Dict[Text, Any]]
    ) -> None:
        out_channel = ClinicMessengerBot(self.client)
        await out_channel.send_action(sender_id, sender_action="mark_seen")
        await out_channel.send_action(sender_id, sender_action="typing_on")
        try:
            # on_new_message is MessengerInput's guard (channels/base.py): a failure
            # gets the calm reply there and is never resent to Facebook.
            await self.on_new_message(
                UserMessage(text, out_channel, sender_id, input_channel=self.name())
            )
        finally:
            await out_channel.send_action(sender_id, sender_action="typing_off")


class MessengerInput(PatientChannel, FacebookInput):
    """Rasa's Messenger channel, 403 for unsigned or wrongly signed webhooks, and the
    patient channel's guarantees (channels/base.py): conversations ``messenger:<psid>``."""

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        if not credentials.get("secret"):
            cls.raise_missing_credentials_exception()
        return super().from_credentials(credentials)

    def get_output_channel(self) -> OutputChannel:
        return self.patient_output(ClinicMessengerBot(client(self.fb_access_token)))

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        fb_webhook = Blueprint("fb_webhook", __name__)
        guarded = self.guard(on_new_message)

        @fb_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @fb_webhook.route("/webhook", methods=["GET"])
        async def token_verification(request: Request) -> HTTPResponse:
            given = request.args.get("hub.verify_token") or ""
            if self.fb_verify and hmac.compare_digest(
                given.encode(), str(self.fb_verify).encode()
            ):
                return response.text(request.args.get("hub.challenge") or "")
            return response.text("invalid verify token", status=403)

        @fb_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not signature_valid(self.fb_secret, request.body, request.headers):
                return response.text("invalid or missing X-Hub-Signature", status=403)
            payload = request.json
            if not isinstance(payload, dict) or payload.get("object") != "page":
                # Signed by Meta but not for the page (e.g. another subscription):
                # acknowledge, so that Meta does not retry it.
                return response.text("ignored")
            messenger = ClinicMessenger(self.fb_access_token, guarded)
            await messenger.handle(payload, self.get_metadata(request))
            return response.text("success")

        return self.patient_blueprint(fb_webhook)
