"""Where the SMS channel remembers the numbered options it last sent to each patient.

With one Rasa process a dict is enough. With several (the production profile), the
patient's "2" may reach another process than the one that sent the options, so the
options live in Redis: ``KAT_REDIS_URL`` (``redis://host:6379/1``), or in the production
profile the ``KAT_REDIS_HOST``/``PORT``/``PASSWORD``/``DB`` it already sets. Keys hold a
hash of the sender (no phone number in Redis) and expire after a day.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from typing import Any, Dict, List, Mapping, Optional, Protocol

Buttons = List[Dict[str, Any]]
TTL_SECONDS = 24 * 3600


class OptionStore(Protocol):
    async def put(self, sender: str, buttons: Buttons) -> None:
        ...

    async def get(self, sender: str) -> Optional[Buttons]:
        ...

    async def discard(self, sender: str) -> None:
        ...


class MemoryOptionStore:
    """One process: a dict."""

    def __init__(self) -> None:
        self._options: Dict[str, Buttons] = {}

    async def put(self, sender: str, buttons: Buttons) -> None:
        self._options[sender] = list(buttons)

    async def get(self, sender: str) -> Optional[Buttons]:
        return self._options.get(sender)

    async def discard(self, sender: str) -> None:
        self._options.pop(sender, None)


class RedisOptionStore:
    """Shared by every Rasa process."""

    def __init__(self, url: str, prefix: str = "kat", ttl: int = TTL_SECONDS) -> None:
        from redis import asyncio as redis_asyncio  # type: ignore[import-untyped]

        self._redis = redis_asyncio.Redis.from_url(url, socket_timeout=5)
        self._prefix = prefix
        self._ttl = ttl

    def key(self, sender: str) -> str:
        digest = hashlib.sha256(sender.encode()).hexdigest()
        return f"{self._prefix}:sms_options:{digest}"

    async def put(self, sender: str, buttons: Buttons) -> None:
        await self._redis.set(self.key(sender), json.dumps(list(buttons)), ex=self._ttl)

    async def get(self, sender: str) -> Optional[Buttons]:
        raw = await self._redis.get(self.key(sender))
        return list(json.loads(raw)) if raw else None

    async def discard(self, sender: str) -> None:
        await self._redis.delete(self.key(sender))


def redis_url(env: Mapping[str, str]) -> Optional[str]:
    if env.get("KAT_REDIS_URL"):
        return env["KAT_REDIS_URL"]
    if env.get("KAT_PROFILE") == "production" and env.get("KAT_REDIS_HOST"):
        password = env.get("KAT_REDIS_PASSWORD") or ""
        auth = f":{urllib.parse.quote(password, safe='')}@" if password else ""
        host, port = env["KAT_REDIS_HOST"], env.get("KAT_REDIS_PORT") or "6379"
        return f"redis://{auth}{host}:{port}/{env.get('KAT_REDIS_DB') or '0'}"
    return None


def option_store(env: Optional[Mapping[str, str]] = None) -> OptionStore:
    env = os.environ if env is None else env
    url = redis_url(env)
    if url:
        return RedisOptionStore(url, prefix=env.get("KAT_REDIS_KEY_PREFIX") or "kat")
    return MemoryOptionStore()
