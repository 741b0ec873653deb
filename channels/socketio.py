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

Two things for the widget besides messages (docs/webchat-patient.md):

* "Keep this chat on this device": a ``keep_request`` (or ``"keep": true`` in the
  ``session_request``) gets a *keep token*, ``HMAC-SHA256(secret, "keep:<session
  id>:<until>")`` with ``until`` = now + ``web_history_hours`` (content/clinic_profile.yml),
  which the browser stores instead of the resume token. A later ``session_request`` with
  ``{"session_id", "keep_token", "keep_until"}`` resumes the session only before
  ``until`` and only if ``until`` is within ``web_history_hours`` of now (a shortened
  setting shortens old tokens too); after that the client gets a new session. Each new
  keep token moves ``until`` on: the copy lasts ``web_history_hours`` after the chat was
  last used. ``web_history_hours: 0`` switches keeping off.
* Withdrawing tokens (kat/web_revocations.py): End chat sends ``"end": true`` in its
  ``session_request`` (or, when it happened offline, ``"end": {"session_id",
  "resume_token"}`` of the ended session), and that session's resume and keep tokens are
  refused from then on. Unticking "Keep" (``keep_withdraw``, or ``"withdraw_keep":
  true`` in the next ``session_request``) and "forget me" (the ``kat_forget_device``
  reply passing through) refuse the session's keep tokens issued until then.
* ``handoff_status``: whether this socket's conversation has a hand-off ticket that is
  not resolved, read from the hand-off store (kat/handoff_store.py, read only), with the
  clinic's usual reply time; answered with a ``handoff_status`` event. Staff replies
  (``utter_staff_reply``) carry ``"from": "staff"`` so the widget can mark them.

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

import asyncio
import hashlib
import hmac
import logging
import os
import re
import time
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    List,
    Optional,
    Set,
    Text,
    Tuple,
    Union,
)

import rasa.core.channels.channel
from rasa.core.channels import socketio as rasa_socketio
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from channels.base import STAFF_UTTERANCES, DeliveryFailed, PatientChannel
from channels.socketio_redis import JsonRedisManager
from kat.clinic_profile import cached_profile, is_placeholder
from kat.input_check import message_text
from kat.web_revocations import MAX_AGE_SECONDS, Revocations, Withdrawn, revocations
from kat.web_session import (
    check_secret,
    is_valid,
    issue,
    parse_origins,
    resume_or_issue,
    resume_token,
)

logger = logging.getLogger(__name__)

# Largest socket.io packet accepted (engine.io's default is 1 MB).
MAX_PACKET_BYTES = 64 * 1024
# "Keep this chat on this device": at most this many hours, whatever the profile says.
MAX_HISTORY_HOURS = MAX_AGE_SECONDS // 3600  # 30 days (kat/web_revocations.py)
# A client clock a little ahead is not a reason to refuse a fresh keep token.
CLOCK_SLACK_SECONDS = 60
# handoff_status: at most one read of the hand-off store per socket in this many
# seconds; a client asking more often waits (SocketIOInput.answer_handoff_status).
HANDOFF_STATUS_MIN_SECONDS = 2.0
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def history_hours(profile: Optional[Dict[str, Any]] = None) -> float:
    """``web_history_hours`` from the clinic profile: 0 (keeping off) when missing or
    not a number, at most :data:`MAX_HISTORY_HOURS`."""
    if profile is None:
        profile = cached_profile()
    value = profile.get("web_history_hours", 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    return float(min(max(value, 0), MAX_HISTORY_HOURS))


def keep_token(secret: str, session_id: str, until: int) -> str:
    """The keep token of a session until ``until`` (epoch seconds): HMAC-SHA256 under
    the session secret of ``keep:<session id>:<until>`` — never equal to a resume token,
    whose message is the bare session id (which has no ``:``)."""
    check_secret(secret)
    message = f"keep:{session_id}:{until}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def issue_keep(
    secret: str, session_id: str, hours: float, now: Optional[float] = None
) -> Dict[str, Any]:
    """``{"keep_token", "keep_until"}`` for ``hours`` from ``now``."""
    until = int((time.time() if now is None else now) + hours * 3600)
    return {"keep_token": keep_token(secret, session_id, until), "keep_until": until}


def kept_session(
    secret: str, requested: Any, hours: float, now: Optional[float] = None
) -> Optional[str]:
    """The session id of a ``session_request`` that presents a valid, unexpired keep
    token, else None. ``keep_until`` must be in the future and no further ahead than
    ``hours`` allows today."""
    if hours <= 0 or not isinstance(requested, dict):
        return None
    session_id = requested.get("session_id")
    token = requested.get("keep_token")
    until = requested.get("keep_until")
    if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
        return None
    if not isinstance(token, str) or not _HEX64.match(token):
        return None
    if isinstance(until, bool) or not isinstance(until, int):
        return None
    now = time.time() if now is None else now
    if not now < until <= now + hours * 3600 + CLOCK_SLACK_SECONDS:
        return None
    if not hmac.compare_digest(keep_token(secret, session_id, until), token):
        return None
    return session_id


