"""The JWT helper produces what Rasa's requires_auth and sanic-jwt accept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from kat.api_token import auth_header, mint, secret_from_env

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s" * 40


def test_payload_has_the_scope_rasa_reads_and_expires() -> None:
    token = mint(SECRET, username="inbox", ttl_seconds=60, now=1_000_000)
    payload = jwt.decode(
        token, SECRET, algorithms=["HS256"], options={"verify_exp": False}
    )
    assert payload["user"] == {"username": "inbox", "role": "admin"}
    assert payload["exp"] == 1_000_060
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, SECRET, algorithms=["HS256"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(mint(SECRET), "other" * 10, algorithms=["HS256"])


def test_header_is_bearer_and_an_empty_secret_is_refused() -> None:
    header = auth_header(SECRET)["Authorization"]
    assert header.startswith("Bearer ")
    assert jwt.decode(header[7:], SECRET, algorithms=["HS256"])["user"]["role"] == "admin"
    with pytest.raises(ValueError):
        mint("")


def test_secret_from_env_then_var_file(tmp_path: Path) -> None:
    assert (
        secret_from_env({"RASA_JWT_SECRET": "abc", "KAT_VAR_DIR": str(tmp_path)}) == "abc"
    )
    assert secret_from_env({"KAT_VAR_DIR": str(tmp_path)}) == ""
    (tmp_path / "rasa_jwt_secret").write_text("from-file\n")
    assert secret_from_env({"KAT_VAR_DIR": str(tmp_path)}) == "from-file"


def test_make_api_token_script_prints_a_valid_token(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_api_token.py"), "--ttl", "30"],
        env={"RASA_JWT_SECRET": SECRET, "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert jwt.decode(out, SECRET, algorithms=["HS256"])["user"]["role"] == "admin"
    missing = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_api_token.py")],
        env={"KAT_VAR_DIR": str(tmp_path), "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1
