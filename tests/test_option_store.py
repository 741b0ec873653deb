"""The SMS numbered-option memory: a dict in one process, Redis across processes."""

from __future__ import annotations

import socket
import uuid
from typing import AsyncIterator

import pytest

from kat.option_store import (
    MemoryOptionStore,
    OptionStore,
    RedisOptionStore,
    option_store,
    redis_url,
)

REDIS = "redis://127.0.0.1:6379/15"
BUTTONS = [
    {"title": "What is KAT?", "payload": "what is kat"},
    {"title": "Talk to a person", "payload": "/request_human"},
]


def redis_running() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


async def remembers_and_forgets(store: OptionStore, other: OptionStore) -> None:
    phone = "+1555" + uuid.uuid4().hex[:7]
    assert await store.get(phone) is None
    await store.put(phone, BUTTONS)
    assert await other.get(phone) == BUTTONS
    assert await store.get("+15550000000") is None
    await other.discard(phone)
    assert await store.get(phone) is None
    await store.discard(phone)  # discarding twice is fine


async def test_memory_store() -> None:
    store = MemoryOptionStore()
    await remembers_and_forgets(store, store)
    # Separate processes do not share a dict: that is why Redis exists.
    await store.put("+15551234567", BUTTONS)
    assert await MemoryOptionStore().get("+15551234567") is None


@pytest.fixture()
async def redis_stores() -> AsyncIterator[tuple]:
    if not redis_running():
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"kat-test-{uuid.uuid4().hex}"
    first, second = RedisOptionStore(REDIS, prefix), RedisOptionStore(REDIS, prefix)
    yield first, second
    keys = await first._redis.keys(f"{prefix}:*")
    if keys:
        await first._redis.delete(*keys)
    await first._redis.close()
    await second._redis.close()


async def test_redis_store_is_shared_expires_and_keeps_no_phone_number(
    redis_stores: tuple,
) -> None:
    first, second = redis_stores  # two processes' stores
    await remembers_and_forgets(first, second)
    phone = "+15557654321"
    await first.put(phone, BUTTONS)
    key = first.key(phone)
    assert phone not in key and "5557654321" not in key
    ttl = await first._redis.ttl(key)
    assert 0 < ttl <= 24 * 3600


def test_store_chosen_from_the_environment() -> None:
    assert isinstance(option_store({}), MemoryOptionStore)
    assert isinstance(option_store({"KAT_REDIS_URL": REDIS}), RedisOptionStore)
    assert redis_url({"KAT_REDIS_HOST": "db"}) is None  # only in the production profile
    production = {
        "KAT_PROFILE": "production",
        "KAT_REDIS_HOST": "cache",
        "KAT_REDIS_PORT": "6380",
        "KAT_REDIS_PASSWORD": "p@ss/word",
        "KAT_REDIS_DB": "1",
    }
    assert redis_url(production) == "redis://:p%40ss%2Fword@cache:6380/1"
    assert redis_url({**production, "KAT_REDIS_URL": REDIS}) == REDIS
