"""Logging filters referenced by logging.yml (``rasa run --logging-config-file``)."""

from __future__ import annotations

import logging


class DropRecords(logging.Filter):
    """Drops every record of the logger it is attached to.

    For Sanic's access log: its lines carry request paths such as
    ``/conversations/<sender id>/tracker``, and a sender id can be a patient's phone
    number (SMS, WhatsApp). Rasa raises that logger to LOG_LEVEL_LIBRARIES, so a level
    alone would not keep it quiet; a filter does.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return False
