"""What every patient channel owes the patient, in one place.

Rasa's ``InputChannel`` leaves each channel to build its ``UserMessage`` and to decide
what happens when the assistant fails: Rasa's own channels take the provider's sender
id as the conversation id, pass any length of text and whatever metadata the client
sent, and on a failure log a traceback with the message in it and send nothing.

:class:`PatientChannel` is a mixin for those channels (``class X(PatientChannel,
TwilioInput)``). A channel hands its ``on_new_message`` through :meth:`guard` — for
Rasa's own blueprints, before passing it to ``super().blueprint`` — and the guard:

* **checks the sender id** and files the message under the channel's namespace
  (kat/conversation_id.py): ``+1415...`` on SMS is ``sms:+1415...``, so no channel can
  address another channel's patients; an unacceptable id is refused, never repaired;
* **caps the text** at :data:`kat.input_check.MAX_MESSAGE_CHARS` (beginning and end
  kept, so the crisis check sees both; kat.input_check.cap_text) and repairs broken
  Unicode, so no message can hold the server for seconds;
* **limits a flooding client** (kat/rate_limit.py): beyond the limit the message is not
  processed, and the one reply says how to reach the clinic and emergency help;
* **drops client metadata**, apart from the channel's own keyed hash of the client's
  address (``kat_client``), which hand-off rate limits use;
* gives the patient **the calm failure reply** when the assistant fails, logging the
  error type only (never the text or the id).

Each channel returns its blueprint through :meth:`PatientChannel.patient_blueprint`:
a long message is read by the NLU in a worker thread, and bad tokens
and unreadable bodies anywhere on the Rasa server get a 4xx instead of a traceback.

Replies pass through :class:`PatientOutput`, which turns the conversation id back into
the provider's id, so the provider's output channel never sees a namespace. Each
channel's ``get_output_channel`` (used for staff replies through Rasa's HTTP API)
returns its output wrapped the same way (:meth:`PatientChannel.patient_output`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic

from components.http_errors import guard_app
from kat import conversation_id as ids
from kat import delivery
from kat.channel_replies import failure_reply, rate_limited_reply
from kat.input_check import cap_text, message_text
from kat.rate_limit import client_key, default_limiter

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
# A message longer than this is read by the NLU in a worker thread, so that reading it
# (about 100 ms at the cap) does not hold up the other patients' messages.
READ_IN_THREAD_CHARS = 1000


class DeliveryFailed(Exception):
    """A reply the provider (or the web chat) could not take, and why
    (``kat.delivery.REASONS``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(delivery.marker(reason))
        self.reason = reason


# Replies written by staff: their failure goes back to the staff inbox.
STAFF_UTTERANCES = frozenset({"utter_staff_reply"})


class PatientOutput(OutputChannel):
    """A provider's output channel addressed by conversation id.

    Unlike Rasa's output channels it owns no transport: it translates the recipient
    (``sms:+1...`` -> ``+1...``) and hands every call to the provider's channel, whose
    ``name()`` it keeps, so domain response variants keyed by channel still apply.
    """

    def __init__(self, inner: OutputChannel, channel: str) -> None:
        self.inner = inner
        self.channel = channel

    @classmethod
    def wrap(cls, output: Any, channel: str) -> Any:
        if output is None or isinstance(output, PatientOutput):
            return output
        return cls(output, channel)

    def name(self) -> Text:
        return self.inner.name()

    def to_provider(self, recipient_id: Text) -> Text:
        return ids.provider_id(self.channel, recipient_id)

    def __getattr__(self, attribute: str) -> Any:
        # Anything else (a collector's ``messages``, Messenger's ``send_action``).
        return getattr(self.inner, attribute)

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """As the provider's, except that a failed staff reply always raises
        ``DeliveryFailed`` (Rasa's HTTP API then answers the inbox with its reason;
        Rasa's Twilio output would only log it), and any other reply the provider
        refused with ``DeliveryFailed`` is logged, as Rasa's outputs do, so the
        patient's turn is still saved."""
        try:
            await self.inner.send_response(self.to_provider(recipient_id), message)
        except DeliveryFailed as failed:
            if message.get("utter_action") in STAFF_UTTERANCES:
                raise
            logger.error("%s reply not delivered: %s", self.channel, failed.reason)
        except Exception as exc:
            if message.get("utter_action") in STAFF_UTTERANCES:
                logger.error(
                    "%s staff reply not delivered: %s", self.channel, type(exc).__name__
                )
                raise DeliveryFailed("provider_error") from exc
            raise

    async def send_text_message(
        self, recipient_id: Text, text: Text, **kwargs: Any
    ) -> None:
        await self.inner.send_text_message(self.to_provider(recipient_id), text, **kwargs)

    async def send_image_url(
        self, recipient_id: Text, image: Text, **kwargs: Any
    ) -> None:
        await self.inner.send_image_url(self.to_provider(recipient_id), image, **kwargs)

    async def send_attachment(
        self, recipient_id: Text, attachment: Text, **kwargs: Any
    ) -> None:
        await self.inner.send_attachment(
            self.to_provider(recipient_id), attachment, **kwargs
        )

    async def send_text_with_buttons(
        self,
        recipient_id: Text,
        text: Text,
        buttons: List[Dict[Text, Any]],
        **kwargs: Any,
    ) -> None:
        await self.inner.send_text_with_buttons(
            self.to_provider(recipient_id), text, buttons, **kwargs
        )

    async def send_quick_replies(
        self,
        recipient_id: Text,
        text: Text,
        quick_replies: List[Dict[Text, Any]],
        **kwargs: Any,
    ) -> None:
        await self.inner.send_quick_replies(
            self.to_provider(recipient_id), text, quick_replies, **kwargs
        )

    async def send_elements(
        self, recipient_id: Text, elements: Iterable[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.inner.send_elements(self.to_provider(recipient_id), elements, **kwargs)

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        await self.inner.send_custom_json(
            self.to_provider(recipient_id), json_message, **kwargs
        )


class PatientChannel(InputChannel):
    """Mixin: the guarantees every patient channel gives (see the module docstring)."""

    _app: Optional[Sanic] = None

    @classmethod
    def webhook_path(cls) -> Optional[str]:
        """Where the provider sends its webhooks (Rasa serves each channel's
        blueprint under /webhooks/<name>/); scripts/make_credentials.py prints it."""
        return f"/webhooks/{cls.name()}/webhook"

    def patient_blueprint(self, blueprint: Blueprint) -> Blueprint:
        """``blueprint`` as the channel returns it: with the app's error handlers
        (components/http_errors.py), and knowing the app, whose agent reads long
        messages in a worker thread."""

        async def remember_app(app: Sanic, _: Any) -> None:
            self._app = app

        blueprint.listener("before_server_start")(remember_app)
        return guard_app(blueprint)

    async def read_in_thread(self, message: UserMessage) -> Optional[Dict[str, Any]]:
        """The NLU's reading of a long message, made in a worker thread; None where
        the agent is not known (the message is then read as usual, in the loop).

        Rasa reads a message inside the event loop (MessageProcessor.parse_message is
        synchronous work behind ``async``); a message of 4,096 characters blocked every
        other conversation for about 100 ms. Rasa takes a reading handed to it in
        ``UserMessage.parse_data`` as it is. The NLU reads the message alone, never the
        conversation, so reading it apart from the tracker gives the same result.
        """
        agent = getattr(self._app.ctx, "agent", None) if self._app else None
        processor = getattr(agent, "processor", None)
        if processor is None:
            return None

        def read() -> Dict[str, Any]:
            return dict(asyncio.run(processor.parse_message(message)))

        return await asyncio.to_thread(read)

    def conversation_id(self, provider_id: Any) -> Optional[str]:
        """The namespaced conversation id, or None for an id this channel refuses."""
        return ids.for_channel(self.name(), provider_id)

    def patient_output(self, output: Any) -> Any:
        """``output`` addressed by conversation id (idempotent)."""
        return PatientOutput.wrap(output, self.name())

    def guard(
        self, on_new_message: OnNewMessage, client_address: Optional[str] = None
    ) -> Callable[[UserMessage], Awaitable[None]]:
        """``on_new_message`` behind the checks of the module docstring.

        ``client_address`` is the address the request came from where the client is
        a patient's own device (REST); provider channels leave it out, and the
        conversation itself is then the client.
        """
        channel = self.name()

        async def handle(message: UserMessage) -> None:
            conversation = self.conversation_id(message.sender_id)
            output = self.patient_output(message.output_channel)
            if conversation is None:
                logger.warning(
                    "%s: message with an unacceptable sender id refused", channel
                )
                return
            client = client_key(channel, client_address or conversation)
            if not default_limiter().allow(client, conversation):
                logger.warning("%s: client over its rate limit, message refused", channel)
                await self._send_calm(output, conversation, rate_limited_reply())
                return
            text = message.text or ""
            if len(text) > READ_IN_THREAD_CHARS * 16:
                # Repairing and cutting a huge text takes the loop's time too.
                text = await asyncio.to_thread(lambda: cap_text(message_text(text)))
            else:
                text = cap_text(message_text(text))
            clean = UserMessage(
                text,
                output,
                conversation,
                input_channel=channel,
                message_id=message.message_id,
                metadata={"kat_client": client},
            )
            try:
                if len(clean.text or "") > READ_IN_THREAD_CHARS:
                    clean.parse_data = await self.read_in_thread(clean)
                await on_new_message(clean)
            except Exception as exc:  # noqa: BLE001 - the patient gets a calm reply
                logger.error("%s message failed: %s", channel, type(exc).__name__)
                await self._send_calm(output, conversation, failure_reply())

        return handle

    @staticmethod
    async def _send_calm(output: Any, conversation: str, text: str) -> None:
        if output is None:
            return
        try:
            await output.send_text_message(conversation, text)
        except Exception as exc:  # noqa: BLE001 - nothing more can be done here
            logger.error("calm reply not delivered: %s", type(exc).__name__)
