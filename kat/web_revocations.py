"""Web chat tokens the server no longer accepts: ended chats and withdrawn keep tokens.

A web chat session is resumed with its resume token (kat/web_session.py) or, when the
patient ticked "Keep this chat on this device", with a keep token (channels/socketio.py).
Both are HMACs the server recomputes, so nothing is stored when one is issued and,
without this record, nothing could withdraw one. Two things withdraw tokens:

* **End chat** (``"end"`` in the widget's next ``session_request``): the session's
  resume and keep tokens are refused from then on, and a request that presents them
  gets a new session.
  The conversation itself stays on the server, where staff still see it, unless the
  patient also asked to forget it.
* **Forget me**, or unticking "Keep this chat on this device": every keep token issued
  until then is refused (those whose ``keep_until`` is not later than the recorded one).
  The open tab goes on with its resume token, and may ask for a new keep token.

With one Rasa process a dict is enough. With several (the production profile) the record
lives in Redis, shared by every process, under a hash of the session id (no session id in
Redis), for :data:`MAX_AGE_SECONDS`: as long as any keep token can live. A resume token
has no lifetime of its own; it lives in the tab's ``sessionStorage``, which End chat
clears, so after that time an ended session's id is forgotten here too.

If Redis cannot be read, a token is refused: the patient gets a new chat rather than a
withdrawn one back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Dict, Optional, Protocol, Tuple

logger = logging.getLogger(__name__)

# The longest a keep token can live (30 days): channels/socketio.py's MAX_HISTORY_HOURS
# is derived from it.
MAX_AGE_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class Withdrawn:
    """What has been withdrawn for one session."""

    ended: bool = False
    # Keep tokens whose keep_until is not later than this are refused.
    keep_until: int = 0

    def refuses_resume(self) -> bool:
        return self.ended

    def refuses_keep(self, until: int) -> bool:
        return self.ended or until <= self.keep_until

    def merged(self, other: Withdrawn) -> Withdrawn:
        return Withdrawn(
            ended=self.ended or other.ended,
            keep_until=max(self.keep_until, other.keep_until),
        )


NOTHING = Withdrawn()
# What a store that cannot be read answers: refuse.
UNREADABLE = Withdrawn(ended=True)


class Revocations(Protocol):
    async def withdraw(self, session_id: str, what: Withdrawn) -> None:
        ...

    async def withdrawn(self, session_id: str) -> Withdrawn:
        ...


class MemoryRevocations:
    """One process: a dict, its entries dropped after ``max_age`` seconds."""

    def __init__(self, max_age: float = MAX_AGE_SECONDS) -> None:
        self._entries: Dict[str, Tuple[Withdrawn, float]] = {}
        self._max_age = max_age

    def _prune(self, now: float) -> None:
        for key in [
            k for k, (_, at) in self._entries.items() if at + self._max_age <= now
        ]:
            del self._entries[key]

    async def withdraw(self, session_id: str, what: Withdrawn) -> None:
        now = time.monotonic()
        self._prune(now)
        before = self._entries.get(session_id, (NOTHING, now))[0]
        self._entries[session_id] = (before.merged(what), now)

    async def withdrawn(self, session_id: str) -> Withdrawn:
        entry = self._entries.get(session_id)
        if entry is None or entry[1] + self._max_age <= time.monotonic():
            return NOTHING
        return entry[0]


class RedisRevocations:
    """Shared by every Rasa process."""

    def __init__(
        self, url: str, prefix: str = "kat", max_age: int = MAX_AGE_SECONDS
    ) -> None:
        from redis import asyncio as redis_asyncio  # type: ignore[import-untyped]

        self._redis = redis_asyncio.Redis.from_url(url, socket_timeout=5)
        self._prefix = prefix
        self._max_age = max_age

    def key(self, session_id: str) -> str:
        digest = hashlib.sha256(session_id.encode()).hexdigest()
        return f"{self._prefix}:web_withdrawn:{digest}"

    async def withdraw(self, session_id: str, what: Withdrawn) -> None:
        before = await self._read(session_id)
        after = before.merged(what)
        value = json.dumps({"ended": after.ended, "keep_until": after.keep_until})
        await self._redis.set(self.key(session_id), value, ex=self._max_age)

    async def _read(self, session_id: str) -> Withdrawn:
        raw = await self._redis.get(self.key(session_id))
        if not raw:
            return NOTHING
        data = json.loads(raw)
        return Withdrawn(bool(data.get("ended")), int(data.get("keep_until") or 0))

    async def withdrawn(self, session_id: str) -> Withdrawn:
        try:
            return await self._read(session_id)
        except Exception as exc:  # noqa: BLE001 - unreadable: refuse (module docstring)
            logger.warning("web chat revocations not read: %s", type(exc).__name__)
            return UNREADABLE


def revocations(redis_url: Optional[str], prefix: str = "kat") -> Revocations:
    """Redis when the web chat's channel has one (several Rasa servers), else a dict."""
    if redis_url:
        return RedisRevocations(redis_url, prefix=prefix)
    return MemoryRevocations()
