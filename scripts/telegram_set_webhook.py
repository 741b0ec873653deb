"""Register the Telegram webhook once, with its secret token (one-time set-up step).

Usage: TELEGRAM_ACCESS_TOKEN=... TELEGRAM_BOT_USERNAME=... TELEGRAM_WEBHOOK_URL=... \
       TELEGRAM_SECRET_TOKEN=... python scripts/telegram_set_webhook.py

Checks that the access token belongs to TELEGRAM_BOT_USERNAME (getMe), then calls
setWebhook with the URL and the secret token Telegram will send in the
X-Telegram-Bot-Api-Secret-Token header of every update
(channels/telegram.py rejects updates without it). Run it again after changing
the URL or rotating the secret. TELEGRAM_API_BASE replaces https://api.telegram.org
(tests only).
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, Mapping

import requests

NAMES = [
    "TELEGRAM_ACCESS_TOKEN",
    "TELEGRAM_BOT_USERNAME",
    "TELEGRAM_WEBHOOK_URL",
    "TELEGRAM_SECRET_TOKEN",
]


class SetupError(Exception):
    pass


def call(base: str, token: str, method: str, params: Dict[str, Any]) -> Any:
    try:
        reply = requests.post(f"{base}/bot{token}/{method}", json=params, timeout=30)
    except requests.RequestException as error:
        # The token is part of the URL: keep it out of the message.
        raise SetupError(f"{method} failed: {error}".replace(token, "<token>")) from None
    try:
        body = reply.json()
    except ValueError:
        body = {}
    if not reply.ok or not body.get("ok"):
        raise SetupError(
            f"{method} failed: {body.get('description') or reply.status_code}"
        )
    return body.get("result")


def register(env: Mapping[str, str]) -> str:
    missing = [name for name in NAMES if not env.get(name)]
    if missing:
        raise SetupError("set " + ", ".join(missing))
    base = env.get("TELEGRAM_API_BASE", "https://api.telegram.org").rstrip("/")
    token = env["TELEGRAM_ACCESS_TOKEN"]
    url = env["TELEGRAM_WEBHOOK_URL"]
    if not url.startswith("https://"):
        raise SetupError("TELEGRAM_WEBHOOK_URL must be an https:// URL")
    me = call(base, token, "getMe", {}) or {}
    expected = env["TELEGRAM_BOT_USERNAME"].lstrip("@")
    if me.get("username") != expected:
        raise SetupError(
            f"the access token belongs to @{me.get('username')}, not @{expected}"
        )
    call(
        base,
        token,
        "setWebhook",
        {
            "url": url,
            "secret_token": env["TELEGRAM_SECRET_TOKEN"],
            "allowed_updates": ["message", "edited_message", "callback_query"],
        },
    )
    return f"Telegram webhook for @{expected} set to {url} (with secret token)"


def main() -> None:
    try:
        print(register(os.environ))
    except SetupError as error:
        sys.exit(f"Telegram webhook not set: {error}")


if __name__ == "__main__":
    main()
