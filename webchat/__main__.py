"""Serve the web chat widget and a demo clinic page.

python -m webchat [--host 127.0.0.1] [--port 8080] [--rasa-url http://127.0.0.1:5005]
"""

from __future__ import annotations

import argparse
import os

from aiohttp import web

from kat import ports
from kat.quiet import quiet_warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("KAT_WEB_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("KAT_WEB_PORT", ports.WEB_CHAT))
    )
    parser.add_argument(
        "--rasa-url",
        default=os.environ.get("KAT_WEB_RASA_URL")
        or os.environ.get("RASA_URL", "http://127.0.0.1:5005"),
        help="the Rasa server as the browser reaches it (socket.io channel)",
    )
    args = parser.parse_args()
    quiet_warnings()  # before the app's imports
    from webchat.app import create_app

    web.run_app(
        create_app(args.rasa_url),
        host=args.host,
        port=args.port,
        access_log=None,
        print=lambda *_: None,
    )


if __name__ == "__main__":
    main()