def keep_withdrawal(hours: float, now: Optional[float] = None) -> Withdrawn:
    """What refuses every keep token issued until ``now``: each was issued with
    ``keep_until`` = its time + ``hours`` (issue_keep), so none is later than this one."""
    now = time.time() if now is None else now
    return Withdrawn(keep_until=int(now + hours * 3600))


def ended_session(
    secret: str, requested: Any, current: Optional[str], hours: float
) -> Optional[str]:
    """The session a ``session_request`` ends: ``"end": true`` ends the socket's own
    session (``current``); ``"end": {...}`` a session the client proves it holds with
    its resume token or a valid keep token (End chat pressed while offline). Else None."""
    if not isinstance(requested, dict):
        return None
    end = requested.get("end")
    if end is True:
        return current
    if not isinstance(end, dict):
        return None
    if is_valid(secret, end.get("session_id"), end.get("resume_token")):
        return str(end["session_id"])
    return kept_session(secret, end, hours)


def profile_text(profile: Dict[str, Any], key: str) -> Optional[str]:
    """A profile value as text, None for a placeholder or a missing value."""
    value = profile.get(key)
    if not isinstance(value, str) or is_placeholder(value) or not value.strip():
        return None
    return value.strip()


def handoff_answer(ticket: Any, language: str, profile: Dict[str, Any]) -> Dict[str, Any]:
    """The ``handoff_status`` event for the conversation's unresolved ticket (or None):
    open or not, urgent or not, and the clinic's usual reply time in the widget's
    language (``reply_time``, ``reply_time_es``; None while a placeholder)."""
    if ticket is None:
        return {"open": False}
    key = "reply_time_es" if language == "es" else "reply_time"
    return {
        "open": True,
        "urgent": bool(getattr(ticket, "urgent", False)),
        "reply_time": profile_text(profile, key),
    }


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output, except for a response's ``custom`` payload. Rasa's
    passes its keys to ``AsyncServer.emit`` as keyword arguments, so a key emit does
    not take raises TypeError; here the payload is the event's data, sent to the
    session's room as text and buttons are: e.g. ``{"kat_forget_device": true}`` of
    domain.yml's ``utter_forgotten``, on which the widget clears its copy, and on which
    the session's keep tokens are withdrawn here too, not left to the widget."""

    def __init__(
        self, sio: Any, bot_message_evt: Text, revoked: Optional[Revocations] = None
    ) -> None:
        super().__init__(sio, bot_message_evt)
        self.revoked = revoked

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        if json_message.get("kat_forget_device") is True and self.revoked is not None:
            await self.revoked.withdraw(recipient_id, keep_withdrawal(history_hours()))
        await self._send_message(recipient_id, dict(json_message))


