"""Rasa's conversation locks, with a waiting message let through within tens of ms.

Rasa handles one message per conversation at a time: a message that arrives while the
previous one is still being answered takes a ticket and waits. Rasa 3.6's lock stores
look again only once a second (``wait_time_in_seconds=1``), so a patient who sends
three quick messages, the first of which needs the action server, got the second reply
a second late and the third two seconds late (measured over the web chat: 1,019 and
2,024 ms; now 41 and 95 ms; docs/performance.md). Here a waiting message looks again
after 25 ms, then after twice as long each time, up to Rasa's one second: prompt for
the usual short wait, and no busier than Rasa's own store when someone floods one
conversation with hundreds of messages (each waiting message soon looks only once a
second). Tickets, order and expiry are Rasa's own; only the pauses between looks
change.

endpoints.yml (embedded profile)::

    lock_store:
      type: components.lock_store.PromptInMemoryLockStore

endpoints.production.yml (the same keys as Rasa's ``type: redis``)::

    lock_store:
      type: components.lock_store.PromptRedisLockStore
      url: ${KAT_REDIS_HOST}
      port: ...
"""

from __future__ import annotations

import asyncio
from typing import Any, Iterator, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# Pauses between a waiting message's looks at the lock: 25 ms, 50, 100 ... up to 1 s.
FIRST_WAIT_SECONDS = 0.025
MAX_WAIT_SECONDS = 1.0


def pauses(
    first: float = FIRST_WAIT_SECONDS, most: float = MAX_WAIT_SECONDS
) -> Iterator[float]:
    """25 ms, 50 ms, 100 ms, ... then ``most`` for good."""
    pause = first
    while True:
        yield pause
        pause = min(pause * 2, most)


class PromptLocking:
    """Rasa's ``_acquire_lock`` loop (LockStore, Rasa 3.6) with growing pauses."""

    async def _acquire_lock(
        self, conversation_id: Text, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        store: Any = self
        waits = pauses(most=max(wait_time_in_seconds, FIRST_WAIT_SECONDS))
        while True:
            # Fetched on every look: the lock may have expired meanwhile.
            lock = store.get_lock(conversation_id)
            if not lock:
                break
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(next(waits))
            store.update_lock(conversation_id)
        raise LockError(
            f"Could not acquire lock for conversation_id '{conversation_id}'."
        )


class PromptInMemoryLockStore(PromptLocking, InMemoryLockStore):
    """Rasa's in-memory lock store (one Rasa process), prompt."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None) -> None:
        InMemoryLockStore.__init__(self)


class PromptRedisLockStore(PromptLocking, RedisLockStore):
    """Rasa's Redis lock store (several Rasa processes), prompt; configured with the
    same keys as ``type: redis``."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        RedisLockStore.__init__(self, host=endpoint_config.url, **endpoint_config.kwargs)
