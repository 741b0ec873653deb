"""Start ``rasa run`` with the HTTP API's JWT secret from the environment, never argv.

Rasa 3.6 takes the secret only as ``--jwt-secret <secret>`` on its command line, and a
process's command line is readable by every user of the machine (``ps``,
``/proc/<pid>/cmdline``) and often lands in monitoring. This launcher reads
``RASA_JWT_SECRET``, adds ``--enable-api --jwt-secret <secret> --jwt-method HS256`` to
the arguments Rasa's own parser sees, and starts Rasa in this same process: the command
line the system shows is only what was typed (Python's ``sys.argv`` is a copy).

Usage (instead of ``rasa run ...``; every other ``rasa run`` option passes through)::

    RASA_JWT_SECRET=... python scripts/rasa_run.py run --model models/... --port 5005
    python scripts/rasa_run.py check     # only check RASA_JWT_SECRET (exit status 2 if not)

Used by scripts/run.sh, the end-to-end tests and the Rasa image
(deploy/docker/rasa.Dockerfile).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Mapping, Optional

SECRET_ENV = "RASA_JWT_SECRET"  # noqa: S105 - the variable's name, not a secret
MIN_SECRET_CHARS = 32
# Options that would put a secret on the command line, or open the API without one
# (argparse also takes any unambiguous prefix of a long option, and "-t<token>").
REFUSED = ("--jwt-secret", "--auth-token", "--enable-api")
# How long after its expiry a JWT is still accepted.
JWT_LEEWAY_SECONDS = 5


class LaunchError(ValueError):
    """The arguments or the environment would not start a safe server."""


def checked_secret(environ: Mapping[str, str]) -> str:
    """RASA_JWT_SECRET, if long enough to sign the API's tokens."""
    secret = environ.get(SECRET_ENV, "")
    if len(secret) < MIN_SECRET_CHARS:
        raise LaunchError(
            f"{SECRET_ENV} must hold at least {MIN_SECRET_CHARS} characters; "
            "not starting the HTTP API without it"
        )
    return secret


def rasa_argv(args: List[str], environ: Mapping[str, str]) -> List[str]:
    """The argv Rasa's CLI parses: ``rasa run <args> --enable-api --jwt-secret ...``."""
    if not args or args[0] != "run":
        raise LaunchError("usage: rasa_run.py run [rasa run options]")
    for arg in args[1:]:
        name = arg.split("=", 1)[0]
        long_prefix = name.startswith("--") and len(name) > 2
        if (long_prefix and any(o.startswith(name) for o in REFUSED)) or (
            name.startswith("-t") and not name.startswith("--")
        ):
            raise LaunchError(
                f"{name} is set by this launcher (the secret comes from {SECRET_ENV}); "
                "remove it from the arguments"
            )
    secret = checked_secret(environ)
    return [
        "rasa",
        *args,
        "--enable-api",
        "--jwt-secret",
        secret,
        "--jwt-method",
        "HS256",
    ]


def without_folder(paths: List[str], folder: Path) -> List[str]:
    """``sys.path`` without this script's own folder, which Python put first: the
    project's scripts must not shadow any module Rasa imports (as with the ``rasa``
    command, whose folder holds no modules)."""
    return [p for p in paths if Path(p or ".").resolve() != folder.resolve()]


def main(args: Optional[List[str]] = None) -> None:
    given = sys.argv[1:] if args is None else args
    try:
        if given == ["check"]:  # scripts/run.sh, before it starts anything
            checked_secret(os.environ)
            return
        argv = rasa_argv(given, os.environ)
    except LaunchError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    sys.argv = argv
    # sanic-jwt accepts a token for 180 s after it expired; ours live 5 minutes and
    # clocks here agree, so a few seconds (Sanic reads SANIC_* variables into its config).
    os.environ.setdefault("SANIC_SANIC_JWT_LEEWAY", str(JWT_LEEWAY_SECONDS))
    # A long message is read in a worker thread (channels/base.py); the event loop then
    # waits for the GIL each time it resumes, up to Python's switch interval (5 ms),
    # many times per request. 1 ms lets other patients' requests through sooner
    # (benchmarks/bench_long_messages.py; docs/performance.md).
    sys.setswitchinterval(float(os.environ.get("KAT_GIL_SWITCH_SECONDS", "0.001")))
    sys.path[:] = without_folder(sys.path, Path(__file__).parent)
    from kat.quiet import quiet_warnings

    quiet_warnings()
    from components import speedups

    # Before Rasa loads the model (fenced: components/speedups.py).
    speedups.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
