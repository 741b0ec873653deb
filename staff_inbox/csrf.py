"""Cross-site request forgery defences of the staff inbox's API.

A page on another port of the same host forged staff replies in Chromium: ports do not
make another *site*, so the SameSite=Strict session cookie went with the forged
request, and a text/plain body (what an HTML form or a "simple" fetch can send without
a CORS preflight) was parsed as JSON. Three independent checks now stand in the way of
every state-changing request (``refusal``):

1. **JSON only** (415 otherwise). A browser sends ``application/json`` cross-origin
   only after a CORS preflight, which the inbox never grants.
2. **Same origin** (403 otherwise). ``Origin`` — or ``Referer`` when a browser sent no
   Origin — must be the inbox's own origin: the scheme, host and port the request was
   addressed to (its Host header), or one of ``KAT_INBOX_ORIGIN`` (space or comma
   separated; the public address behind a TLS proxy, where the Host the app sees is
   not the one staff type). ``Origin: null`` is another origin. A request with
   neither header is no browser's (Chromium sends Origin on every POST): it passes
   this check and meets the next one.
3. **CSRF token** for cookie sessions (403 otherwise): double-submit. The login sets
   ``kat_csrf``, a cookie the page's script can read, and every POST that comes with
   the session cookie must repeat it in ``X-CSRF-Token``. The token is an HMAC of
   the session token, so it is as random as the session, needs no storage, and a
   cookie planted by another port of the host (cookies ignore ports) cannot match it.
   Bearer-token callers are exempt: a browser never adds an Authorization header by
   itself. The login itself is exempt too (it makes no use of a session, and check 2
   covers it).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from typing import FrozenSet, Optional, Tuple
from urllib.parse import urlsplit

from sanic.request import Request

COOKIE = "kat_csrf"
HEADER = "X-CSRF-Token"
JSON_TYPE = "application/json"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def token_for(session_token: str) -> str:
    """The CSRF token of a session (what ``kat_csrf`` holds)."""
    return hmac.new(session_token.encode(), b"kat-csrf-v1", hashlib.sha256).hexdigest()


def normalise_origin(value: str) -> Optional[str]:
    """``scheme://host[:port]`` in lower case without a default port; None for
    anything that is no http(s) origin (``null``, a bare host name, garbage)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


def configured_origins(value: Optional[str] = None) -> FrozenSet[str]:
    """The origins in ``KAT_INBOX_ORIGIN``; a malformed one stops the app at start
    rather than refusing every request later."""
    raw = os.environ.get("KAT_INBOX_ORIGIN", "") if value is None else value
    origins = set()
    for entry in filter(None, re.split(r"[\s,]+", raw)):
        origin = normalise_origin(entry)
        if origin is None:
            raise ValueError(
                f"KAT_INBOX_ORIGIN: {entry!r} is not an origin like https://host[:port]"
            )
        origins.add(origin)
    return frozenset(origins)


def own_origin(request: Request) -> Optional[str]:
    return normalise_origin(f"{request.scheme}://{request.host}")


def _sent_origin(request: Request) -> Tuple[bool, Optional[str]]:
    """(whether the client named where the request came from, that origin)."""
    origin = request.headers.get("origin")
    if origin is not None:
        return True, normalise_origin(origin)
    referer = request.headers.get("referer")
    if referer is not None:
        return True, normalise_origin(referer)
    return False, None


def _same(a: Optional[str], b: Optional[str]) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def refusal(
    request: Request,
    allowed: FrozenSet[str],
    session_token: Optional[str],
    check_token: bool = True,
) -> Optional[Tuple[int, str]]:
    """(status, error) when the request must be refused, else None.

    ``session_token``: the session cookie's value when the request authenticates with
    it (None for bearer callers and anonymous requests). ``check_token``: False for
    the login."""
    if request.method not in STATE_CHANGING:
        return None
    content_type = (request.headers.get("content-type") or "").split(";")[0]
    if content_type.strip().lower() != JSON_TYPE:
        return 415, f"send the request body as {JSON_TYPE}"
    named, origin = _sent_origin(request)
    if named and (origin is None or origin not in allowed | {own_origin(request)}):
        return 403, "cross-origin request refused (Origin is not the inbox's origin)"
    if check_token and session_token:
        sent = request.headers.get(HEADER)
        if not (
            _same(sent, request.cookies.get(COOKIE))
            and _same(sent, token_for(session_token))
        ):
            return 403, f"missing or wrong CSRF token (send {HEADER})"
    return None
