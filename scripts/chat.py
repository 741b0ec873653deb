"""A terminal chat with the running assistant over its REST channel.

Usage: .venv/bin/python scripts/chat.py [--url http://127.0.0.1:5005]
"""

from __future__ import annotations

import argparse
import json
import secrets
import urllib.request


def send(url: str, sender: str, text: str) -> list[dict]:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return list(json.loads(response.read() or b"[]"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    args = parser.parse_args()
    sender = "terminal-" + secrets.token_hex(8)
    print("Type a message (Ctrl-D to quit).")
    while True:
        try:
            text = input("you> ")
        except EOFError:
            print()
            return
        for message in send(args.url, sender, text):
            if "text" in message:
                print(f"bot> {message['text']}")
            for i, button in enumerate(message.get("buttons", []), start=1):
                print(f"     [{i}] {button.get('title')}")


if __name__ == "__main__":
    main()
