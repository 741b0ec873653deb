"""Staff auth: hashed passwords, sessions that end at logout, bearer tokens."""

from __future__ import annotations

from pathlib import Path

from kat.handoff_store import HandoffStore
from staff_inbox.auth import StaffAuth, check_password, hash_password


def test_password_hashes_are_salted_and_checked() -> None:
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first != second and "s3cret" not in first
    assert check_password("s3cret", first) and not check_password("wrong", first)
    assert not check_password("s3cret", "plain-text")


def test_sessions_end_at_logout_and_tokens_are_not_stored(tmp_path: Path) -> None:
    store = HandoffStore(f"sqlite:///{tmp_path / 'h.db'}")
    auth = StaffAuth(
        store, users={"nurse": hash_password("pw")}, api_token="machine-token"
    )
    assert auth.login("nurse", "bad") is None and auth.login("ghost", "pw") is None
    token = auth.login("nurse", "pw")
    assert token and auth.user_for_session(token) == "nurse"
    assert token not in (tmp_path / "h.db").read_bytes().decode("latin-1")
    auth.logout(token)
    assert auth.user_for_session(token) is None
    assert auth.user_for_bearer("Bearer machine-token") == "api"
    assert (
        auth.user_for_bearer("Bearer nope") is None and auth.user_for_bearer(None) is None
    )
