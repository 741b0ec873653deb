"""Web-chat replies across several Rasa servers, through Redis, with JSON on the wire.

Each socket.io connection lives in one Rasa server process. A reply made in another
process — a staff reply sent through the HTTP API (``trigger_intent`` with
``output_channel=socketio``) that the load balancer hands to another replica — must still
reach the patient's open chat. python-socketio's ``AsyncRedisManager`` does that: every
emit is published on a Redis channel and each server delivers it to the sockets it holds.
Three things are changed here:

* **JSON, not pickle.** python-socketio publishes pickles and unpickles whatever arrives
  on the channel: anyone able to publish on the Redis server could run code inside
  Rasa. Here only JSON is published, and only JSON objects are passed on (which
  python-socketio takes as they are); anything else is dropped, never unpickled.
* **This server's sockets first.** python-socketio delivers even a local reply only
  after it has come back from Redis, so a Redis outage would silence every web chat —
  crisis replies included. Here the server delivers to its own sockets at once and
  publishes for the others; a message coming back from Redis with this server's id is
  skipped. A Redis outage then only delays replies made in another replica.
* **No busy loop without Redis.** python-socketio subscribes without retrying and
  restarts its listener at once when that fails; here the subscription is retried with
  a growing pause (1 s to 30 s).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, AsyncIterator, Dict, Optional

from redis.exceptions import RedisError  # type: ignore[import-untyped]
from socketio import AsyncRedisManager
from socketio.asyncio_manager import AsyncManager

logger = logging.getLogger(__name__)

DEFAULT_CHANNEL = "kat-webchat"
# A Redis that does not answer must not hold up a reply for long.
REDIS_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}


class JsonRedisManager(AsyncRedisManager):
    """``AsyncRedisManager``: JSON instead of pickle, local delivery first, retries."""

    def __init__(self, url: str, channel: Optional[str] = None) -> None:
        super().__init__(
            url, channel=channel or DEFAULT_CHANNEL, redis_options=dict(REDIS_OPTIONS)
        )

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: Optional[str] = None,
        room: Optional[str] = None,
        skip_sid: Any = None,
        callback: Any = None,
        **kwargs: Any,
    ) -> Any:
        if kwargs.get("ignore_queue") or callback is not None:
            # Acknowledgement callbacks keep python-socketio's own path (unused here).
            return await super().emit(
                event,
                data,
                namespace=namespace,
                room=room,
                skip_sid=skip_sid,
                callback=callback,
                **kwargs,
            )
        namespace = namespace or "/"
        await AsyncManager.emit(
            self, event, data, namespace=namespace, room=room, skip_sid=skip_sid
        )
        await self._publish(
            {
                "method": "emit",
                "event": event,
                "data": data,
                "namespace": namespace,
                "room": room,
                "skip_sid": skip_sid,
                "callback": None,
                "host_id": self.host_id,
            }
        )

    async def _handle_emit(self, message: Dict[str, Any]) -> None:
        if message.get("host_id") == self.host_id:
            return  # delivered to this server's sockets when it was sent
        await super()._handle_emit(message)

    async def _publish(self, data: Dict[str, Any]) -> Any:
        message = json.dumps(data)
        for attempt in (1, 2):
            try:
                return await self.redis.publish(self.channel, message)
            except RedisError as error:
                logger.error(
                    "web chat: publishing to Redis failed (%s, attempt %d); replies "
                    "made on this server reach only chats connected to it",
                    type(error).__name__,
                    attempt,
                )
                self._redis_connect()
        return None

    async def _listen(self) -> AsyncIterator[Dict[str, Any]]:
        pause = 1.0
        while True:
            try:
                await self.pubsub.subscribe(self.channel)
                break
            except (RedisError, OSError) as error:
                logger.error(
                    "web chat: cannot subscribe to Redis (%s); retrying in %.0f s",
                    type(error).__name__,
                    pause,
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
                self._redis_connect()
        channel = self.channel.encode("utf-8")
        async for message in self._redis_listen_with_retries():
            if (
                message.get("channel") != channel
                or message.get("type") != "message"
                or "data" not in message
            ):
                continue
            try:
                decoded = json.loads(message["data"])
            except (TypeError, ValueError):
                logger.warning("web chat: dropped a non-JSON message from Redis")
                continue
            if isinstance(decoded, dict):
                yield decoded
