"""Short-lived JWTs for Rasa's HTTP API (``rasa run --jwt-secret ... --jwt-method HS256``).

Rasa checks the signature and expiry (sanic-jwt), then the scope from the payload
(``rasa.server.requires_auth``): ``{"user": {"username": ..., "role": "admin"}}`` may call
every endpoint; role ``"user"`` only the conversation named by its username. The token
goes in an ``Authorization: Bearer`` header, never in the URL (``?token=`` would land in
access logs). One helper for the staff inbox, the e2e harness, the scripts and benchmarks.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Dict, Mapping, Optional

import jwt

ALGORITHM = "HS256"
DEFAULT_TTL_SECONDS = 300
# Shorter secrets make HS256 guessable offline from any captured token.
MIN_SECRET_LENGTH = 32


def mint(
    secret: str,
    username: str = "kat-service",
    role: str = "admin",
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: Optional[float] = None,
) -> str:
    """A signed HS256 token for Rasa's HTTP API, valid for ``ttl_seconds``."""
    if not secret:
        raise ValueError("no JWT secret (set RASA_JWT_SECRET)")
    issued = int(time.time() if now is None else now)
    payload = {
        "user": {"username": username, "role": role},
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def auth_header(secret: str, **claims: object) -> Dict[str, str]:
    """``{"Authorization": "Bearer <fresh token>"}`` for one request."""
    return {"Authorization": f"Bearer {mint(secret, **claims)}"}  # type: ignore[arg-type]


def secret_from_env(environ: Optional[Mapping[str, str]] = None) -> str:
    """RASA_JWT_SECRET, else the file scripts/run.sh generated (``$KAT_VAR_DIR``)."""
    env = os.environ if environ is None else environ
    secret = env.get("RASA_JWT_SECRET", "")
    if secret:
        return secret
    var_dir = env.get("KAT_VAR_DIR") or str(
        Path(__file__).resolve().parent.parent / "var"
    )
    path = Path(var_dir) / "rasa_jwt_secret"
    return path.read_text().strip() if path.exists() else ""
