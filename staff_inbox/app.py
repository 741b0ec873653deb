"""Sanic app of the staff inbox (the web framework that ships with Rasa)."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import aiohttp
from sanic import Sanic, response
from sanic.request import Request

from kat import delivery
from kat.api_token import auth_header, secret_from_env
from kat.audit import AuditLog
from kat.clinic_profile import cached_profile
from kat.conversation_id import url_segment
from kat.escalation import claim_minutes, is_overdue, run_escalations
from kat.handoff_store import (
    HandoffStore,
    IllegalTransition,
    Ticket,
    default_store,
    utcnow,
)
from kat.notify import retry_failed
from staff_inbox import csrf
from staff_inbox.auth import StaffAuth
from staff_inbox.json_body import BodyError, flag_field, json_object, text_field
from staff_inbox.review import add_review_routes
from staff_inbox.roles import Account
from staff_inbox.throttle import LoginThrottle

logger = logging.getLogger(__name__)

COOKIE = "kat_staff"
STATIC = Path(__file__).resolve().parent / "static"
# The page's own files, by name: nothing else under /static is served. (Sanic's
# app.static answered the folder itself with an IsADirectoryError — HTTP 500 and a
# traceback — and logged one for every "../" probe.)
STATIC_FILES = {path.name: path for path in STATIC.iterdir() if path.is_file()}
MAX_REPLY = 2000
RETRY_EVERY_SECONDS = 30.0
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class NotDelivered(RuntimeError):
    """Rasa, or the patient's channel, did not take a staff reply; ``reason`` is one of
    kat.delivery.REASONS."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(f"{reason} (Rasa answered HTTP {status})")
        self.reason = reason


class RasaClient:
    """Sends staff replies and hand-backs into the patient's conversation.

    Each call carries a fresh short-lived JWT signed with ``jwt_secret`` (RASA_JWT_SECRET)
    in the Authorization header; nothing secret goes into the URL.
    """

    def __init__(self, url: str, jwt_secret: str) -> None:
        self.url = url.rstrip("/")
        self.jwt_secret = jwt_secret

    async def trigger(
        self,
        conversation_id: str,
        intent: str,
        entities: Dict[str, Any],
        output_channel: str,
    ) -> None:
        """Trigger ``intent`` in the conversation; Rasa sends the bot's answer on
        ``output_channel`` — the ticket's channel, not "latest": the conversation's
        latest input channel need not be the one the patient is waiting on (a REST
        call into the same conversation id would divert the reply)."""
        # One path segment: an id such as "x/../<victim>" must never address another
        # conversation, and "web:<id>" must reach Rasa as it is (kat.conversation_id).
        endpoint = (
            f"{self.url}/conversations/{url_segment(conversation_id)}/trigger_intent"
        )
        params = {"output_channel": output_channel}
        headers = auth_header(self.jwt_secret, username="staff-inbox")
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=30)
        ) as session:
            async with session.post(
                endpoint,
                params=params,
                headers=headers,
                json={"name": intent, "entities": entities},
            ) as reply:
                if reply.status >= 300:
                    # A channel that could not deliver says why in Rasa's error
                    # message (kat/delivery.py).
                    reason = delivery.reason_in(await reply.text())
                    raise NotDelivered(reason or "assistant_error", reply.status)


def ticket_json(ticket: Ticket, full: bool = False) -> Dict[str, Any]:
    data: Dict[str, Any] = {
        # Urgent and unclaimed past urgent_claim_minutes (kat/escalation.py).
        "overdue": is_overdue(ticket, claim_minutes()),
        "id": ticket.id,
        "conversation_id": ticket.conversation_id,
        "channel": ticket.channel,
        "reason": ticket.reason,
        "urgent": ticket.urgent,
        "status": ticket.status,
        "created_at": ticket.created_at.isoformat() if ticket.created_at else None,
        "updated_at": ticket.updated_at.isoformat() if ticket.updated_at else None,
        "notification": ticket.notification,
        "claimed_by": ticket.claimed_by,
        "taken_over_from": ticket.taken_over_from,
        "suspected_flood": ticket.suspected_flood,
        "language": ticket.language or "en",
    }
    if full:
        data["transcript"] = ticket.transcript
        data["contact"] = ticket.contact
    return data


