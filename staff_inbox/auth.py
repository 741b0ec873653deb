"""Staff authentication: salted PBKDF2 passwords, server-side sessions, API tokens.

Users come from ``KAT_STAFF_USERS`` ("name:pbkdf2_sha256$iterations$salt$hash", comma
separated, optionally with roles and a display name: staff_inbox/roles.py; make a hash
with ``python -m staff_inbox.hash_password``). Machines may use
``Authorization: Bearer <KAT_STAFF_API_TOKEN>``. A session token is random, stored only
as its SHA-256 in the database, expires, and is revoked at logout — a copied cookie
cannot be replayed after logout.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import timedelta
from typing import Dict, Optional

import sqlalchemy as sa

from kat.handoff_store import HandoffStore, metadata, utcnow
from staff_inbox.roles import API_ACCOUNT, Account, accounts_from_env, api_account

SESSION_HOURS = 8
ITERATIONS = 200_000

sessions = sa.Table(
    "staff_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(128), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False, default=False),
)


def hash_password(password: str, salt: Optional[str] = None) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), ITERATIONS)
    return f"pbkdf2_sha256${ITERATIONS}${salt}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        algorithm, iterations, salt, expected = stored.split("$")
    except ValueError:
        return False
    if algorithm != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), salt.encode(), int(iterations)
    )
    return hmac.compare_digest(digest.hex(), expected)


def users_from_env() -> Dict[str, str]:
    """Each account's password hash by name (staff_inbox/roles.py reads the rest)."""
    return {name: a.password_hash for name, a in accounts_from_env().items()}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffAuth:
    def __init__(
        self,
        store: HandoffStore,
        users: Optional[Dict[str, str]] = None,
        api_token: Optional[str] = None,
        accounts: Optional[Dict[str, Account]] = None,
    ) -> None:
        self.store = store
        # Accounts given as {name: hash} (tests, older callers) are clinicians.
        if accounts is None:
            accounts = (
                {name: Account(name, stored) for name, stored in users.items()}
                if users is not None
                else accounts_from_env()
            )
        self.accounts: Dict[str, Account] = accounts
        self.users = {name: a.password_hash for name, a in self.accounts.items()}
        self.api_token = (
            api_token if api_token is not None else os.environ.get("KAT_STAFF_API_TOKEN")
        )
        metadata.create_all(store.engine, tables=[sessions])

    def login(self, username: str, password: str) -> Optional[str]:
        stored = self.users.get(username)
        if not stored or not check_password(password, stored):
            return None
        token = secrets.token_urlsafe(32)
        with self.store.engine.begin() as conn:
            conn.execute(
                sessions.insert().values(
                    token_hash=_digest(token),
                    username=username,
                    expires_at=utcnow() + timedelta(hours=SESSION_HOURS),
                    revoked=False,
                )
            )
        return token

    def account(self, username: Optional[str]) -> Optional[Account]:
        """The account behind a logged-in name (the API token's is ``api``)."""
        if username == API_ACCOUNT and self.api_token:
            return api_account()
        return self.accounts.get(username or "")

    def logout(self, token: str) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(
                sessions.update()
                .where(sessions.c.token_hash == _digest(token))
                .values(revoked=True)
            )

    def user_for_session(self, token: Optional[str]) -> Optional[str]:
        if not token:
            return None
        with self.store.engine.connect() as conn:
            row = conn.execute(
                sa.select(sessions).where(sessions.c.token_hash == _digest(token))
            ).first()
        if row is None or row.revoked:
            return None
        expires = (
            row.expires_at
            if row.expires_at.tzinfo
            else row.expires_at.replace(tzinfo=utcnow().tzinfo)
        )
        return str(row.username) if expires > utcnow() else None

    def user_for_bearer(self, header: Optional[str]) -> Optional[str]:
        if not self.api_token or not header or not header.startswith("Bearer "):
            return None
        return (
            "api"
            if hmac.compare_digest(header[len("Bearer ") :], self.api_token)
            else None
        )
