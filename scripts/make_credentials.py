"""Write var/credentials.yml with only the channels whose ${ENV} variables are all set.

A setting whose variables are all OPTIONAL is left out of its channel when they are
unset (the channel stays on); Rasa would refuse a ``${VAR}`` it cannot fill.

Usage: python scripts/make_credentials.py [credentials.yml] [out.yml]
Prints the channels that are on. Values stay as ${VAR} references (Rasa reads the
environment itself), so no secret is written to disk.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def webhook_path(class_path: str) -> Optional[str]:
    """Where the provider is told to send its webhooks: the channel class says
    (channels/base.py ``PatientChannel.webhook_path``); None for the web chat."""
    module, _, name = class_path.rpartition(".")
    channel = getattr(importlib.import_module(module), name)
    path = getattr(channel, "webhook_path", None)
    return path() if callable(path) else None


# Settings a channel works without: Slack's channel filter (unset: the bot answers in
# any channel it is in), the web chat's Redis (unset: one Rasa server), REST's issued
# senders (unset: the client chooses its sender, for development).
OPTIONAL = {
    "SLACK_CHANNEL",
    "KAT_WEB_REDIS_URL",
    "KAT_WEB_REDIS_CHANNEL",
    "KAT_REST_SENDER_SECRET",
}


def referenced(value: Any) -> List[str]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in referenced(item)]
    if isinstance(value, list):
        return [v for item in value for v in referenced(item)]
    return _VAR.findall(value) if isinstance(value, str) else []


def active_channels(
    template: Dict[str, Any], env: Dict[str, str]
) -> Tuple[Dict[str, Any], List[str]]:
    """The channels to keep, and a line about each one left off."""
    kept: Dict[str, Any] = {}
    skipped: List[str] = []
    for name, block in template.items():
        if isinstance(block, dict):
            block = {
                key: value
                for key, value in block.items()
                if not (
                    referenced(value)
                    and all(v in OPTIONAL and not env.get(v) for v in referenced(value))
                )
            }
        missing = [v for v in referenced(block) if not env.get(v)]
        if missing:
            skipped.append(f"{name} (set {', '.join(missing)})")
        else:
            kept[name] = block
    return kept, skipped


def main() -> None:
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "credentials.yml")
    target = Path(sys.argv[2] if len(sys.argv) > 2 else "var/credentials.yml")
    template = yaml.safe_load(source.read_text()) or {}
    kept, skipped = active_channels(template, dict(os.environ))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump({k: v for k, v in kept.items()}, sort_keys=False))
    print("==> Channels on: " + ", ".join(kept))
    for name in kept:
        path = webhook_path(name)
        if path:
            print(f"    {name}: POST {path}")
    for line in skipped:
        print(f"    off: {line}")


if __name__ == "__main__":
    main()
