"""How much one client may ask of the assistant: pure helpers, no Rasa imports.

A client is a patient's device where the channel sees it (REST and the web chat: the
request's address), else the conversation itself (SMS, WhatsApp, Telegram, Messenger,
Slack, where the provider signs every request and one phone or account is one client).

Two sliding windows per client, kept in this process (each Rasa replica counts its own
share; the load balancer spreads a flood over them):

* ``KAT_RATE_MESSAGES_PER_MINUTE`` (default 30) messages;
* ``KAT_RATE_CONVERSATIONS_PER_HOUR`` (default 20) different conversations — a waiting
  room behind one address stays well inside it, a script opening a ticket a second
  does not.

A message beyond either is not processed; the channel answers it with
``utter_channel_rate_limited``, which gives the clinic's number and the crisis
resources, so a limit never withholds emergency help. Refused messages do not count,
so the window frees itself.

Hand-offs: beyond ``KAT_RATE_HANDOFFS_PER_HOUR`` (default 3) tickets from one client in
an hour, a new ticket is still opened (nothing a patient asked is lost, and the patient
gets the same reply, crisis resources included) but marked a suspected flood: it pages
nobody, and the staff inbox shows a client's suspected floods as one item
(actions/handoff.py, staff_inbox/app.py).

Clients are named by a keyed hash (:func:`client_key`), never by their address: the
key goes into the conversation's events (for the hand-off flood grouping), and an
address is personal data. The key is ``KAT_CLIENT_KEY_SECRET`` where several
processes must agree, else random per process.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Deque, Dict, Optional

MAX_CLIENTS = 50_000
MINUTE = 60.0
HOUR = 3600.0


@dataclass(frozen=True)
class Limits:
    messages_per_minute: int = 30
    conversations_per_hour: int = 20
    handoffs_per_hour: int = 3

    @classmethod
    def from_env(cls, environ: Optional[Dict[str, str]] = None) -> Limits:
        env = os.environ if environ is None else environ
        return cls(
            messages_per_minute=int(env.get("KAT_RATE_MESSAGES_PER_MINUTE", 30)),
            conversations_per_hour=int(env.get("KAT_RATE_CONVERSATIONS_PER_HOUR", 20)),
            handoffs_per_hour=int(env.get("KAT_RATE_HANDOFFS_PER_HOUR", 3)),
        )


@lru_cache(maxsize=1)
def _key_secret() -> bytes:
    configured = os.environ.get("KAT_CLIENT_KEY_SECRET", "")
    return configured.encode() if configured else secrets.token_bytes(32)


def client_key(channel: str, client: str) -> str:
    """A short keyed hash naming a client without revealing its address or id."""
    digest = hmac.new(_key_secret(), f"{channel}|{client}".encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


class RateLimiter:
    """Sliding-window counters per client (the module docstring)."""

    def __init__(
        self,
        limits: Optional[Limits] = None,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.limits = limits or Limits.from_env()
        self.clock = clock
        self.max_clients = max_clients
        self._messages: OrderedDict[str, Deque[float]] = OrderedDict()
        self._conversations: OrderedDict[str, OrderedDict[str, float]] = OrderedDict()

    def _sent(self, client: str) -> Deque[float]:
        if client not in self._messages:
            self._messages[client] = deque()
            while len(self._messages) > self.max_clients:
                self._messages.popitem(last=False)
        self._messages.move_to_end(client)
        return self._messages[client]

    def _seen(self, client: str) -> OrderedDict[str, float]:
        if client not in self._conversations:
            self._conversations[client] = OrderedDict()
            while len(self._conversations) > self.max_clients:
                self._conversations.popitem(last=False)
        self._conversations.move_to_end(client)
        return self._conversations[client]

    def allow(self, client: str, conversation: str) -> bool:
        """Count one message of ``client`` in ``conversation``; False if over a limit."""
        now = self.clock()
        sent = self._sent(client)
        while sent and sent[0] <= now - MINUTE:
            sent.popleft()
        seen = self._seen(client)
        while seen and next(iter(seen.values())) <= now - HOUR:
            seen.popitem(last=False)
        if len(sent) >= self.limits.messages_per_minute:
            return False
        if conversation not in seen and len(seen) >= self.limits.conversations_per_hour:
            return False
        sent.append(now)
        seen[conversation] = now
        seen.move_to_end(conversation)
        return True


_LIMITER: Dict[str, RateLimiter] = {}


def default_limiter() -> RateLimiter:
    """This process's limiter (limits from the environment at first use)."""
    if "limiter" not in _LIMITER:
        _LIMITER["limiter"] = RateLimiter()
    return _LIMITER["limiter"]
