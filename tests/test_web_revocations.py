"""Withdrawn web chat tokens (kat/web_revocations.py): a dict in one process, Redis
(the real one on 127.0.0.1) across processes; and the socket.io channel's use of them
(channels/socketio.py: ended_session, keep_withdrawal, SocketIOInput.resume)."""

from __future__ import annotations

import time
import uuid
from typing import Any, Dict

import pytest

from kat.web_revocations import (
    NOTHING,
    UNREADABLE,
    MemoryRevocations,
    RedisRevocations,
    Revocations,
    Withdrawn,
    revocations,
)
from kat.web_session import issue
from tests import services

SECRET = "unit-test-web-session-secret-0123456789abcdef"
REDIS = f"redis://{services.REDIS_HOST}:{services.REDIS_PORT}/15"


def test_what_a_withdrawal_refuses() -> None:
    assert not NOTHING.refuses_resume() and not NOTHING.refuses_keep(1)
    ended = Withdrawn(ended=True)
    assert ended.refuses_resume() and ended.refuses_keep(10**12)
    keep = Withdrawn(keep_until=1000)
    assert not keep.refuses_resume()
    assert keep.refuses_keep(999) and keep.refuses_keep(1000)
    assert not keep.refuses_keep(1001)  # issued after the withdrawal
    both = keep.merged(Withdrawn(keep_until=500)).merged(ended)
    assert both == Withdrawn(ended=True, keep_until=1000)
    assert UNREADABLE.refuses_resume()


async def withdraws_for_one_session_only(store: Revocations, other: Revocations) -> None:
    session, neighbour = uuid.uuid4().hex, uuid.uuid4().hex
    assert await other.withdrawn(session) == NOTHING
    await store.withdraw(session, Withdrawn(keep_until=2000))
    await store.withdraw(session, Withdrawn(keep_until=1500))  # never moves back
    assert await other.withdrawn(session) == Withdrawn(keep_until=2000)
    await other.withdraw(session, Withdrawn(ended=True))
    assert await store.withdrawn(session) == Withdrawn(ended=True, keep_until=2000)
    assert await store.withdrawn(neighbour) == NOTHING


async def test_in_one_process() -> None:
    store = MemoryRevocations()
    await withdraws_for_one_session_only(store, store)


