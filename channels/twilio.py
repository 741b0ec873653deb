"""Twilio (SMS and WhatsApp) with ``X-Twilio-Signature`` checked on every webhook.

Rasa's TwilioInput accepts any POST. This subclass rejects unsigned or wrongly signed
requests with 403 before they reach the assistant. Twilio signs the full public URL of
the webhook: behind a proxy, set ``public_url`` in credentials.yml to the URL Twilio
calls (``https://clinic.example/webhooks/twilio/webhook``).

Replies fit SMS: buttons become numbered options (a reply of "2" picks the second), and
long answers are split below Twilio's 1,600-character limit. The options sent to each
patient are remembered in Redis when several Rasa processes share the work
(kat/option_store.py), else in the process.

WhatsApp through Twilio: a message from ``whatsapp:+1...`` is answered from
``whatsapp:<twilio_number>`` (Twilio refuses an SMS sender for a WhatsApp recipient).

``TWILIO_API_BASE`` points the outbound API elsewhere — only for tests, which capture
replies on a local server instead of calling Twilio.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text
from urllib.parse import parse_qs

from rasa.core.channels import twilio as rasa_twilio
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from channels.base import DeliveryFailed, PatientChannel
from kat import conversation_id as ids
from kat.option_store import OptionStore, option_store
from kat.sms_format import number_options, pick_option, split_message

# Twilio's error for a free-form WhatsApp message outside the 24-hour
# customer-service window.
WHATSAPP_WINDOW_CODES = frozenset({63016})
logger = logging.getLogger(__name__)


class ClinicTwilioOutput(rasa_twilio.TwilioOutput):
    """Twilio output that numbers buttons and splits long answers."""

    def __init__(
        self,
        account_sid: Optional[Text],
        auth_token: Optional[Text],
        twilio_number: Optional[Text],
        options: OptionStore,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number)
        self._options = options
        base = os.environ.get("TWILIO_API_BASE")
        if base:
            self.api.base_url = base.rstrip("/")

    async def _send_message(self, message_data: Dict[Text, Any]) -> Any:
        """Rasa's sends, but a message Twilio refuses raises ``DeliveryFailed``
        (Rasa's only logs it): a staff reply outside WhatsApp's 24-hour window, or
        refused for any other reason, shows as not delivered in the inbox."""
        to, sender = str(message_data.get("to", "")), message_data.get("from_")
        if to.startswith("whatsapp:") and sender and not sender.startswith("whatsapp:"):
            message_data = {**message_data, "from_": f"whatsapp:{sender}"}
        try:
            return self.messages.create(**message_data)
        except TwilioRestException as exc:
            window = exc.code in WHATSAPP_WINDOW_CODES
            logger.error("Twilio refused a message: error %s", exc.code)
            raise DeliveryFailed(
                "whatsapp_window" if window else "provider_error"
            ) from exc

    async def send_text_message(
        self, recipient_id: Text, text: Text, **kwargs: Any
    ) -> None:
        for part in split_message(text):
            await super().send_text_message(recipient_id, part, **kwargs)

    async def send_text_with_buttons(
        self,
        recipient_id: Text,
        text: Text,
        buttons: List[Dict[Text, Any]],
        **kwargs: Any,
    ) -> None:
        await self._options.put(recipient_id, list(buttons))
        await self.send_text_message(recipient_id, number_options(text, buttons))


def twilio_form(request: Request) -> RequestParameters:
    """The webhook's form fields, blank ones included, as the handlers read them.

    Sanic drops blank fields (``FromCity=``, and ``Body=`` on a picture-only MMS), but
    Twilio signs every field it sends: without them a genuine request fails the
    signature check, and Rasa's handler fails on a missing Body. Parsed once and kept
    as the request's form.
    """
    if request.parsed_form is None and request.content_type.startswith(
        "application/x-www-form-urlencoded"
    ):
        body = request.body.decode("utf-8", "replace")
        fields = RequestParameters(parse_qs(body, keep_blank_values=True))
        request.parsed_form = fields  # type: ignore[assignment]
    return request.form or RequestParameters()


class TwilioInput(PatientChannel, rasa_twilio.TwilioInput):
    """Rasa's Twilio channel behind a signature check, with the patient channel's
    guarantees (channels/base.py): conversations ``sms:+1...`` and ``whatsapp:+1...``."""

    _options: OptionStore

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        channel = super().from_credentials(credentials)
        channel.public_url = credentials.get("public_url")
        return channel

    def get_output_channel(self) -> OutputChannel:
        if not hasattr(self, "_options"):
            self._options = option_store()
        return self.patient_output(
            ClinicTwilioOutput(
                self.account_sid, self.auth_token, self.twilio_number, self._options
            )
        )

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        if not hasattr(self, "_options"):
            self._options = option_store()
        validator = RequestValidator(self.auth_token or "")
        options = self._options
        channel = self.name()

        async def with_numbered_options(message: UserMessage) -> Any:
            # Inside the guard: an option store that fails (Redis down) gets the
            # patient the calm reply, as any other failure does.
            sender = ids.provider_id(channel, message.sender_id or "")
            chosen = pick_option(message.text or "", await options.get(sender))
            if chosen is not None:
                message.text = chosen
                await options.discard(sender)
            return await on_new_message(message)

        webhook = super().blueprint(self.guard(with_numbered_options))

        @webhook.middleware("request")
        async def check_signature(request: Request) -> Any:
            if request.method != "POST":
                return None
            signature = request.headers.get("X-Twilio-Signature", "")
            form = twilio_form(request)
            params = {key: values[0] for key, values in form.items()}
            url = getattr(self, "public_url", None) or str(request.url)
            if not signature or not validator.validate(url, params, signature):
                return response.text("invalid or missing X-Twilio-Signature", status=403)
            return None

        return self.patient_blueprint(webhook)
