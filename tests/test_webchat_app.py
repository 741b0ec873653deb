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


def _contrast(a: str, b: str) -> float:
    def lum(hex_colour: str) -> float:
        rgb = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_widget_colours_meet_wcag_aa() -> None:
    css = (Path(__file__).resolve().parents[1] / "web" / "widget.css").read_text()
    var = dict(re.findall(r"(--kat-[a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    pairs = [  # (text, background) as the widget uses them
        ("--kat-on-primary", "--kat-primary"),  # header, user messages, buttons
        ("--kat-text", "--kat-bot-bg"),  # assistant messages
        ("--kat-link", "--kat-bot-bg"),  # links in assistant messages
        ("--kat-link", "#ffffff"),  # quick replies
        ("--kat-link", "#f7f7f7"),  # footer links and "Talk to a person"
        ("--kat-muted", "#ffffff"),  # typing indicator
        ("#3d2e00", "#fff4d6"),  # reconnecting notice
    ]
    for text, background in pairs:
        ratio = _contrast(var.get(text, text), var.get(background, background))
        assert ratio >= 4.5, (text, background, round(ratio, 2))
    # The focus ring stands out from the white panel (non-text contrast >= 3:1).
    assert _contrast(var["--kat-focus"], "#ffffff") >= 3
