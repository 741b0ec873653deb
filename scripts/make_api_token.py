"""Print a short-lived JWT for Rasa's HTTP API, for curl:

    curl -H "Authorization: Bearer $(.venv/bin/python scripts/make_api_token.py)" \
        http://127.0.0.1:5005/status

The secret comes from RASA_JWT_SECRET, else var/rasa_jwt_secret (made by scripts/run.sh).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kat.api_token import DEFAULT_TTL_SECONDS, mint, secret_from_env  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ttl", type=int, default=DEFAULT_TTL_SECONDS, help="seconds")
    parser.add_argument("--username", default="cli")
    parser.add_argument(
        "--role", default="admin", help="admin, or user (own conversation only)"
    )
    args = parser.parse_args()
    secret = secret_from_env()
    if not secret:
        print(
            "no secret: set RASA_JWT_SECRET or run scripts/run.sh once", file=sys.stderr
        )
        return 1
    print(mint(secret, username=args.username, role=args.role, ttl_seconds=args.ttl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
