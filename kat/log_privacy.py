"""Logging filters referenced by logging.yml (``rasa run --logging-config-file``)."""

from __future__ import annotations

import hashlib
import logging
import re


class DropRecords(logging.Filter):
    """Drops every record of the logger it is attached to.

    For Sanic's access log: its lines carry request paths such as
    ``/conversations/<sender id>/tracker``, and a sender id can be a patient's phone
    number (SMS, WhatsApp). Rasa raises that logger to LOG_LEVEL_LIBRARIES, so a level
    alone would not keep it quiet; a filter does.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return False


_CONVERSATION_IN_URL = re.compile(r"(/conversations/)([^/?#'\"\s]+)")


def hashed(conversation_id: str) -> str:
    """A short stable stand-in for a conversation id in a log line."""
    return "h-" + hashlib.sha256(conversation_id.encode()).hexdigest()[:12]


def redact(text: str) -> str:
    """``text`` with every ``/conversations/<id>`` replaced by a hash of the id."""
    return _CONVERSATION_IN_URL.sub(lambda m: m.group(1) + hashed(m.group(2)), text)


class RedactConversationIds(logging.Filter):
    """Rewrites a record so that no conversation id appears in it, only a hash.

    For Sanic's error log ("Exception occurred while handling uri: 'http://.../
    conversations/+14155550100/tracker'"): a conversation id is a phone number on SMS
    and WhatsApp. The hash still lets an engineer match the lines of one conversation.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
