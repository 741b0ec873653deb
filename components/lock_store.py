"""Rasa's conversation locks, with a waiting message let through within 25 ms.

Rasa handles one message per conversation at a time: a message that arrives while the
previous one is still being answered takes a ticket and waits. Rasa 3.6's lock stores
look again only once a second (``wait_time_in_seconds=1``), so a patient who sends
three quick messages, the first of which needs the action server, got the second reply
a second late and the third two seconds late (measured over the web chat: 1,019 and
2,024 ms; README, Performance). Here the waiting message looks every 25 ms. Tickets,
order and expiry are Rasa's own; only the pause between looks changes.

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

from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# Seconds between a waiting message's looks at the lock. On Redis each look is a GET (and
# a SET when expired tickets are removed): a waiting message costs ~80 commands a second.
WAIT_SECONDS = 0.025


class PromptLocking:
    """``lock`` with Rasa's semantics and a 25 ms pause between attempts by default."""

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = WAIT_SECONDS,
    ) -> AsyncGenerator[TicketLock, None]:
        parent: Any = super()
        async with parent.lock(
            conversation_id, lock_lifetime, wait_time_in_seconds
        ) as ticket_lock:
            yield ticket_lock


class PromptInMemoryLockStore(PromptLocking, InMemoryLockStore):
    """Rasa's in-memory lock store (one Rasa process), prompt."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None) -> None:
        InMemoryLockStore.__init__(self)


class PromptRedisLockStore(PromptLocking, RedisLockStore):
    """Rasa's Redis lock store (several Rasa processes), prompt; configured with the
    same keys as ``type: redis``."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        RedisLockStore.__init__(self, host=endpoint_config.url, **endpoint_config.kwargs)
