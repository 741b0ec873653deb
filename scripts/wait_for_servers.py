"""Wait until the Rasa server has loaded its model and the action server answers."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main(rasa_url: str, action_url: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    # GET / answers only once the server is up; /webhooks/rest/ once the channel is.
    checks = [f"{rasa_url}/webhooks/rest/", f"{action_url}/health"]
    while time.monotonic() < deadline:
        if all(ready(url) for url in checks):
            return
        time.sleep(0.5)
    raise SystemExit(f"servers did not come up within {timeout:.0f}s: {checks}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
