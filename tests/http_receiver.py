"""A real HTTP server on 127.0.0.1 that records POSTs (webhook receivers, push channels)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple


class Receiver:
    """Records every POST; answers 503 to the first ``fail_first`` of them, then 200."""

    def __init__(
        self,
        fail_first: int = 0,
        reply_json: Any = None,
        ok_status: int = 0,
        port: int = 0,
        respond: Optional[Callable[[Dict[str, Any]], Optional[Tuple[int, Any]]]] = None,
    ) -> None:
        """``ok_status``: the success status (default 201 with a JSON reply, else 200).
        ``port``: a fixed port (e.g. one a service was told to use while it was down).
        ``respond(post)``: a status and JSON body for this post instead (a provider's
        error), or None for the usual answer."""
        self.fail_first = fail_first
        self.posts: List[Dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.posts.append(
                    {"body": body, "headers": dict(self.headers), "path": self.path}
                )
                ok = len(receiver.posts) > receiver.fail_first
                body_out = (
                    json.dumps(reply_json).encode() if reply_json is not None else b""
                )
                success = ok_status or (201 if body_out else 200)
                special = respond(receiver.posts[-1]) if respond else None
                if special is not None:
                    success, body_out, ok = (
                        special[0],
                        json.dumps(special[1]).encode(),
                        True,
                    )
                self.send_response(success if ok else 503)
                if body_out:
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body_out)))
                self.end_headers()
                if body_out:
                    self.wfile.write(body_out)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()

    def texts(self) -> List[str]:
        return [json.loads(p["body"]).get("text", "") for p in self.posts]

    def wait_for(self, needle: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for text in self.texts():
                if needle in text:
                    return text
            time.sleep(0.2)
        raise AssertionError(f"{needle!r} never arrived; got {self.texts()}")