class StaffReplyOutput(WebChatOutput):
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

    async def send_text_message(
        self, recipient_id: Text, text: Text, **kwargs: Any
    ) -> None:
        """As Rasa's, with ``"from": "staff"`` on a staff member's reply, so the widget
        shows it as the clinic team's, not the assistant's (the text is the domain's
        ``utter_staff_reply``)."""
        if kwargs.get("utter_action") not in STAFF_UTTERANCES:
            await super().send_text_message(recipient_id, text, **kwargs)
            return
        for part in text.strip().split("\n\n"):
            await self._send_message(recipient_id, {"text": part, "from": "staff"})


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
        # handoff_status, per socket id: when the store was last read for it, whether
        # an answer is being made, and whether it was asked again meanwhile.
        self.handoff_read_at: Dict[Text, float] = {}
        self.handoff_busy: Set[Text] = set()
        self.handoff_again: Set[Text] = set()
        self._handoff_store: Any = None
        # Ended sessions and withdrawn keep tokens, shared through Redis when the
        # servers share the web chat's Redis (kat/web_revocations.py).
        self.revoked = revocations(
            self.redis_url, prefix=os.environ.get("KAT_REDIS_KEY_PREFIX") or "kat"
        )

    async def resume(self, requested: Any, hours: float) -> Tuple[str, str, bool]:
        """``(session_id, resume_token, resumed)`` for a ``session_request``: the
        device's kept copy within its lifetime, or the tab's session with its resume
        token, unless withdrawn (kat/web_revocations.py); else a new session."""
        kept = kept_session(self.session_secret, requested, hours)
        if kept is not None:
            withdrawn = await self.revoked.withdrawn(kept)
            if not withdrawn.refuses_keep(int(requested["keep_until"])):
                return kept, resume_token(self.session_secret, kept), True
        session_id, token, resumed = resume_or_issue(self.session_secret, requested)
        if resumed and (await self.revoked.withdrawn(session_id)).refuses_resume():
            session_id, token = issue(self.session_secret)
            resumed = False
        return session_id, token, resumed

    def open_ticket(self, conversation: str) -> Any:
        """The conversation's unresolved ticket (runs in a thread): the hand-off store
        is only read here (HandoffStore.open_ticket_for)."""
        if self._handoff_store is None:
            from kat.handoff_store import default_store

            self._handoff_store = default_store()
        return self._handoff_store.open_ticket_for(conversation)

    async def handoff_status_of(self, sid: Text, language: str) -> Dict[str, Any]:
        """The ``handoff_status`` answer for a socket's session, read now.
        ``{"open": null}`` when the store cannot be read: the widget then shows nothing
        new rather than guess."""
        session_id = self.sessions.get(sid)
        conversation = self.conversation_id(session_id) if session_id else None
        if conversation is None:
            return {"open": False}
        try:
            ticket = await asyncio.to_thread(self.open_ticket, conversation)
            return handoff_answer(ticket, language, cached_profile())
        except Exception as exc:  # noqa: BLE001 - the widget shows nothing new
            logger.warning("hand-off status not read: %s", type(exc).__name__)
            return {"open": None}

    async def answer_handoff_status(
        self, sid: Text, language: str, send: Callable[[Dict[str, Any]], Awaitable[Any]]
    ) -> None:
        """Answer a socket's ``handoff_status`` with at most one read of the store per
        :data:`HANDOFF_STATUS_MIN_SECONDS`: a question that comes sooner waits for the
        end of the interval, and questions that come while one waits get its answer —
        read after they were asked, so never an older one."""
        if sid in self.handoff_busy:
            self.handoff_again.add(sid)
            return
        self.handoff_busy.add(sid)
        try:
            while True:
                wait = self.handoff_read_at.get(sid, -1e9) + HANDOFF_STATUS_MIN_SECONDS
                wait -= time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                # Questions asked until now are answered by this read.
                self.handoff_again.discard(sid)
                self.handoff_read_at[sid] = time.monotonic()
                answer = await self.handoff_status_of(sid, language)
                if sid not in self.sessions:  # gone meanwhile
                    return
                await send(answer)
                if sid not in self.handoff_again:
                    return
        finally:
            self.handoff_busy.discard(sid)
            self.handoff_again.discard(sid)

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
            self.handoff_read_at.pop(sid, None)
            if session_id:
                sio.leave_room(sid, session_id, namespace=namespace)

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: Text, data: Any) -> None:
            hours = history_hours()
            previous = self.sessions.get(sid)
            ended = ended_session(self.session_secret, data, previous, hours)
            if ended is not None:  # End chat: its tokens are refused from now on
                await self.revoked.withdraw(ended, Withdrawn(ended=True))
            session_id, token, resumed = await self.resume(data, hours)
            if previous and previous != session_id:
                sio.leave_room(sid, previous, namespace=namespace)
            self.sessions[sid] = session_id
            sio.enter_room(sid, session_id, namespace=namespace)
            if isinstance(data, dict) and data.get("session_id") and not resumed:
                logger.info("socket.io session not resumed (no valid token): new session")
            if resumed and isinstance(data, dict) and data.get("withdraw_keep") is True:
                await self.revoked.withdraw(session_id, keep_withdrawal(hours))
            confirm: Dict[str, Any] = {
                "session_id": session_id,
                "resume_token": token,
                "keep_hours": hours,
            }
            if hours > 0 and isinstance(data, dict) and data.get("keep") is True:
                confirm.update(issue_keep(self.session_secret, session_id, hours))
            await sio.emit("session_confirm", confirm, room=sid, namespace=namespace)

        @sio.on("keep_withdraw", namespace=namespace)
        async def keep_withdraw(sid: Text, _: Any = None) -> None:
            # "Keep this chat on this device" unticked: the socket's own session only.
            session_id = self.sessions.get(sid)
            if session_id is not None:
                await self.revoked.withdraw(session_id, keep_withdrawal(history_hours()))

        @sio.on("keep_request", namespace=namespace)
        async def keep_request(sid: Text, _: Any = None) -> None:
            # Only for the socket's own session: the client names nothing.
            session_id = self.sessions.get(sid)
            if session_id is None:
                return
            hours = history_hours()
            answer: Dict[str, Any] = {"keep_hours": hours}
            if hours > 0:
                answer.update(issue_keep(self.session_secret, session_id, hours))
            await sio.emit("keep_confirm", answer, room=sid, namespace=namespace)

        @sio.on("handoff_status", namespace=namespace)
        async def handoff_status(sid: Text, data: Any = None) -> None:
            language = data.get("language") if isinstance(data, dict) else None
            answer = await self.handoff_status_of(sid, "es" if language == "es" else "en")
            await sio.emit("handoff_status", answer, room=sid, namespace=namespace)

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
                    WebChatOutput(sio, self.bot_message_evt, self.revoked),
                    session_id,
                    input_channel=self.name(),
                )
            )

        return self.patient_blueprint(socketio_webhook)
