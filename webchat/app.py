"""A small static server for the web chat: the widget, the socket.io client, a demo page.

Only a fixed list of files is served (no directory listing, no path from the URL reaches
the file system). Every response carries security headers; the demo page gets a strict
Content-Security-Policy: scripts only from this server, connections only to this server
and the Rasa server, no inline script (the widget's settings are a JSON data block).

The widget's strings, one file per language (web/i18n/<language>.json), are served from
here too, readable from any origin (public text, no credentials), so a clinic page on
another origin can embed the widget. ``/?lang=es`` shows the demo page with the widget
in Spanish. axe-core (web/node_modules, a devDependency) is never served: the
accessibility tests inject it themselves (docs/webchat-patient.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional
from urllib.parse import urlsplit

from aiohttp import web

from kat.clinic_profile import is_placeholder, load_profile

ROOT = Path(__file__).resolve().parent.parent
WEB_DIR = ROOT / "web"
SOCKET_IO_CLIENT = "node_modules/socket.io-client/dist/socket.io.min.js"

# URL path -> (file under web/, content type). Nothing else is served.
FILES: Dict[str, tuple[str, str]] = {
    "/widget.js": ("widget.js", "text/javascript; charset=utf-8"),
    "/widget.css": ("widget.css", "text/css; charset=utf-8"),
    "/demo.css": ("demo.css", "text/css; charset=utf-8"),
    "/vendor/socket.io.min.js": (SOCKET_IO_CLIENT, "text/javascript; charset=utf-8"),
    "/i18n/en.json": ("i18n/en.json", "application/json; charset=utf-8"),
    "/i18n/es.json": ("i18n/es.json", "application/json; charset=utf-8"),
}
# Readable by scripts of any origin (no credentials): the strings and the stylesheet.
CORS_FILES = frozenset(
    path for path in FILES if path.startswith("/i18n/") or path == "/widget.css"
)
# The languages the widget has strings for (web/i18n/), as the demo page's ?lang= takes them.
LANGUAGES = ("en", "es")

CONFIG_MARKER = "__KAT_CHAT_CONFIG__"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def rasa_origins(rasa_url: str) -> str:
    """The Rasa server's origin for connect-src, as http(s) and ws(s)."""
    parts = urlsplit(rasa_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"the Rasa URL must be http(s)://host[:port], not {rasa_url!r}")
    ws = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc} {ws}://{parts.netloc}"


def content_security_policy(rasa_url: str) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {rasa_origins(rasa_url)}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def widget_config(
    rasa_url: str, profile: Optional[Dict[str, Any]] = None
) -> Dict[str, Any]:
    """The demo page's widget settings, from the clinic profile (placeholders left out)."""
    if profile is None:
        profile = load_profile()

    def fact(key: str) -> Optional[str]:
        value = profile.get(key)
        if value is None or is_placeholder(value):
            return None
        return str(value).strip()

    return {
        "serverUrl": rasa_url.rstrip("/"),
        "clinicName": fact("name"),
        "clinicPhone": fact("phone"),
        "clinicHours": fact("hours"),
        "emergencyNumber": fact("emergency_number") or "911",
        "crisisLine": fact("crisis_line") or "988",
        "colors": {"primary": "#0b5394"},
        "open": True,
        # Shown next to "Keep this chat on this device" before the Rasa server has said
        # (channels/socketio.py reads the same key and decides).
        "historyHours": history_hours(profile),
    }


def history_hours(profile: Dict[str, Any]) -> float:
    value = profile.get("web_history_hours", 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return 0
    return value


def json_for_html(value: Any) -> str:
    """JSON that cannot end the <script type="application/json"> block it sits in."""
    return (
        json.dumps(value, ensure_ascii=True)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def create_app(
    rasa_url: str,
    web_dir: Path = WEB_DIR,
    profile: Optional[Dict[str, Any]] = None,
) -> web.Application:
    csp = content_security_policy(rasa_url)
    missing = [name for name, _ in FILES.values() if not (web_dir / name).is_file()]
    if missing:
        hint = " (run scripts/setup.sh: it installs web/node_modules with npm ci)"
        raise FileNotFoundError(
            f"missing in {web_dir}: {', '.join(missing)}"
            + (hint if SOCKET_IO_CLIENT in missing else "")
        )
    template = (web_dir / "index.html").read_text(encoding="utf-8")
    config = widget_config(rasa_url, profile)
    # The demo page as it is (the widget follows <html lang="en">), and with the widget
    # set to each other language in its settings block (/?lang=es).
    pages = {
        language: template.replace(
            CONFIG_MARKER,
            json_for_html(
                config if language == "en" else {**config, "language": language}
            ),
        )
        for language in LANGUAGES
    }

    @web.middleware
    async def security_headers(
        request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as error:
            response = error
        headers = response.headers
        headers["Content-Security-Policy"] = csp
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cache-Control"] = "no-cache"
        # The widget's files may be embedded in the clinic's own pages.
        headers["Cross-Origin-Resource-Policy"] = (
            "cross-origin" if request.path in FILES else "same-origin"
        )
        if request.path in CORS_FILES:
            # The widget fetch()es its strings, and checkers (axe-core) read its
            # stylesheet: public files, read without credentials.
            headers["Access-Control-Allow-Origin"] = "*"
        if request.path == "/":
            headers["X-Frame-Options"] = "DENY"
        return response

    async def index(request: web.Request) -> web.Response:
        page = pages.get(request.query.get("lang", "en"), pages["en"])
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def no_icon(_: web.Request) -> web.Response:
        return web.Response(status=204)

    async def static_file(request: web.Request) -> web.Response:
        name, content_type = FILES[request.path]
        return web.Response(
            body=(web_dir / name).read_bytes(), headers={"Content-Type": content_type}
        )

    app = web.Application(middlewares=[security_headers])
    app.router.add_get("/", index)
    app.router.add_get("/health", health)
    app.router.add_get("/favicon.ico", no_icon)
    for path in FILES:
        app.router.add_get(path, static_file)
    return app
