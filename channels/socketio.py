"""Rasa's socket.io channel with sessions nobody else can join (the web chat's channel).

Rasa's ``SocketIOInput`` lets any client that sends an existing ``session_id`` in
``session_request`` join that room and receive the replies, and takes the session id of
every message from the message itself. Here:

* the server issues each session id (``secrets.token_urlsafe``) with a resume token,
  ``HMAC-SHA256(secret, session_id)`` (kat/web_session.py); a client resumes a session
  (reload, reconnect) only with both, otherwise it gets a new session;
* the server keeps socket id -> session id, and a message belongs to the session of the
  socket it came on; a ``session_id`` inside the message is ignored;
* each socket is in one session room at a time, and leaves it on disconnect;
* browser origins are checked against ``cors_allowed_origins`` (never "any origin");
* client-supplied metadata is not passed on to the assistant.

The room is the session id; Rasa's conversation (sender) id is ``web:<session id>``
(channels/base.py, kat/conversation_id.py), so no other channel can address a web chat
patient. Replies sent later through the HTTP API (the staff inbox's ``trigger_intent``
with ``output_channel=socketio``) reach the open chat through the same room. The channel keeps the name ``socketio``
so domain response variants keyed by channel apply.

credentials.yml::

    channels.socketio.SocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_secret: ${KAT_WEB_SESSION_SECRET}
      cors_allowed_origins: ${KAT_WEB_ORIGINS}   # comma-separated origins
      redis_url: ${KAT_WEB_REDIS_URL}            # optional: several Rasa servers
      redis_channel: ${KAT_WEB_REDIS_CHANNEL}    # optional

With ``redis_url`` (the production profile sets it), replies made in another Rasa server
process — a staff reply that the load balancer hands to another replica — reach the
chat through Redis (channels/socketio_redis.py). Without it (one Rasa server) nothing
leaves the process.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Union

import rasa.core.channels.channel
from rasa.core.channels import socketio as rasa_socketio
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from channels.base import DeliveryFailed, PatientChannel
from channels.socketio_redis import JsonRedisManager
from kat.input_check import message_text
from kat.web_session import check_secret, parse_origins, resume_or_issue

logger = logging.getLogger(__name__)

# Largest socket.io packet accepted (engine.io's default is 1 MB).
MAX_PACKET_BYTES = 64 * 1024


class StaffReplyOutput(SocketIOOutput):
    """Rasa's socket.io output for replies made through Rasa's HTTP API (staff
    replies), which says when nobody would see them: with one Rasa server, a session
    room with no open socket is a closed web chat, and sending raises
    ``DeliveryFailed("web_chat_closed")`` so the inbox shows the reply as not
    delivered. Rasa's emits to the empty room and returns as if it had been shown.
    With several servers (Redis) the chat may be open on another one, which this
    process cannot see: it sends as Rasa's does (docs/security.md, Known gaps)."""

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        manager = self.sio.manager
        if not isinstance(manager, JsonRedisManager):
            try:  # Rasa emits on the default namespace
                open_chat = any(True for _ in manager.get_participants("/", socket_id))
            except KeyError:  # nobody has connected to it since the server started
                open_chat = False
            if not open_chat:
                raise DeliveryFailed("web_chat_closed")
        await super()._send_message(socket_id, response)


