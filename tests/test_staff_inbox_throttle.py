"""Login throttling (staff_inbox/throttle.py) against the real app.

40 wrong passwords were answered 401 at full speed and the right one then worked at
once. Now: after FREE failures for an account or from an address, 429 with Retry-After,
a wait that doubles up to a cap, forgotten on success; the wait always ends, so the real
user is never locked out for good. A fake clock stands in for time: nothing sleeps.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import AsyncIterator, Tuple

import httpx
import pytest

from staff_inbox.throttle import LoginThrottle
from tests.test_staff_inbox_app import PASSWORDS, Inbox, running_inbox

FREE = 5
WRONG = "not-the-password-7f3a"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def inbox(tmp_path: Path) -> AsyncIterator[Tuple[Inbox, FakeClock]]:
    clock = FakeClock()
    throttle = LoginThrottle(free_failures=FREE, clock=clock)
    async with running_inbox(tmp_path, throttle=throttle) as running:
        yield running, clock


async def login(
    inbox: Inbox, username: str, password: str, address: str = "127.0.0.1"
) -> httpx.Response:
    """A login from ``address`` (another loopback address is another client)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(base_url=inbox.url, transport=transport) as client:
        return await client.post(
            "/api/login",
            json={"username": username, "password": password},
            headers={"Origin": inbox.url},
        )


def retry_after(reply: httpx.Response) -> int:
    assert reply.status_code == 429, reply.text
    seconds = int(reply.headers["Retry-After"])
    assert reply.json()["retry_after"] == seconds and seconds > 0
    return seconds


async def test_429_after_the_free_failures_even_for_the_right_password(
    inbox: Tuple[Inbox, FakeClock],
) -> None:
    running, _ = inbox
    for _ in range(FREE):
        assert (await login(running, "nurse", WRONG)).status_code == 401
    retry_after(await login(running, "nurse", WRONG))
    # While the wait runs the password is not even checked: guessing right is no help.
    retry_after(await login(running, "nurse", PASSWORDS["nurse"]))


async def test_the_wait_grows_is_capped_and_then_lets_the_right_password_in(
    inbox: Tuple[Inbox, FakeClock],
) -> None:
    running, clock = inbox
    for _ in range(FREE):
        await login(running, "nurse", WRONG)
    waits = []
    for _ in range(14):
        wait = retry_after(await login(running, "nurse", WRONG))
        waits.append(wait)
        clock.advance(wait)  # the wait ends ...
        assert (await login(running, "nurse", WRONG)).status_code == 401  # ... one try
    assert waits[:4] == sorted(waits[:4]) and waits[1] == 2 * waits[0]
    assert max(waits) == 15 * 60 and waits[-1] == 15 * 60  # capped at 15 minutes
    clock.advance(retry_after(await login(running, "nurse", WRONG)) - 1)
    retry_after(await login(running, "nurse", PASSWORDS["nurse"]))  # not yet
    clock.advance(1)
    assert (await login(running, "nurse", PASSWORDS["nurse"])).status_code == 200
    # Success forgets the failures: the next mistake is an ordinary 401.
    assert (await login(running, "nurse", WRONG)).status_code == 401
    assert (await login(running, "nurse", PASSWORDS["nurse"])).status_code == 200


async def test_an_address_is_throttled_across_user_names(
    inbox: Tuple[Inbox, FakeClock],
) -> None:
    running, _ = inbox
    for name in ("admin", "root", "doctor", "staff", "nurse2"):
        assert (await login(running, name, WRONG, "127.0.0.2")).status_code == 401
    retry_after(await login(running, "nurse", PASSWORDS["nurse"], "127.0.0.2"))
    # The account itself is not blocked: the nurse at her own desk logs in.
    reply = await login(running, "nurse", PASSWORDS["nurse"], "127.0.0.3")
    assert reply.status_code == 200


async def test_an_account_is_throttled_across_addresses(
    inbox: Tuple[Inbox, FakeClock],
) -> None:
    running, _ = inbox
    for number in range(FREE):
        reply = await login(running, "doctor", WRONG, f"127.0.0.{10 + number}")
        assert reply.status_code == 401
    retry_after(await login(running, "doctor", PASSWORDS["doctor"], "127.0.0.99"))
    assert (await login(running, "nurse", PASSWORDS["nurse"])).status_code == 200


async def test_attempts_are_logged_without_the_password(
    inbox: Tuple[Inbox, FakeClock], caplog: pytest.LogCaptureFixture
) -> None:
    running, _ = inbox
    caplog.set_level(logging.DEBUG)
    for _ in range(FREE + 1):
        await login(running, "nurse", WRONG, "127.0.0.5")
    await login(running, "doctor", PASSWORDS["doctor"], "127.0.0.6")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("staff_inbox")]
    logins = [line for line in lines if "login" in line]
    assert sum("'nurse'" in x and "127.0.0.5" in x and "failed" in x for x in logins) == 5
    assert any("'nurse'" in x and "127.0.0.5" in x and "throttled" in x for x in logins)
    assert any("'doctor'" in x and "127.0.0.6" in x and "succeeded" in x for x in logins)
    assert WRONG not in caplog.text
    assert PASSWORDS["doctor"] not in caplog.text


def test_the_throttle_forgets_quiet_keys_and_stays_bounded() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(free_failures=2, clock=clock, max_keys=50)
    for number in range(500):
        throttle.failed(f"user{number}", "10.0.0.1")
    assert len(throttle) <= 50
    assert throttle.retry_after("anyone", "10.0.0.1") > 0  # the address is kept
    clock.advance(LoginThrottle.FORGET_AFTER + 15 * 60)
    assert throttle.retry_after("anyone", "10.0.0.1") == 0
    throttle.failed("someone", "10.0.0.2")
    assert throttle.retry_after("someone", "10.0.0.2") == 0  # one failure: no wait
