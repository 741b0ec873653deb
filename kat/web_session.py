"""Web chat sessions that nobody can guess or join: pure helpers, no Rasa imports.

The server issues every session id (``secrets.token_urlsafe``) together with a resume
token, ``HMAC-SHA256(server secret, session id)``. A browser tab keeps both and presents
them again after a reload or a reconnect; the server recomputes the token and compares it
in constant time. A client that only knows (or guesses) a session id gets a fresh session
instead, so it can never join another patient's conversation.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any, List, Optional, Tuple

# 32 random bytes: 43 URL-safe characters.
SESSION_ID_BYTES = 32
MIN_SECRET_LENGTH = 32
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")
_TOKEN = re.compile(r"^[0-9a-f]{64}$")


class WeakSecretError(ValueError):
    """The server secret is missing or too short to sign sessions."""


def check_secret(secret: Optional[str]) -> str:
    """The secret itself, or an error if it cannot protect sessions."""
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        raise WeakSecretError(
            f"the web session secret must be at least {MIN_SECRET_LENGTH} characters "
            "(set KAT_WEB_SESSION_SECRET; `make run` generates one into "
            "var/web_session_secret)"
        )
    return secret


def new_session_id() -> str:
    return secrets.token_urlsafe(SESSION_ID_BYTES)


def resume_token(secret: str, session_id: str) -> str:
    """HMAC-SHA256 of the session id under the server secret, as hex."""
    check_secret(secret)
    return hmac.new(
        secret.encode("utf-8"), session_id.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def is_valid(secret: str, session_id: Any, token: Any) -> bool:
    """True only for a well-formed session id with its own resume token."""
    if not isinstance(session_id, str) or not isinstance(token, str):
        return False
    if not _SESSION_ID.match(session_id) or not _TOKEN.match(token):
        return False
    return hmac.compare_digest(resume_token(secret, session_id), token)


def issue(secret: str) -> Tuple[str, str]:
    """A fresh session id and its resume token."""
    session_id = new_session_id()
    return session_id, resume_token(secret, session_id)


def resume_or_issue(secret: str, requested: Any) -> Tuple[str, str, bool]:
    """The session a client may have: ``(session_id, token, resumed)``.

    ``requested`` is the client's ``session_request`` payload. Its session is resumed
    only with the right token; anything else (no payload, a bare session id, a wrong
    token, a malformed value) gets a new session.
    """
    if isinstance(requested, dict):
        session_id = requested.get("session_id")
        token = requested.get("resume_token")
        if is_valid(secret, session_id, token):
            return str(session_id), str(token), True
    session_id, token = issue(secret)
    return session_id, token, False


def parse_origins(value: Optional[str]) -> List[str]:
    """Allowed browser origins from a comma- or space-separated list.

    Each must be a bare ``scheme://host[:port]`` origin (no path, no wildcard), so a
    typo cannot silently allow every site.
    """
    origins: List[str] = []
    for item in re.split(r"[,\s]+", value or ""):
        item = item.strip().rstrip("/")
        if not item:
            continue
        if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", item):
            raise ValueError(f"not an origin (scheme://host[:port]): {item!r}")
        origins.append(item)
    return origins
