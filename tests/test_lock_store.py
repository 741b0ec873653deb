"""Conversation locks that let a waiting message through promptly
(components/lock_store.py): Rasa's tickets and order; pauses of 25 ms, 50, 100 ... up to
Rasa's 1 s instead of 1 s from the start. The Redis store runs against the real Redis on
127.0.0.1."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, List

import pytest
import rasa.core.lock_store as rasa_lock_store
from rasa.core.lock_store import InMemoryLockStore, LockStore
from rasa.utils.endpoints import EndpointConfig

from components.lock_store import (
    FIRST_WAIT_SECONDS,
    PromptInMemoryLockStore,
    PromptRedisLockStore,
)
from tests import services

# What a message waiting behind a long one asks for: growing, then Rasa's 1 s.
GROWING = [0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def redis_store() -> PromptRedisLockStore:
    services.require("redis")
    return PromptRedisLockStore(
        EndpointConfig(
            url=services.REDIS_HOST,
            port=services.REDIS_PORT,
            db=0,
            key_prefix=f"kattest{uuid.uuid4().hex[:8]}",
        )
    )


async def two_quick_messages(store: LockStore, monkeypatch: Any) -> List[float]:
    """The first message holds the conversation's lock for a while; the second arrives
    meanwhile. Returns the pauses the waiting message asked for, and checks the order."""
    pauses: List[float] = []
    real_sleep = asyncio.sleep

    async def recorded_sleep(seconds: float, *args: Any) -> None:
        pauses.append(seconds)
        await real_sleep(0.001)

    monkeypatch.setattr(rasa_lock_store.asyncio, "sleep", recorded_sleep)
    conversation = f"conv-{uuid.uuid4().hex}"
    order: List[str] = []
    first_holds = asyncio.Event()

    async def first() -> None:
        async with store.lock(conversation):
            first_holds.set()
            order.append("first in")
            # e.g. waiting for the action server; meanwhile the second message looks
            # again and again (each pause is 1 ms here, whatever it asked for)
            for _ in range(10):
                await real_sleep(0.01)
            order.append("first out")

    async def second() -> None:
        await first_holds.wait()
        async with store.lock(conversation):
            order.append("second in")

    await asyncio.gather(first(), second())
    assert order == ["first in", "first out", "second in"]
    return pauses


async def test_in_memory_store_looks_again_after_25_ms_then_less_often(
    monkeypatch: Any,
) -> None:
    pauses = await two_quick_messages(PromptInMemoryLockStore(), monkeypatch)
    assert pauses[0] == FIRST_WAIT_SECONDS
    assert pauses[: len(GROWING)] == GROWING[: len(pauses)]
    assert len(pauses) > len(GROWING) and set(pauses[len(GROWING) :]) == {1.0}


async def test_rasas_own_store_waits_a_second(monkeypatch: Any) -> None:
    """What this replaces (and why the test above can fail)."""
    pauses = await two_quick_messages(InMemoryLockStore(), monkeypatch)
    assert pauses and set(pauses) == {1}


async def test_redis_store_looks_again_after_25_ms_and_keeps_rasas_configuration(
    monkeypatch: Any,
) -> None:
    store = redis_store()
    assert store.key_prefix.startswith("kattest")
    pauses = await two_quick_messages(store, monkeypatch)
    assert pauses[: len(GROWING)] == GROWING[: len(pauses)] and pauses
    store.red.close()


def test_endpoints_use_the_prompt_stores() -> None:
    import yaml

    from tests.e2e.harness import ROOT

    embedded = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    production = yaml.safe_load((ROOT / "endpoints.production.yml").read_text())
    assert embedded["lock_store"]["type"] == (
        "components.lock_store.PromptInMemoryLockStore"
    )
    assert production["lock_store"]["type"] == (
        "components.lock_store.PromptRedisLockStore"
    )


@pytest.mark.parametrize("store_type", ["in_memory", "redis"])
def test_rasa_builds_them_from_the_endpoint_config(store_type: str) -> None:
    if store_type == "redis":
        services.require("redis")
        config = EndpointConfig(
            type="components.lock_store.PromptRedisLockStore",
            url=services.REDIS_HOST,
            port=services.REDIS_PORT,
            db=0,
            key_prefix="katbuild",
        )
        expected: type = PromptRedisLockStore
    else:
        config = EndpointConfig(type="components.lock_store.PromptInMemoryLockStore")
        expected = PromptInMemoryLockStore
    assert isinstance(LockStore.create(config), expected)