def reply_entities(text: str, account: Optional[Account]) -> Dict[str, Any]:
    """What the inbox sends with a staff reply: the text, and the staff member's
    display name only when the clinic profile shows names to patients."""
    entities: Dict[str, Any] = {"staff_message": text}
    if account is not None and cached_profile().get("staff_names_to_patients") is True:
        entities["staff_name"] = account.shown_as
    return entities


def contact_visible(account: Account, ticket: Ticket) -> bool:
    """Contact details are kept only with the patient's consent to be contacted (the
    contact form): clinicians see them; front desk staff only then, too
    (staff_inbox/roles.py)."""
    if ticket.contact is None:
        return False
    return account.can("contact") or account.can("consented_contact")


def flood_groups(tickets: Iterable[Ticket]) -> List[Dict[str, Any]]:
    """Suspected floods, one item per client: how many, how many urgent, since when."""
    groups: Dict[str, List[Ticket]] = {}
    for ticket in tickets:
        groups.setdefault(ticket.client_key or "", []).append(ticket)
    return [
        {
            "client_key": key,
            "tickets": len(group),
            "urgent": sum(1 for t in group if t.urgent),
            "channels": sorted({t.channel for t in group}),
            "first_at": min(t.created_at for t in group if t.created_at).isoformat(),
            "last_at": max(t.created_at for t in group if t.created_at).isoformat(),
            "ticket_ids": [t.id for t in group],
        }
        for key, group in groups.items()
    ]


