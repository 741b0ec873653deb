"""The Rasa launcher keeps the JWT secret off the command line (scripts/rasa_run.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import rasa_run  # noqa: E402
from rasa_run import LaunchError, rasa_argv, without_folder  # noqa: E402

SECRET = "s" * 40


def test_adds_the_api_and_the_secret_from_the_environment() -> None:
    argv = rasa_argv(["run", "--port", "5005"], {"RASA_JWT_SECRET": SECRET})
    assert argv[:4] == ["rasa", "run", "--port", "5005"]
    assert argv[4:] == [
        "--enable-api",
        "--jwt-secret",
        SECRET,
        "--jwt-method",
        "HS256",
    ]


@pytest.mark.parametrize("secret", [None, "", "short-secret"])
def test_refuses_a_missing_or_short_secret(secret: str | None) -> None:
    environ = {} if secret is None else {"RASA_JWT_SECRET": secret}
    with pytest.raises(LaunchError, match="RASA_JWT_SECRET"):
        rasa_argv(["run"], environ)


@pytest.mark.parametrize(
    "arg",
    [
        "--jwt-secret",
        "--jwt-secret=abc",
        "--jwt",  # argparse would take the prefix
        "--auth-token",
        "--auth",
        "-t",
        "-tsecret",
        "--enable-api",
    ],
)
def test_refuses_secrets_or_the_api_switch_in_the_arguments(arg: str) -> None:
    with pytest.raises(LaunchError):
        rasa_argv(["run", arg, "x"], {"RASA_JWT_SECRET": SECRET})


def test_only_run() -> None:
    with pytest.raises(LaunchError, match="usage"):
        rasa_argv(["train"], {"RASA_JWT_SECRET": SECRET})
    with pytest.raises(LaunchError, match="usage"):
        rasa_argv([], {"RASA_JWT_SECRET": SECRET})


def test_other_options_pass_through() -> None:
    args = ["run", "--cors", "https://clinic.example", "--jwt-method", "HS256"]
    assert rasa_argv(args, {"RASA_JWT_SECRET": SECRET})[1:6] == args


def test_the_scripts_folder_leaves_the_import_path(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    paths = [str(scripts), str(tmp_path / "lib"), str(scripts) + "/", str(tmp_path)]
    assert without_folder(paths, scripts) == [str(tmp_path / "lib"), str(tmp_path)]


def test_check_only_checks_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """What scripts/run.sh runs before it starts any server."""
    monkeypatch.setenv("RASA_JWT_SECRET", SECRET)
    assert rasa_run.main(["check"]) is None  # returns without starting Rasa
    monkeypatch.setenv("RASA_JWT_SECRET", "short")
    with pytest.raises(SystemExit) as stopped:
        rasa_run.main(["check"])
    assert stopped.value.code == 2
