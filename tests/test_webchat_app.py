"""The web chat's static server (webchat/app.py): headers, files, settings block."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict

import pytest
from aiohttp.test_utils import TestClient, TestServer

from webchat.app import (
    content_security_policy,
    create_app,
    json_for_html,
    rasa_origins,
    widget_config,
)

PROFILE: Dict[str, Any] = {
    "name": "Riverside </script><script>alert(1)</script> Clinic",
    "phone": "[clinic phone number]",
    "hours": "Mon-Fri 9-5",
    "emergency_number": "911",
    "crisis_line": "988",
}


def test_settings_leave_out_placeholders() -> None:
    config = widget_config("http://127.0.0.1:5005/", PROFILE)
    assert config["serverUrl"] == "http://127.0.0.1:5005"
    assert config["clinicPhone"] is None  # a placeholder is never shown as a number
    assert config["clinicHours"] == "Mon-Fri 9-5"
    assert config["emergencyNumber"] == "911"


def test_settings_json_cannot_close_its_script_block() -> None:
    text = json_for_html(widget_config("http://127.0.0.1:5005", PROFILE))
    assert "</script>" not in text and "<" not in text
    assert json.loads(text)["clinicName"] == PROFILE["name"]


def test_content_security_policy() -> None:
    csp = content_security_policy("https://bot.clinic.example")
    assert "script-src 'self'" in csp
    assert "connect-src 'self' https://bot.clinic.example wss://bot.clinic.example" in csp
    assert "unsafe" not in csp
    assert (
        rasa_origins("http://127.0.0.1:5005")
        == "http://127.0.0.1:5005 ws://127.0.0.1:5005"
    )
    with pytest.raises(ValueError):
        rasa_origins("javascript:alert(1)")


async def test_served_files_and_headers() -> None:
    app = create_app("http://127.0.0.1:5005", profile=PROFILE)
    async with TestClient(TestServer(app)) as client:
        page = await client.get("/")
        html = await page.text()
        assert page.status == 200
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["X-Frame-Options"] == "DENY"
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        # The only scripts: the JSON settings block (not executed) and widget.js.
        scripts = re.findall(r"<script[^>]*>", html)
        assert scripts == [
            '<script type="application/json" id="kat-chat-config">',
            '<script src="/widget.js" defer>',
        ]
        assert "alert(1)</script>" not in html

        widget = await client.get("/widget.js")
        assert widget.status == 200
        assert widget.headers["Content-Type"].startswith("text/javascript")
        assert widget.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
        source = await widget.text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
            assert sink not in source  # messages never reach an HTML parser
        vendor = await client.get("/vendor/socket.io.min.js")
        assert vendor.status == 200 and "Socket.IO v4" in await vendor.text()
        for path in ("/package.json", "/node_modules/", "/../README.md", "/index.html"):
            assert (await client.get(path)).status == 404


def test_missing_client_says_how_to_install(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("x")
    with pytest.raises(FileNotFoundError, match="npm ci"):
        create_app("http://127.0.0.1:5005", web_dir=tmp_path, profile=PROFILE)
