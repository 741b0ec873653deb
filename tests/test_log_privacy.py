"""logging.yml: Sanic's access log is dropped even at INFO; other loggers untouched."""

from __future__ import annotations

import logging
import logging.config
from pathlib import Path

import pytest
import yaml

from kat.log_privacy import redact

ROOT = Path(__file__).resolve().parent.parent


def test_access_log_dropped(caplog: pytest.LogCaptureFixture) -> None:
    access = logging.getLogger("sanic.access")
    before = list(access.filters)
    try:
        logging.config.dictConfig(yaml.safe_load((ROOT / "logging.yml").read_text()))
        access.setLevel(logging.INFO)  # as Rasa does with LOG_LEVEL_LIBRARIES=INFO
        with caplog.at_level(logging.INFO):
            access.info("GET /conversations/+14155550100/tracker 200")
            logging.getLogger("kat.test").info("still logged")
        assert "+14155550100" not in caplog.text
        assert "still logged" in caplog.text
    finally:
        access.filters[:] = before


def test_error_log_names_a_conversation_only_by_a_hash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    error = logging.getLogger("sanic.error")
    before = list(error.filters)
    try:
        logging.config.dictConfig(yaml.safe_load((ROOT / "logging.yml").read_text()))
        with caplog.at_level(logging.ERROR):
            error.error(
                "Exception occurred while handling uri: %s",
                "'http://127.0.0.1:5005/conversations/sms:+14155550100/tracker?x=1'",
            )
        assert "+14155550100" not in caplog.text
        assert "/conversations/h-" in caplog.text and "/tracker" in caplog.text
        assert redact("/conversations/a/x") == redact("/conversations/a/x")
        assert redact("/conversations/a/x") != redact("/conversations/b/x")
    finally:
        error.filters[:] = before