class SocketIOInput(PatientChannel, rasa_socketio.SocketIOInput):
    """Socket.io input whose sessions are issued and verified by the server."""

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        origins = credentials.get("cors_allowed_origins")
        return cls(
            session_secret=credentials.get("session_secret"),
            cors_allowed_origins=origins,
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            namespace=credentials.get("namespace"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            jwt_key=credentials.get("jwt_key"),
            jwt_method=credentials.get("jwt_method", "HS256"),
            redis_url=credentials.get("redis_url"),
            redis_channel=credentials.get("redis_channel"),
        )

    def __init__(
        self,
        session_secret: Optional[Text],
        cors_allowed_origins: Union[Text, List[Text], None],
        user_message_evt: Text = "user_uttered",
        bot_message_evt: Text = "bot_uttered",
        namespace: Optional[Text] = None,
        socketio_path: Optional[Text] = "/socket.io",
        jwt_key: Optional[Text] = None,
        jwt_method: Optional[Text] = "HS256",
        redis_url: Optional[Text] = None,
        redis_channel: Optional[Text] = None,
    ) -> None:
        super().__init__(
            user_message_evt=user_message_evt,
            bot_message_evt=bot_message_evt,
            namespace=namespace,
            session_persistence=True,
            socketio_path=socketio_path,
            jwt_key=jwt_key,
            jwt_method=jwt_method,
        )
        self.session_secret = check_secret(session_secret)
        if isinstance(cors_allowed_origins, list):
            cors_allowed_origins = ",".join(str(o) for o in cors_allowed_origins)
        self.cors_allowed_origins = parse_origins(cors_allowed_origins)
        if not self.cors_allowed_origins:
            # An empty list would switch python-engineio's origin check off entirely.
            raise ValueError(
                "cors_allowed_origins must list the web chat's origins "
                "(KAT_WEB_ORIGINS, e.g. http://127.0.0.1:8080)"
            )
        # socket id -> session id, and socket id -> the client's address, for the
        # sockets of this server process.
        self.sessions: Dict[Text, Text] = {}
        self.addresses: Dict[Text, Text] = {}
        self.redis_url = redis_url or None
        self.redis_channel = redis_channel or None

    @classmethod
    def webhook_path(cls) -> Optional[str]:
        return None  # a socket.io endpoint the widget opens, not a provider's webhook

    def get_output_channel(self) -> Optional[OutputChannel]:
        # Replies sent through Rasa's HTTP API (staff replies) to web:<session id>
        # go to the session's room.
        if self.sio is None:
            return None
        return self.patient_output(StaffReplyOutput(self.sio, self.bot_message_evt))

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.cors_allowed_origins,
            cors_credentials=False,
            max_http_buffer_size=MAX_PACKET_BYTES,
            client_manager=(
                JsonRedisManager(self.redis_url, self.redis_channel)
                if self.redis_url
                else None
            ),
        )
        socketio_webhook = SocketBlueprint(
            sio, self.socketio_path, "socketio_webhook", __name__
        )
        self.sio = sio
        namespace = self.namespace

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict]) -> bool:
            request = environ.get("sanic.request")
            self.addresses[sid] = str(getattr(request, "ip", "") or "")
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            payload = (
                rasa.core.channels.channel.decode_bearer_token(
                    token, self.jwt_key, self.jwt_algorithm
                )
                if token
                else None
            )
            return bool(payload)

        @sio.on("disconnect", namespace=namespace)
        async def disconnect(sid: Text) -> None:
            session_id = self.sessions.pop(sid, None)
            self.addresses.pop(sid, None)
            if session_id:
                sio.leave_room(sid, session_id, namespace=namespace)

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: Text, data: Any) -> None:
            session_id, token, resumed = resume_or_issue(self.session_secret, data)
            previous = self.sessions.get(sid)
            if previous and previous != session_id:
                sio.leave_room(sid, previous, namespace=namespace)
            self.sessions[sid] = session_id
            sio.enter_room(sid, session_id, namespace=namespace)
            if isinstance(data, dict) and data.get("session_id") and not resumed:
                logger.info("socket.io session not resumed (no valid token): new session")
            await sio.emit(
                "session_confirm",
                {"session_id": session_id, "resume_token": token},
                room=sid,
                namespace=namespace,
            )

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            session_id = self.sessions.get(sid)
            if session_id is None:
                logger.warning("socket.io message before session_request: ignored")
                return
            # Whatever arrives gets a calm reply: an empty or non-text message is
            # answered like any unreadable one (the safety gate's "not sure I
            # understood"); broken Unicode is repaired before it is stored; a number
            # is its digits — as on the REST channel (kat.input_check.message_text).
            text = message_text(data.get("message") if isinstance(data, dict) else None)
            # Capped, filed under web:<session id>, metadata dropped, a calm reply on
            # failure: channels/base.py.
            handle = self.guard(on_new_message, client_address=self.addresses.get(sid))
            await handle(
                UserMessage(
                    text,
                    SocketIOOutput(sio, self.bot_message_evt),
                    session_id,
                    input_channel=self.name(),
                )
            )

        return self.patient_blueprint(socketio_webhook)
