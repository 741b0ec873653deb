"""Conversation ids, one namespace per channel: pure helpers, no Rasa imports.

Rasa keeps one conversation (tracker) per sender id, whatever channel the message came
on. If every channel used the provider's own id, a REST client could write into the
conversation of an SMS patient by sending that patient's phone number as its sender,
add words to their open ticket, or switch the channel their staff replies go to.

So each channel files its messages under its own prefix, and no channel can name an id
in another's namespace:

=============  ==========================  =========================================
channel        provider's id               conversation id
=============  ==========================  =========================================
web chat       server-issued session id    ``web:<session id>``
REST           the client's ``sender``     ``rest:<sender>``
SMS            ``+14155550100``            ``sms:+14155550100``
WhatsApp       ``whatsapp:+14155550100``   ``whatsapp:+14155550100``
Telegram       chat id                     ``telegram:<chat id>``
Messenger      page-scoped id              ``messenger:<psid>``
Slack          user id                     ``slack:<user id>``
=============  ==========================  =========================================

A provider's id is checked at the channel's door (:func:`for_channel`): only
``[A-Za-z0-9_.:+@=-]``, not starting with ``.``, ``:``, ``@`` or ``=``, at most
:data:`MAX_PROVIDER_ID_CHARS` — no ``/``, no ``%``, no spaces, nothing a URL or a log
line could misread. Anything else is refused, never repaired.
"""

from __future__ import annotations

import re
from typing import Dict, Optional
from urllib.parse import quote

MAX_PROVIDER_ID_CHARS = 100
# The web chat's server-issued ids are URL-safe base64 and may start with "-" or "_".
_PROVIDER_ID = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9_.:+@=-]*")

# Rasa channel name -> the namespace of its conversation ids.
NAMESPACES: Dict[str, str] = {
    "socketio": "web",
    "rest": "rest",
    "twilio": "sms",
    "telegram": "telegram",
    "facebook": "messenger",
    "slack": "slack",
}
# Twilio's WhatsApp ids carry their own prefix ("whatsapp:+1..."); it is their namespace.
WHATSAPP = "whatsapp"


def is_valid_provider_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_PROVIDER_ID_CHARS
        and _PROVIDER_ID.fullmatch(value) is not None
    )


def for_channel(channel: str, provider_id: object) -> Optional[str]:
    """The conversation id for a provider's id on ``channel``, or None if the id is not
    acceptable (the message is then refused)."""
    if not is_valid_provider_id(provider_id):
        return None
    assert isinstance(provider_id, str)
    namespace = NAMESPACES[channel]
    if channel == "twilio" and provider_id.startswith(WHATSAPP + ":"):
        return provider_id
    return f"{namespace}:{provider_id}"


def provider_id(channel: str, conversation_id: str) -> str:
    """The provider's own id for a conversation id of ``channel`` (the inverse of
    :func:`for_channel`); an id of another namespace is returned unchanged."""
    prefix = NAMESPACES[channel] + ":"
    if conversation_id.startswith(prefix):
        return conversation_id[len(prefix) :]
    return conversation_id


def namespace_of(conversation_id: str) -> str:
    """``"sms"`` for ``"sms:+1..."``; "" for an id without a namespace."""
    head, sep, _ = conversation_id.partition(":")
    return head if sep else ""


def url_segment(conversation_id: str) -> str:
    """A conversation id as one path segment of Rasa's HTTP API.

    Sanic does not unquote path parameters, so an id goes in as it is: the characters
    channels accept (``:``, ``+``, ``@``, ``=`` included) are legal in a path segment.
    Anything else is quoted (``/`` -> ``%2F``), which can only name a conversation no
    channel creates, never another one.
    """
    return quote(conversation_id, safe=":+@=")
