"""Login throttling: a growing wait after repeated failures, per account and per address.

Without it, 40 wrong passwords were answered 401 at full speed and the right one then
worked at once. Now each account name and each client address has a failure count.
Up to ``free_failures`` failures cost nothing (people mistype); from then on each
failure starts a wait of ``base_seconds`` doubling with every further failure, capped
at ``cap_seconds`` (15 minutes). During a wait the login answers 429 with Retry-After
without checking the password — so guessing right is no help, and no PBKDF2 time is
spent — and does not count the attempt (hammering does not lengthen the wait). The
per-address count catches one client trying many names; the per-account count catches
many clients trying one name.

Never a lock-out for good: every wait ends, a success forgets both counts, and a key
quiet for ``FORGET_AFTER`` is forgotten. The price of a per-account count is that
someone who keeps failing as a user delays that user's own login by at most one wait;
the cap bounds it.

State is in memory, in the inbox process (it runs one worker): a restart forgets it,
and several inbox replicas would each keep their own counts. That is enough to turn a
fast guessing run into one a few guesses an hour; the hand-off database is not written
on every failed login. At most ``max_keys`` keys are kept (the oldest quiet ones go
first), so a run through many made-up names cannot grow memory without bound.

``clock`` is injectable (seconds, monotonic) so tests advance time instead of sleeping.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Dict, Tuple

Key = Tuple[str, str]  # ("user", name) or ("address", address)


@dataclass
class _Record:
    failures: int = 0
    blocked_until: float = 0.0
    last: float = 0.0


class LoginThrottle:
    FORGET_AFTER = 60 * 60.0  # a key quiet this long (and not waiting) is forgotten

    def __init__(
        self,
        free_failures: int = 5,
        base_seconds: float = 2.0,
        cap_seconds: float = 15 * 60.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_failures = free_failures
        self.base_seconds = base_seconds
        self.cap_seconds = cap_seconds
        self.max_keys = max_keys
        self.clock = clock
        self._records: Dict[Key, _Record] = {}

    def __len__(self) -> int:
        return len(self._records)

    @staticmethod
    def _keys(username: str, address: str) -> Tuple[Key, Key]:
        # Names are cut short: a megabyte "user name" is not kept as a key.
        return ("user", username[:128]), ("address", address)

    def _live(self, key: Key, now: float) -> _Record:
        record = self._records.get(key)
        if record is not None and self._forgotten(record, now):
            del self._records[key]
            record = None
        return record or _Record()

    def _forgotten(self, record: _Record, now: float) -> bool:
        return now >= record.blocked_until and now - record.last >= self.FORGET_AFTER

    def retry_after(self, username: str, address: str) -> int:
        """Whole seconds until a login for ``username`` from ``address`` is taken
        again; 0 when it may be tried now."""
        now = self.clock()
        wait = max(
            self._live(key, now).blocked_until - now
            for key in self._keys(username, address)
        )
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        for key in self._keys(username, address):
            record = self._live(key, now)
            record.failures += 1
            record.last = now
            beyond = record.failures - self.free_failures
            if beyond >= 0:
                wait = min(self.cap_seconds, self.base_seconds * 2 ** min(beyond, 32))
                record.blocked_until = now + wait
            self._records[key] = record
        self._bound(now)

    def succeeded(self, username: str, address: str) -> None:
        for key in self._keys(username, address):
            self._records.pop(key, None)

    def _bound(self, now: float) -> None:
        if len(self._records) <= self.max_keys:
            return
        for key in [k for k, r in self._records.items() if self._forgotten(r, now)]:
            del self._records[key]
        if len(self._records) > self.max_keys:
            # Keys not waiting go first, oldest first.
            by_age = sorted(
                self._records,
                key=lambda k: (
                    self._records[k].blocked_until > now,
                    self._records[k].last,
                ),
            )
            for key in by_age[: len(self._records) - self.max_keys]:
                del self._records[key]
