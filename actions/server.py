"""Launch the action server so that only Rasa can use it.

    python -m actions.server [--port 5055] [--host 127.0.0.1]

rasa_sdk's own ``rasa run actions`` binds 0.0.0.0, allows every CORS origin and has no
authentication. This builds the same app (``rasa_sdk.endpoint.create_app``) but binds
``KAT_ACTION_BIND`` (127.0.0.1 by default), sends no CORS headers, and answers
everything except ``/health`` only with the shared secret ``KAT_ACTION_SERVER_TOKEN`` in
the ``X-KAT-Action-Token`` header (Rasa sends it: endpoints.yml ``action_endpoint:
headers:``). Imports rasa_sdk only, never Rasa core.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
from typing import Any, Optional

from rasa_sdk import utils
from sanic import Sanic, response
from sanic.request import Request

from kat.quiet import quiet_warnings

HEADER = "X-KAT-Action-Token"
OPEN_PATHS = frozenset({"/health"})
logger = logging.getLogger(__name__)


def token_status(provided: Optional[str], expected: str) -> int:
    """200 if ``provided`` is the shared secret, 401 if missing, 403 if wrong."""
    if not provided:
        return 401
    if not expected or not hmac.compare_digest(provided.encode(), expected.encode()):
        return 403
    return 200


def build_app(token: str, actions_package: str = "actions") -> Sanic:
    if not token:
        raise ValueError("KAT_ACTION_SERVER_TOKEN is empty; refusing to start")
    from rasa_sdk.endpoint import create_app  # after quiet_warnings (main)

    app = create_app(actions_package, cors_origins=None)

    @app.middleware("request")
    async def require_token(request: Request) -> Any:
        if request.path in OPEN_PATHS:
            return None
        status = token_status(request.headers.get(HEADER), token)
        if status != 200:
            return response.json({"error": "not authorised"}, status=status)
        return None

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("KAT_ACTION_BIND", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("ACTION_PORT", "5055"))
    )
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args()
    quiet_warnings()  # before the actions package and its imports load
    utils.configure_colored_logging(os.environ.get("LOG_LEVEL", "INFO"))
    utils.update_sanic_log_level()
    app = build_app(os.environ.get("KAT_ACTION_SERVER_TOKEN", ""), args.actions)
    logger.info("Action server on http://%s:%s (token required)", args.host, args.port)
    app.run(host=args.host, port=args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
