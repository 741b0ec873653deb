"""The web chat's Redis manager (channels/socketio_redis.py), against the real Redis.

Two managers stand for two Rasa server processes. What each delivers to its own
sockets is recorded by replacing python-socketio's local delivery
(``AsyncManager.emit``, which would write to connected sockets) with a recorder; the
Redis traffic between them is real.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
import uuid
from typing import Any, AsyncIterator, Dict, List, Tuple

import pytest
from redis import asyncio as redis_asyncio
from socketio.asyncio_manager import AsyncManager

from channels.socketio_redis import JsonRedisManager
from tests import services

URL = f"redis://{services.REDIS_HOST}:{services.REDIS_PORT}/0"

Delivery = Tuple[str, str, Any, Any]  # (manager name, event, data, room)


class FakeServer:
    """What the manager needs of python-socketio's AsyncServer: background tasks and
    a logger."""

    def __init__(self) -> None:
        self.tasks: List[asyncio.Task] = []
        self.logger = logging.getLogger("tests.socketio")

    def start_background_task(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        task = asyncio.ensure_future(target(*args, **kwargs))
        self.tasks.append(task)
        return task


@pytest.fixture()
async def pair(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Tuple[JsonRedisManager, JsonRedisManager, List[Delivery], str]]:
    services.require("redis")
    delivered: List[Delivery] = []
    names: Dict[int, str] = {}

    async def local_delivery(self: Any, event: str, data: Any, **kwargs: Any) -> None:
        delivered.append((names[id(self)], event, data, kwargs.get("room")))

    monkeypatch.setattr(AsyncManager, "emit", local_delivery)
    channel = f"kat-test-{uuid.uuid4().hex}"
    managers = []
    for name in ("a", "b"):
        manager = JsonRedisManager(URL, channel)
        server = FakeServer()
        manager.set_server(server)
        manager.initialize()
        names[id(manager)] = name
        managers.append((manager, server))
    await wait_for_subscribers(channel, 2)
    yield managers[0][0], managers[1][0], delivered, channel
    for manager, server in managers:
        await stop(server)
        await manager.redis.close()


async def stop(server: FakeServer) -> None:
    for task in server.tasks:
        task.cancel()
    await asyncio.gather(*server.tasks, return_exceptions=True)


async def wait_for_subscribers(channel: str, count: int) -> None:
    client = redis_asyncio.Redis.from_url(URL)
    try:
        for _ in range(100):
            subscribed = dict(await client.pubsub_numsub(channel))
            if subscribed.get(channel.encode(), 0) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the managers did not subscribe")
    finally:
        await client.close()


async def settle(delivered: List[Delivery], count: int, timeout: float = 5) -> None:
    for _ in range(int(timeout / 0.02)):
        if len(delivered) >= count:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)  # and nothing more arrives


async def test_a_reply_reaches_both_servers_once_and_locally_first(pair: Any) -> None:
    a, b, delivered, _ = pair
    await a.emit("bot_uttered", {"text": "A nurse will call you."}, room="session-1")
    # Delivered to server a's own sockets before the emit returned (no Redis needed).
    assert delivered[0] == (
        "a",
        "bot_uttered",
        {"text": "A nurse will call you."},
        "session-1",
    )
    await settle(delivered, 2)
    # Server b got it through Redis; server a skipped its own message coming back.
    assert sorted(d[0] for d in delivered) == ["a", "b"]
    assert delivered[1] == (
        "b",
        "bot_uttered",
        {"text": "A nurse will call you."},
        "session-1",
    )


async def test_only_json_on_the_wire_and_pickles_are_never_loaded(
    pair: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, delivered, channel = pair
    client = redis_asyncio.Redis.from_url(URL)
    listener = client.pubsub()
    await listener.subscribe(channel)
    await a.emit("bot_uttered", {"text": "hi"}, room="s")
    raw = None
    for _ in range(100):
        message = await listener.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message:
            raw = message["data"]
            break
    assert raw is not None
    assert json.loads(raw)["data"] == {"text": "hi"}

    def no_unpickling(*_: Any, **__: Any) -> Any:
        raise AssertionError("pickle.loads called on a Redis message")

    monkeypatch.setattr(pickle, "loads", no_unpickling)
    await settle(delivered, 2)
    before = len(delivered)
    # What an attacker with access to Redis might publish: a pickle, or garbage.
    forged = {"method": "emit", "event": "bot_uttered", "data": {"text": "forged"}}
    await client.publish(channel, pickle.dumps(forged))
    await client.publish(channel, b"\x80\x04not json")
    await client.publish(channel, json.dumps(["not", "an", "object"]))
    await settle(delivered, before + 1, timeout=1)
    assert len(delivered) == before  # dropped, not delivered, not unpickled
    # The managers still work afterwards.
    await b.emit("bot_uttered", {"text": "still here"}, room="s")
    await settle(delivered, before + 2)
    assert [d[0] for d in delivered[before:]] == ["b", "a"]
    await listener.close()
    await client.close()


async def test_without_redis_the_local_chat_still_gets_its_replies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Redis outage must not silence the web chat (crisis replies included)."""
    delivered: List[Any] = []

    async def local_delivery(self: Any, event: str, data: Any, **kwargs: Any) -> None:
        delivered.append((event, data, kwargs.get("room")))

    monkeypatch.setattr(AsyncManager, "emit", local_delivery)
    # Nothing listens on port 1: every connection attempt is refused at once.
    manager = JsonRedisManager("redis://127.0.0.1:1/0", f"kat-test-{uuid.uuid4().hex}")
    server = FakeServer()
    manager.set_server(server)
    manager.initialize()
    crisis = {"text": "If you are in danger now, call 911."}
    await asyncio.wait_for(manager.emit("bot_uttered", crisis, room="s"), 10)
    assert delivered == [("bot_uttered", crisis, "s")]
    await asyncio.sleep(0.1)
    # The listener waits and retries instead of failing in a busy loop.
    assert all(not task.done() for task in server.tasks)
    await stop(server)
