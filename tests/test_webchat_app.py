"""The web chat's static server (webchat/app.py): headers, files, settings block; the
widget's strings files (web/i18n/); the channel's keep tokens and hand-off status
(channels/socketio.py), which the widget relies on."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from types import SimpleNamespace
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

ROOT = Path(__file__).resolve().parents[1]
WIDGET = ROOT / "web" / "widget.js"
I18N = ROOT / "web" / "i18n"
SECRET = "unit-test-web-session-secret-" + "y" * 16

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
        for path in (
            "/package.json",
            "/node_modules/",
            "/../README.md",
            "/index.html",
            "/i18n/",
            "/i18n/fr.json",
            # the accessibility checker is for the tests only, never served to patients
            "/vendor/axe.min.js",
            "/node_modules/axe-core/axe.min.js",
        ):
            assert (await client.get(path)).status == 404, path

        # The strings, readable from a clinic page on another origin (no credentials).
        for language in ("en", "es"):
            strings = await client.get(f"/i18n/{language}.json")
            assert strings.status == 200
            assert strings.headers["Content-Type"].startswith("application/json")
            assert strings.headers["Access-Control-Allow-Origin"] == "*"
            assert strings.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
            assert "Access-Control-Allow-Credentials" not in strings.headers
            assert (await strings.json())["send"]
        assert "Access-Control-Allow-Origin" not in widget.headers
        style = await client.get("/widget.css")  # axe-core reads it from other origins
        assert style.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Origin" not in page.headers

        # /?lang=es: the demo page with the widget set to Spanish in its settings block.
        def settings(html: str) -> Dict[str, Any]:
            block = re.search(r'id="kat-chat-config">(.*?)</script>', html, re.S)
            assert block
            return dict(json.loads(block.group(1)))

        assert "language" not in settings(html)  # follows <html lang="en">
        spanish = await (await client.get("/?lang=es")).text()
        assert settings(spanish)["language"] == "es"
        assert "language" not in settings(await (await client.get("/?lang=xx")).text())


def test_settings_carry_the_history_hours() -> None:
    assert (
        widget_config("http://x:1", {**PROFILE, "web_history_hours": 24})["historyHours"]
        == 24
    )
    assert widget_config("http://x:1", PROFILE)["historyHours"] == 0
    assert widget_config("http://x:1", {"web_history_hours": "24"})["historyHours"] == 0


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
        ("#0d2b4a", "#e8f1fa"),  # "a member of the team will reply here"
        ("--kat-text", "#eaf4ec"),  # a staff reply
        ("#1f4d29", "#eaf4ec"),  # its "Clinic team" label
        ("--kat-link", "#eaf4ec"),  # links in a staff reply
        ("--kat-muted", "#f7f7f7"),  # the keep choice's hint
        ("--kat-text", "#f7f7f7"),  # the keep choice's label
    ]
    for text, background in pairs:
        ratio = _contrast(var.get(text, text), var.get(background, background))
        assert ratio >= 4.5, (text, background, round(ratio, 2))
    # The focus ring stands out from the white panel (non-text contrast >= 3:1).
    assert _contrast(var["--kat-focus"], "#ffffff") >= 3


# --- the widget's strings (web/i18n/<language>.json) ----------------------------------


def _strings(language: str) -> Dict[str, str]:
    return dict(json.loads((I18N / f"{language}.json").read_text(encoding="utf-8")))


def _used_keys() -> set:
    source = WIDGET.read_text(encoding="utf-8")
    return set(re.findall(r'\bt\("(\w+)"', source)) | set(
        re.findall(r'\bfill\(\w+, "(\w+)"', source)
    )


def test_every_language_has_the_same_keys_and_placeholders() -> None:
    english, spanish = _strings("en"), _strings("es")
    assert set(english) == set(spanish)
    for key, text in english.items():
        assert isinstance(text, str) and text.strip(), key
        assert isinstance(spanish[key], str) and spanish[key].strip(), key
        names = set(re.findall(r"\{(\w+)\}", text))
        assert names == set(re.findall(r"\{(\w+)\}", spanish[key])), key
        assert "<" not in text + spanish[key]  # shown as text, never markup


def test_the_widget_uses_only_keys_that_exist_and_every_key_is_used() -> None:
    used, english = _used_keys(), set(_strings("en"))
    assert used, "no t(...) calls found: has the widget's string function changed?"
    assert used - english == set(), "keys the widget uses but en.json lacks"
    assert english - used == set(), "keys en.json has but the widget never uses"


def test_the_widget_has_no_english_of_its_own() -> None:
    """Every string the widget shows comes from the strings file: none of them is
    written into widget.js as well (comments aside)."""
    source = WIDGET.read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    code = "\n".join(line.split("// ")[0] for line in code.splitlines())
    english = _strings("en")
    literals = set(re.findall(r'"((?:[^"\\]|\\.)*)"', code)) - set(english)
    for key, text in english.items():
        for piece in (p.strip() for p in re.split(r"\{\w+\}", text)):
            if len(piece) <= 3:
                continue
            for literal in literals:
                assert piece != literal and not (" " in piece and piece in literal), (
                    key,
                    piece,
                )


def test_spanish_uses_usted() -> None:
    """Neutral Latin-American Spanish, usted form: no tú forms in the widget."""
    text = " ".join(_strings("es").values()).lower()
    for word in (
        " tu ",
        " tú ",
        " escribe ",
        " llama ",
        " puedes ",
        " quieres ",
        " tus ",
    ):
        assert word not in f" {text} ", word
    assert "su mensaje" in text and "llame" in text


# --- the channel's side (channels/socketio.py) --------------------------------------------


def test_keep_tokens_resume_only_their_session_within_their_lifetime() -> None:
    from channels.socketio import issue_keep, keep_token, kept_session
    from kat.web_session import issue, resume_token

    session, _ = issue(SECRET)
    now = time.time()
    kept = {"session_id": session, **issue_keep(SECRET, session, 24, now=now)}
    assert kept["keep_until"] == int(now + 24 * 3600)
    assert kept_session(SECRET, kept, 24, now=now) == session
    assert kept_session(SECRET, kept, 24, now=now + 23 * 3600) == session
    # Expired on the server, whatever the browser kept.
    assert kept_session(SECRET, kept, 24, now=now + 24 * 3600 + 1) is None
    # A later, longer expiry cannot be written in: the token covers it.
    assert (
        kept_session(
            SECRET, {**kept, "keep_until": kept["keep_until"] + 3600}, 24, now=now
        )
        is None
    )
    # Keeping switched off, or shortened below the token's lifetime.
    assert kept_session(SECRET, kept, 0, now=now) is None
    assert kept_session(SECRET, kept, 1, now=now) is None
    # Another session, another secret, a resume token in its place, junk.
    other, _ = issue(SECRET)
    assert kept_session(SECRET, {**kept, "session_id": other}, 24, now=now) is None
    assert kept_session("z" * 40, kept, 24, now=now) is None
    assert (
        kept_session(
            SECRET, {**kept, "keep_token": resume_token(SECRET, session)}, 24, now=now
        )
        is None
    )
    for junk in (
        None,
        [],
        {"session_id": session},
        {**kept, "keep_until": "1"},
        {**kept, "keep_until": True},
    ):
        assert kept_session(SECRET, junk, 24, now=now) is None
    # Never the same as the resume token.
    assert keep_token(SECRET, session, kept["keep_until"]) != resume_token(
        SECRET, session
    )


def test_history_hours_from_the_profile() -> None:
    from channels.socketio import MAX_HISTORY_HOURS, history_hours

    assert history_hours({"web_history_hours": 24}) == 24
    assert history_hours({"web_history_hours": 0}) == 0
    assert history_hours({}) == 0
    assert history_hours({"web_history_hours": "24"}) == 0
    assert history_hours({"web_history_hours": -3}) == 0
    assert history_hours({"web_history_hours": 10**6}) == MAX_HISTORY_HOURS
    from kat.clinic_profile import load_profile

    assert history_hours(load_profile()) > 0  # the shipped profile keeps for a while


def test_handoff_answer_gives_the_reply_time_in_the_widgets_language() -> None:
    from channels.socketio import handoff_answer

    profile = {"reply_time": "within one business day", "reply_time_es": "[placeholder]"}
    ticket = SimpleNamespace(urgent=False)
    assert handoff_answer(None, "en", profile) == {"open": False}
    assert handoff_answer(ticket, "en", profile) == {
        "open": True,
        "urgent": False,
        "reply_time": "within one business day",
    }
    assert handoff_answer(ticket, "es", profile)["reply_time"] is None  # placeholder
    assert handoff_answer(SimpleNamespace(urgent=True), "en", profile)["urgent"] is True


async def test_handoff_status_reads_the_store_at_most_once_per_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Questions close together wait for the interval and share one fresh read: never
    the answer of a read made before they were asked."""
    import asyncio

    from channels import socketio as channel

    monkeypatch.setattr(channel, "HANDOFF_STATUS_MIN_SECONDS", 0.3)
    monkeypatch.setattr(channel, "cached_profile", lambda: {"reply_time": "soon"})
    web = channel.SocketIOInput(session_secret=SECRET, cors_allowed_origins="http://x")
    web.sessions["sid"] = "s" * 43
    tickets: list = [None]
    reads: list = []

    def open_ticket(conversation: str) -> Any:
        reads.append(conversation)
        return tickets[0]

    monkeypatch.setattr(web, "open_ticket", open_ticket)
    sent: list = []

    async def send(answer: Dict[str, Any]) -> None:
        sent.append(answer)

    await web.answer_handoff_status("sid", "en", send)
    assert sent == [{"open": False}] and reads == ["web:" + "s" * 43]
    tickets[0] = SimpleNamespace(urgent=False)  # a ticket opens right after
    await asyncio.gather(
        *(web.answer_handoff_status("sid", "en", send) for _ in range(5))
    )
    assert len(reads) == 2  # one more read for the five questions
    assert sent[-1] == {"open": True, "urgent": False, "reply_time": "soon"}
    del web.sessions["sid"]  # a socket without a session learns nothing
    await web.answer_handoff_status("sid", "en", send)
    assert len(reads) == 2


async def test_a_custom_payload_reaches_the_chat_as_data() -> None:
    """domain.yml's utter_forgotten carries {"kat_forget_device": true} on socket.io:
    sent to the session's room as the event's data (Rasa's own output passes the keys
    to emit as keyword arguments, which raises TypeError)."""
    from channels.socketio import StaffReplyOutput, WebChatOutput

    class Server:
        def __init__(self) -> None:
            self.emitted: list = []

        async def emit(self, event: str, data: Any = None, room: Any = None) -> None:
            self.emitted.append((event, data, room))

    sio = Server()
    await WebChatOutput(sio, "bot_uttered").send_custom_json(  # type: ignore[arg-type]
        "session-1", {"kat_forget_device": True}
    )
    assert sio.emitted == [("bot_uttered", {"kat_forget_device": True}, "session-1")]
    assert issubclass(StaffReplyOutput, WebChatOutput)