def create_app(
    store: Optional[HandoffStore] = None,
    auth: Optional[StaffAuth] = None,
    rasa: Optional[RasaClient] = None,
    name: str = "staff_inbox",
    throttle: Optional[LoginThrottle] = None,
    audit_log: Optional[AuditLog] = None,
    tracker: Optional[Any] = None,
) -> Sanic:
    store = store or default_store()
    auth = auth or StaffAuth(store)
    audit_log = audit_log or AuditLog(store)
    rasa = rasa or RasaClient(
        os.environ.get("RASA_URL", "http://127.0.0.1:5005"),
        secret_from_env(),
    )
    if throttle is None:  # not `or`: an empty throttle has len() 0
        throttle = LoginThrottle()
    app = Sanic(name)
    secure_cookie = os.environ.get("KAT_INBOX_SECURE_COOKIE", "false").lower() == "true"

    def staff(request: Request) -> Optional[str]:
        return auth.user_for_bearer(
            request.headers.get("authorization")
        ) or auth.user_for_session(request.cookies.get(COOKIE))

    def denied() -> Any:
        return response.json({"error": "staff login required"}, status=401)

    def permitted(request: Request, permission: str) -> Tuple[Optional[Account], Any]:
        """(the account, None) if the logged-in account's roles allow ``permission``,
        else (None, the 401 or 403 to send)."""
        account = auth.account(staff(request))
        if account is None:
            return None, denied()
        if not account.can(permission):
            return None, response.json(
                {"error": f"your role does not allow this ({permission})"}, status=403
            )
        return account, None

    def staff_and_ticket(
        request: Request, ticket_id: str, permission: str = "tickets"
    ) -> Tuple[str, Ticket, Any]:
        """(user, ticket, None), or ("", None, the error response to send)."""
        account, refused = permitted(request, permission)
        if account is None:
            return "", None, refused  # type: ignore[return-value]
        user = account.name
        ticket = store.get(ticket_id)
        if ticket is None:
            missing = response.json({"error": "no such ticket"}, status=404)
            return "", None, missing  # type: ignore[return-value]
        return user, ticket, None

    allowed_origins = csrf.configured_origins()

    @app.middleware("request")
    async def refuse_forgery(request: Request) -> Any:
        """JSON only, same origin, and the CSRF token with a session (csrf.py)."""
        bearer = auth.user_for_bearer(request.headers.get("authorization"))
        refused = csrf.refusal(
            request,
            allowed_origins,
            session_token=None if bearer else request.cookies.get(COOKIE),
            check_token=request.path != "/api/login",
        )
        if refused is None:
            return None
        status, message = refused
        logger.warning(
            "refused %s %s (HTTP %s): %s; Origin %r",
            request.method,
            request.path,
            status,
            message,
            request.headers.get("origin"),
        )
        return response.json({"error": message}, status=status)

    def set_cookies(resp: Any, session_token: str) -> None:
        """The session (HttpOnly) and its CSRF token (readable by the page's script)."""
        for name, value, httponly in (
            (COOKIE, session_token, True),
            (csrf.COOKIE, csrf.token_for(session_token), False),
        ):
            resp.cookies[name] = value
            resp.cookies[name]["httponly"] = httponly
            resp.cookies[name]["samesite"] = "Strict"
            resp.cookies[name]["path"] = "/"
            if secure_cookie:
                resp.cookies[name]["secure"] = True

    @app.middleware("request")
    async def read_body(request: Request) -> None:
        """Every POST body is one JSON object (json_body.py), read before any handler."""
        if request.method == "POST":
            request.ctx.body = json_object(request.body or b"")

    @app.exception(BodyError)
    async def bad_body(request: Request, exc: BodyError) -> Any:
        return response.json({"error": str(exc)}, status=exc.status)

    @app.middleware("response")
    async def security_headers(request: Request, resp: Any) -> None:
        for key, value in SECURITY_HEADERS.items():
            resp.headers[key] = value

    @app.get("/")
    async def page(request: Request) -> Any:
        return await response.file(STATIC / "index.html")

    @app.get("/static/<name:str>", strict_slashes=True)
    async def static_file(request: Request, name: str) -> Any:
        path = STATIC_FILES.get(name)
        if path is None:
            return response.json({"error": "no such file"}, status=404)
        return await response.file(path)

    @app.get("/health")
    async def health(request: Request) -> Any:
        return response.json({"status": "ok"})

    @app.post("/api/login")
    async def login(request: Request) -> Any:
        body = request.ctx.body
        username, password = text_field(body, "username"), text_field(body, "password")
        # The client's address: Sanic's remote_addr when it is configured to trust a
        # proxy's forwarding headers, else the peer of the connection.
        address = request.remote_addr or request.ip
        wait = throttle.retry_after(username, address)
        if wait:
            logger.warning(
                "staff login throttled: user %r from %s (%s s)", username, address, wait
            )
            return response.json(
                {
                    "error": f"too many failed logins; try again in {wait} s",
                    "retry_after": wait,
                },
                status=429,
                headers={"Retry-After": str(wait)},
            )
        token = auth.login(username, password)
        if not token:
            throttle.failed(username, address)
            logger.warning("staff login failed: user %r from %s", username, address)
            return response.json({"error": "wrong user name or password"}, status=401)
        throttle.succeeded(username, address)
        logger.info("staff login succeeded: user %r from %s", username, address)
        resp = response.json({"ok": True})
        set_cookies(resp, token)
        return resp

    @app.post("/api/logout")
    async def logout(request: Request) -> Any:
        token = request.cookies.get(COOKIE)
        if token:
            auth.logout(token)
        resp = response.json({"ok": True})
        for name in (COOKIE, csrf.COOKIE):
            resp.cookies[name] = ""
            resp.cookies[name]["max-age"] = 0
            resp.cookies[name]["path"] = "/"
        return resp

    @app.get("/api/me")
    async def me(request: Request) -> Any:
        user = staff(request)
        account = auth.account(user)
        if not user or account is None:
            return denied()
        resp = response.json(
            {
                "user": user,
                "name": account.shown_as,
                "roles": sorted(account.roles),
            }
        )
        session = request.cookies.get(COOKIE)
        if (
            session
            and auth.user_for_session(session)
            and request.cookies.get(csrf.COOKIE) != csrf.token_for(session)
        ):
            # A session from before the CSRF token existed, or a cleared cookie: the
            # page calls /api/me first, so it gets its token back here.
            set_cookies(resp, session)
        return resp

    @app.get("/api/tickets")
    async def list_tickets(request: Request) -> Any:
        _, refused = permitted(request, "tickets")
        if refused:
            return refused
        status = request.args.get("status")
        tickets = [
            t for t in store.list_tickets(status) if status or t.status != "resolved"
        ]
        # A client's suspected floods (beyond its hand-off limit: kat/rate_limit.py)
        # are one item, so that they cannot bury a real crisis; ?floods=open lists
        # their tickets one by one.
        if request.args.get("floods") == "open":
            return response.json({"tickets": [ticket_json(t) for t in tickets]})
        return response.json(
            {
                "tickets": [ticket_json(t) for t in tickets if not t.suspected_flood],
                "floods": flood_groups(t for t in tickets if t.suspected_flood),
            }
        )

    @app.get("/api/tickets/<ticket_id>")
    async def get_ticket(request: Request, ticket_id: str) -> Any:
        user, ticket, error = staff_and_ticket(request, ticket_id)
        if error:
            return error
        account = auth.account(user)
        assert account is not None
        data = ticket_json(ticket, full=True)
        if contact_visible(account, ticket):
            audit_log.record(user, "view_contact", ticket.id)
        else:
            data["contact"] = None
        data["history"] = audit_log.rows(ticket.id)
        return response.json(data)

    @app.get("/api/audit")
    async def audit_trail(request: Request) -> Any:
        _, refused = permitted(request, "audit")
        return refused or response.json({"audit": audit_log.rows()})

    # Ownership: the claimer — recorded by a claim, or by the first reply or
    # resolution of a ticket nobody holds — is the only one who replies to or
    # resolves it. Anyone else gets 409 naming them, and may take the ticket over
    # only by saying so ({"take_over": true} on /claim), which is recorded and logged.
    def held_by_another(ticket: Ticket, action: str) -> Any:
        return response.json(
            {
                "error": f"ticket is claimed by {ticket.claimed_by}; only they can "
                f'{action} (claim it with {{"take_over": true}} to take it over)',
                "claimed_by": ticket.claimed_by,
            },
            status=409,
        )

    def hold(user: str, ticket: Ticket, action: str) -> Tuple[Ticket, Any]:
        """(the ticket, None) when ``user`` holds it — claiming it first if nobody
        does — else (the ticket, the 409 to send). A resolved ticket is held by
        nobody (``closed``)."""
        refusal = closed(ticket)
        if refusal:
            return ticket, refusal
        if ticket.claimed_by == user:
            return ticket, None
        if ticket.claimed_by is None:
            try:
                outcome = store.claim(ticket.id, user)
            except KeyError:  # removed meanwhile (retention)
                return ticket, response.json({"error": "no such ticket"}, status=404)
            if outcome.ok:
                logger.info("ticket %s claimed by %s", ticket.id, user)
                audit_log.record(user, "claim", ticket.id)
                return outcome.ticket, None
            ticket = outcome.ticket
        return ticket, held_by_another(ticket, action)

    def closed(ticket: Ticket) -> Any:
        """The 409 for an action on a resolved ticket, else None: a resolved ticket
        is never claimed, answered or resolved again (kat.handoff_store.TRANSITIONS);
        the patient's next message opens a new one."""
        if ticket.status != "resolved":
            return None
        return response.json(
            {
                "error": "this ticket is resolved; a new message from the patient opens a new one"
            },
            status=409,
        )

    @app.post("/api/tickets/<ticket_id>/claim")
    async def claim(request: Request, ticket_id: str) -> Any:
        user, ticket, error = staff_and_ticket(request, ticket_id)
        if error:
            return error
        refusal = closed(ticket)
        if refusal:
            return refusal
        take_over = flag_field(request.ctx.body, "take_over")
        try:
            outcome = store.claim(ticket_id, user, take_over=take_over)
        except KeyError:
            return response.json({"error": "no such ticket"}, status=404)
        ticket = outcome.ticket
        if not outcome.ok:
            return held_by_another(ticket, "reply to or resolve it")
        if outcome.previous not in (None, user):
            logger.warning(
                "ticket %s taken over by %s from %s", ticket_id, user, outcome.previous
            )
            audit_log.record(user, "take_over", ticket_id, f"from {outcome.previous}")
        elif outcome.previous is None:
            logger.info("ticket %s claimed by %s", ticket_id, user)
            audit_log.record(user, "claim", ticket_id)
        return response.json(
            {
                "ok": True,
                "status": ticket.status,
                "claimed_by": ticket.claimed_by,
                "taken_over_from": ticket.taken_over_from,
            }
        )

    @app.post("/api/tickets/<ticket_id>/reply")
    async def reply(request: Request, ticket_id: str) -> Any:
        user, ticket, error = staff_and_ticket(request, ticket_id, "reply")
        if error:
            return error
        text = text_field(request.ctx.body, "text").strip()
        if not text or len(text) > MAX_REPLY:
            return response.json(
                {"error": f"reply must be 1-{MAX_REPLY} characters"}, status=400
            )
        ticket, refused = hold(user, ticket, "reply to it")
        if refused:
            return refused
        try:
            await rasa.trigger(
                ticket.conversation_id,
                "staff_reply",
                reply_entities(text, auth.account(user)),
                ticket.channel,
            )
        except Exception as exc:
            reason = (
                exc.reason if isinstance(exc, NotDelivered) else "assistant_unreachable"
            )
            logger.warning("reply to ticket %s not delivered: %s", ticket_id, reason)
            audit_log.record(user, "reply_not_delivered", ticket_id, reason)
            # Kept on the ticket as not delivered, with why: staff see what did not
            # reach the patient, and the inbox never says "sent" for it.
            store.append_messages(
                ticket_id,
                [
                    {
                        "from": "staff",
                        "by": user,
                        "text": text,
                        "time": utcnow().timestamp(),
                        "delivered": False,
                        "why": reason,
                        "why_text": delivery.explain(reason),
                    }
                ],
            )
            return response.json(
                {
                    "error": delivery.explain(reason),
                    "why": reason,
                    "delivered": False,
                },
                status=502,
            )
        store.append_messages(
            ticket_id,
            [
                {
                    "from": "staff",
                    "by": user,
                    "text": text,
                    "time": utcnow().timestamp(),
                    "delivered": True,
                }
            ],
        )
        audit_log.record(user, "reply", ticket_id)
        return response.json({"ok": True, "delivered": True})

    @app.post("/api/tickets/<ticket_id>/resolve")
    async def resolve(request: Request, ticket_id: str) -> Any:
        user, ticket, error = staff_and_ticket(request, ticket_id, "reply")
        if error:
            return error
        ticket, refused = hold(user, ticket, "resolve it")
        if refused:
            return refused
        # Rasa first: the assistant takes over again only when told (staff_resolved).
        # If that fails, the ticket stays as it was, so that it is not marked resolved
        # while the assistant still waits for a person.
        try:
            await rasa.trigger(
                ticket.conversation_id, "staff_resolved", {}, ticket.channel
            )
        except Exception as exc:
            logger.warning(
                "hand-back for ticket %s failed: %s", ticket_id, type(exc).__name__
            )
            audit_log.record(user, "resolve_failed", ticket_id, type(exc).__name__)
            return response.json(
                {
                    "ok": False,
                    "patient_told": False,
                    "error": "the assistant could not be told; the ticket stays open",
                },
                status=502,
            )
        try:
            store.set_status(ticket_id, "resolved")
        except IllegalTransition:  # resolved meanwhile by the same user elsewhere
            pass
        audit_log.record(user, "resolve", ticket_id)
        return response.json({"ok": True, "patient_told": True})

    async def retry_notifications() -> None:
        while True:
            await asyncio.sleep(
                float(os.environ.get("KAT_NOTIFY_RETRY_SECONDS", RETRY_EVERY_SECONDS))
            )
            try:
                await asyncio.get_running_loop().run_in_executor(
                    None, retry_failed, store
                )
                # Urgent tickets nobody claimed: reminded again (kat/escalation.py).
                await asyncio.get_running_loop().run_in_executor(
                    None, run_escalations, store
                )
            except Exception:
                logger.exception("notification retry loop failed")

    retries: Dict[str, asyncio.Task[None]] = {}

    async def start_retries(app_: Sanic, loop: Any) -> None:
        retries["task"] = loop.create_task(retry_notifications())

    async def stop_retries(app_: Sanic, loop: Any) -> None:
        task = retries.pop("task", None)
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    # Insights and the review queue (reviewers): staff_inbox/review.py.
    add_review_routes(app, permitted, store, audit_log, tracker)

    app.register_listener(start_retries, "after_server_start")
    app.register_listener(stop_retries, "before_server_stop")

    return app