async def test_an_entry_is_dropped_after_its_age(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryRevocations(max_age=60)
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    await store.withdraw("old", Withdrawn(ended=True))
    clock[0] += 59
    assert (await store.withdrawn("old")).ended
    clock[0] += 2
    assert await store.withdrawn("old") == NOTHING
    await store.withdraw("new", Withdrawn(ended=True))  # prunes the old one
    assert "old" not in store._entries


async def test_across_processes_in_redis() -> None:
    services.require("redis")
    prefix = f"kat-test-{uuid.uuid4().hex}"
    store, other = RedisRevocations(REDIS, prefix), RedisRevocations(REDIS, prefix)
    session = uuid.uuid4().hex
    await withdraws_for_one_session_only(store, other)
    await store.withdraw(session, Withdrawn(ended=True))
    # Under a hash of the session id, with the keep tokens' lifetime as its expiry.
    from redis import asyncio as redis_asyncio  # type: ignore[import-untyped]

    raw = redis_asyncio.Redis.from_url(REDIS)
    keys = [k.decode() for k in await raw.keys(f"{prefix}:*")]
    assert keys and not any(session in k for k in keys)
    ttl = await raw.ttl(store.key(session))
    assert 29 * 24 * 3600 < ttl <= 30 * 24 * 3600
    for key in keys:
        await raw.delete(key)
    await raw.close()


async def test_redis_that_cannot_be_read_refuses() -> None:
    store = RedisRevocations("redis://127.0.0.1:1/0", "kat-test")
    assert await store.withdrawn("any") == UNREADABLE


def test_the_store_follows_the_channels_redis() -> None:
    assert isinstance(revocations(None), MemoryRevocations)
    assert isinstance(revocations(REDIS, "p"), RedisRevocations)


def test_what_a_session_request_ends() -> None:
    from channels.socketio import ended_session, issue_keep

    current, _ = issue(SECRET)
    other, other_token = issue(SECRET)
    assert ended_session(SECRET, {"end": True}, current, 24) == current
    assert ended_session(SECRET, {"end": True}, None, 24) is None
    assert ended_session(SECRET, {}, current, 24) is None
    assert ended_session(SECRET, None, current, 24) is None
    proven = {"session_id": other, "resume_token": other_token}
    assert ended_session(SECRET, {"end": proven}, current, 24) == other
    kept = {"session_id": other, **issue_keep(SECRET, other, 24)}
    assert ended_session(SECRET, {"end": kept}, None, 24) == other
    # Ending someone else's session needs its token.
    for forged in (
        {"session_id": other},
        {"session_id": other, "resume_token": "0" * 64},
        {"session_id": other, "keep_token": "0" * 64, "keep_until": kept["keep_until"]},
        "yes",
        1,
    ):
        assert ended_session(SECRET, {"end": forged}, current, 24) is None


def test_a_keep_withdrawal_refuses_the_tokens_issued_until_then() -> None:
    from channels.socketio import issue_keep, keep_withdrawal

    now = 1_800_000_000.0
    withdrawn = keep_withdrawal(24, now=now)
    before = issue_keep(SECRET, "s", 24, now=now - 3600)["keep_until"]
    same_second = issue_keep(SECRET, "s", 24, now=now)["keep_until"]
    after = issue_keep(SECRET, "s", 24, now=now + 1)["keep_until"]
    assert withdrawn.refuses_keep(before) and withdrawn.refuses_keep(same_second)
    assert not withdrawn.refuses_keep(after)


@pytest.fixture
def channel() -> Any:
    from channels.socketio import SocketIOInput

    return SocketIOInput(session_secret=SECRET, cors_allowed_origins="http://x.test")


async def test_the_channel_resumes_only_what_is_not_withdrawn(channel: Any) -> None:
    from channels.socketio import issue_keep

    session, token = issue(SECRET)
    tab = {"session_id": session, "resume_token": token}
    kept: Dict[str, Any] = {
        "session_id": session,
        **issue_keep(SECRET, session, 24, now=time.time() - 5),
    }
    assert await channel.resume(tab, 24) == (session, token, True)
    assert await channel.resume(kept, 24) == (session, token, True)

    await channel.revoked.withdraw(session, Withdrawn(keep_until=kept["keep_until"]))
    assert (await channel.resume(kept, 24))[0] != session
    assert await channel.resume(tab, 24) == (session, token, True)  # the tab goes on
    fresh = {"session_id": session, **issue_keep(SECRET, session, 24)}
    assert await channel.resume(fresh, 24) == (session, token, True)

    await channel.revoked.withdraw(session, Withdrawn(ended=True))
    for request in (tab, kept, fresh):
        new_session, new_token, resumed = await channel.resume(request, 24)
        assert new_session != session and not resumed
        assert new_token != token


async def test_forget_me_passing_through_withdraws_the_keep_tokens(
    channel: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from channels import socketio
    from channels.socketio import WebChatOutput, issue_keep

    monkeypatch.setattr(socketio, "history_hours", lambda: 24.0)

    sent = []

    class Server:
        async def emit(self, *args: Any, **kwargs: Any) -> None:
            sent.append((args, kwargs))

    session, _ = issue(SECRET)
    kept = {"session_id": session, **issue_keep(SECRET, session, 24, now=time.time() - 5)}
    output = WebChatOutput(Server(), "bot_uttered", channel.revoked)
    await output.send_custom_json(session, {"other": 1})
    assert (await channel.resume(kept, 24))[0] == session
    await output.send_custom_json(session, {"kat_forget_device": True})
    assert (await channel.resume(kept, 24))[0] != session
    assert len(sent) == 2
