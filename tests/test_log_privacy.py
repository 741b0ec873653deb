"""logging.yml: Sanic's access log is dropped even at INFO; other loggers untouched."""

from __future__ import annotations

import logging
import logging.config
from pathlib import Path

import pytest
import yaml

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
