"""kat/rate_limit.py: sliding windows per client, on an injected clock."""

from __future__ import annotations

from kat.rate_limit import Limits, RateLimiter, client_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_messages_beyond_the_minute_limit_are_refused_until_the_window_moves() -> None:
    clock = Clock()
    limiter = RateLimiter(Limits(messages_per_minute=3, conversations_per_hour=9), clock)
    assert [limiter.allow("c", "conv") for _ in range(5)] == [True] * 3 + [False] * 2
    clock.now += 61
    assert limiter.allow("c", "conv")


def test_refused_messages_do_not_extend_the_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(Limits(messages_per_minute=2, conversations_per_hour=9), clock)
    limiter.allow("c", "x")
    limiter.allow("c", "x")
    for _ in range(50):
        clock.now += 1
        limiter.allow("c", "x")
    clock.now = 1000.0 + 60.5
    assert limiter.allow("c", "x")


def test_new_conversations_per_client_are_limited_but_old_ones_go_on() -> None:
    clock = Clock()
    limiter = RateLimiter(Limits(messages_per_minute=99, conversations_per_hour=2), clock)
    assert limiter.allow("ip", "a") and limiter.allow("ip", "b")
    assert not limiter.allow("ip", "c")
    assert limiter.allow("ip", "a")  # a conversation already going on continues
    assert limiter.allow("other-ip", "c")  # another client is not affected
    clock.now += 3601
    assert limiter.allow("ip", "c")


def test_the_table_of_clients_is_bounded() -> None:
    limiter = RateLimiter(Limits(5, 5), Clock(), max_clients=10)
    for n in range(100):
        limiter.allow(f"client-{n}", "x")
    assert len(limiter._messages) == 10 and len(limiter._conversations) == 10


def test_a_client_key_names_no_address() -> None:
    key = client_key("rest", "203.0.113.9")
    assert "203" not in key and len(key) == 16
    assert key == client_key("rest", "203.0.113.9")
    assert key != client_key("socketio", "203.0.113.9")
