"""Run the staff inbox: python -m staff_inbox [--host 127.0.0.1] [--port 8081]"""

from __future__ import annotations

import argparse
import os

from kat import ports
from kat.quiet import quiet_warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("KAT_INBOX_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("KAT_INBOX_PORT", ports.STAFF_INBOX)),
    )
    args = parser.parse_args()
    quiet_warnings()  # before the app's imports
    from staff_inbox.app import create_app

    create_app().run(host=args.host, port=args.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
