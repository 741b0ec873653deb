"""Production profile: wait for PostgreSQL and create the assistant's database if missing.

Reads KAT_DB_HOST, KAT_DB_PORT, KAT_DB_USER, KAT_DB_PASSWORD, KAT_DB_NAME and
KAT_DB_SSLMODE (scripts/env.sh gives them defaults) and connects to the maintenance
database ``postgres`` (KAT_DB_LOGIN_DB to change it). Tables are created by the services
themselves (Rasa's tracker store, the hand-off store).

Usage: python scripts/ensure_database.py [--timeout 60]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

import sqlalchemy as sa


def engine_for(database: str) -> sa.engine.Engine:
    url = sa.engine.URL.create(
        "postgresql",
        username=os.environ.get("KAT_DB_USER", "postgres"),
        password=os.environ.get("KAT_DB_PASSWORD") or None,
        host=os.environ.get("KAT_DB_HOST", "127.0.0.1"),
        port=int(os.environ.get("KAT_DB_PORT", "5432")),
        database=database,
        query={"sslmode": os.environ.get("KAT_DB_SSLMODE", "prefer")},
    )
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    name = os.environ.get("KAT_DB_NAME", "kat")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        print(f"KAT_DB_NAME {name!r} is not a plain identifier", file=sys.stderr)
        return 2
    engine = engine_for(os.environ.get("KAT_DB_LOGIN_DB", "postgres"))
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            with engine.connect() as conn:
                exists = conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": name},
                ).first()
                if not exists:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                    print(f"created database {name}")
            return 0
        except sa.exc.OperationalError as exc:
            if time.monotonic() > deadline:
                print(f"PostgreSQL not reachable: {exc.orig}", file=sys.stderr)
                return 1
            time.sleep(2)
        finally:
            engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
