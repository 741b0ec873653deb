"""Telegram with the webhook's secret token checked on every update.

Rasa's TelegramInput trusts any POST to its webhook and contacts Telegram at start-up
(``setWebhook``, without a secret token) and on every message (``getMe``). This channel:

* answers 403 to an update whose ``X-Telegram-Bot-Api-Secret-Token`` header is missing
  or differs from ``secret_token`` (compared with ``hmac.compare_digest``), before
  anything reaches the assistant;
* contacts Telegram only to send replies. The webhook is registered once, with the
  secret token, by ``scripts/telegram_set_webhook.py`` (Rasa's unauthenticated
  ``/set_webhook`` route is not offered);
* answers a button press (``answerCallbackQuery``) in the webhook's own reply, so the
  tapped button stops showing its spinner without another call to Telegram;
* closes aiogram's HTTP session when the server stops;
* answers only private chats: a bot added to a group would otherwise reply, with
  whatever the patient said, to everyone in the group;
* splits long answers under Telegram's 4,096-character limit and shows buttons as an
  inline keyboard (one button per row unless ``button_type`` says otherwise).

``TELEGRAM_API_BASE`` points the outbound Bot API elsewhere — only for tests, which
capture replies on a local server instead of calling Telegram.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

from aiogram import Bot
from aiogram.bot.api import TELEGRAM_PRODUCTION, TelegramAPIServer
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from rasa.core.channels import telegram as rasa_telegram
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.base import PatientChannel
from kat.sms_format import split_message

logger = logging.getLogger(__name__)

TELEGRAM_LIMIT = 4000  # below Telegram's 4,096 characters per message
CALLBACK_DATA_LIMIT = 64  # bytes Telegram allows in an inline button's callback_data
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# What Telegram accepts as a webhook secret token (Bot API, setWebhook).
_SECRET_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,256}")


def api_server() -> TelegramAPIServer:
    base = os.environ.get("TELEGRAM_API_BASE")
    return TelegramAPIServer.from_base(base) if base else TELEGRAM_PRODUCTION


def keyboard(
    buttons: List[Dict[Text, Any]], button_type: Optional[Text]
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup:
    """Inline keyboard (payload as callback data), or a reply keyboard of titles.

    A payload longer than Telegram's 64-byte callback data would make Telegram refuse
    the whole message, so such buttons fall back to a reply keyboard: the patient's tap
    then sends the button's title as text.
    """
    too_long = any(
        len(str(b.get("payload") or "").encode()) > CALLBACK_DATA_LIMIT for b in buttons
    )
    if button_type == "reply" or too_long:
        reply = ReplyKeyboardMarkup(resize_keyboard=True, one_time_keyboard=True)
        for button in buttons:
            reply.row(KeyboardButton(str(button.get("title", ""))))
        return reply
    inline = InlineKeyboardMarkup()
    row = [
        InlineKeyboardButton(
            str(b.get("title", "")),
            callback_data=str(b.get("payload") or b.get("title", "")),
        )
        for b in buttons
    ]
    if button_type == "inline":
        inline.row(*row)
    else:
        for button in row:
            inline.row(button)
    return inline


class ClinicTelegramOutput(rasa_telegram.TelegramOutput):
    """Telegram output: no webhook calls, long answers split, one button per row."""

    def __init__(self, access_token: Optional[Text]) -> None:
        Bot.__init__(self, access_token, server=api_server())

    async def send_text_message(
        self, recipient_id: Text, text: Text, **kwargs: Any
    ) -> None:
        for paragraph in text.strip().split("\n\n"):
            for part in split_message(paragraph, TELEGRAM_LIMIT):
                if part:
                    await self.send_message(recipient_id, part)

    async def send_text_with_buttons(
        self,
        recipient_id: Text,
        text: Text,
        buttons: List[Dict[Text, Any]],
        button_type: Optional[Text] = "vertical",
        **kwargs: Any,
    ) -> None:
        parts = split_message(text.strip(), TELEGRAM_LIMIT) if text.strip() else []
        for part in parts[:-1]:
            await self.send_message(recipient_id, part)
        last = parts[-1] if parts else "Choose one:"
        await self.send_message(
            recipient_id, last, reply_markup=keyboard(buttons, button_type)
        )


class TelegramInput(PatientChannel, rasa_telegram.TelegramInput):
    """Rasa's Telegram channel behind the webhook secret token, with the patient
    channel's guarantees (channels/base.py): conversations ``telegram:<chat id>``."""

    def __init__(
        self,
        access_token: Optional[Text],
        verify: Optional[Text],
        webhook_url: Optional[Text],
        secret_token: Optional[Text] = None,
        debug_mode: bool = False,
    ) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode=debug_mode)
        if not secret_token or not _SECRET_FORMAT.fullmatch(str(secret_token)):
            raise RasaException(
                "The Telegram channel needs `secret_token` (1-256 characters from "
                "A-Z, a-z, 0-9, _ and -), the token registered with setWebhook."
            )
        self.secret_token = str(secret_token)

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        return cls(
            credentials.get("access_token"),
            credentials.get("verify"),
            credentials.get("webhook_url"),
            secret_token=credentials.get("secret_token"),
        )

    def get_output_channel(self) -> Any:
        # Rasa's version calls setWebhook here; see scripts/telegram_set_webhook.py.
        return self.patient_output(ClinicTelegramOutput(self.access_token))

    def is_from_telegram(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return hmac.compare_digest(given.encode(), self.secret_token.encode())

    @classmethod
    def text_of(cls, update: Update) -> Tuple[Optional[Message], Optional[Text]]:
        """The chat message an update belongs to, and the text to hand to Rasa."""
        if cls._is_button(update):
            return update.callback_query.message, update.callback_query.data
        if cls._is_edited_message(update):
            return update.edited_message, update.edited_message.text
        message = update.message
        if message is None:
            return None, None
        if cls._is_user_message(message):
            text = message.text
            # Telegram opens every chat with /start: greet the patient.
            return message, "/greet" if text.split("@")[0] == "/start" else text
        if cls._is_location(message):
            location = message.location
            return message, f'{{"lng":{location.longitude}, "lat":{location.latitude}}}'
        return message, None

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        telegram_webhook = Blueprint("telegram_webhook", __name__)
        out_channel = self.get_output_channel()
        guarded = self.guard(on_new_message)

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            if not self.is_from_telegram(request):
                return response.text(f"invalid or missing {SECRET_HEADER}", status=403)
            try:
                body = request.json
                if isinstance(body, str):
                    body = json.loads(body)
                update = Update(**body)
                chat_message, text = self.text_of(update)
            except Exception:  # noqa: BLE001 - a malformed update is the sender's fault
                return response.text("not a Telegram update", status=400)
            if chat_message is None or not text:
                return done(update)
            if chat_message.chat.type != "private":
                logger.warning("Ignoring a Telegram message from a non-private chat.")
                return done(update)
            # A failure gets the calm reply there (channels/base.py); Telegram is
            # answered "success" either way, or it would resend the update.
            await guarded(
                UserMessage(
                    text,
                    out_channel,
                    str(chat_message.chat.id),
                    input_channel=self.name(),
                )
            )
            return done(update)

        def done(update: Update) -> HTTPResponse:
            """ "success", or, for a button press, answerCallbackQuery in the webhook
            reply itself (Telegram runs it; no call to its API from here): the tapped
            button stops showing its loading spinner."""
            if self._is_button(update) and update.callback_query.id:
                return response.json(
                    {
                        "method": "answerCallbackQuery",
                        "callback_query_id": str(update.callback_query.id),
                    }
                )
            return response.text("success")

        @telegram_webhook.listener("after_server_stop")
        async def close_session(*_: Any) -> None:
            """aiogram keeps one HTTP session for replies; close it on shutdown."""
            session = getattr(out_channel, "_session", None)
            if session is not None and not session.closed:
                await session.close()

        return self.patient_blueprint(telegram_webhook)
