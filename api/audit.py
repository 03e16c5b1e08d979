"""Every successful state-changing request is written to the audit log (models.audit): who,
what, when and from where. Pure ASGI middleware, so that no route needs code of its own.

The event is written once the response is decided and before it is sent; a refused request
(any 4xx or 5xx) records nothing. Changes the durable processes make are recorded by the
repository functions that make them, in their own transaction."""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

import psycopg
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from psycopg_pool import PoolTimeout
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import Principal, principal_of_bearer
from api.portal.web import session as principal_of_portal_session
from api.services import Database
from models import audit
from nexus.errors import AppError

log = logging.getLogger(__name__)

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PORTAL = "/portal/"
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
# Where the portal sends a request it refuses (signed out, wrong role): not a success.
_PORTAL_BOUNCES = frozenset({"/portal", "/portal/login"})
_PORTAL_CREATED = re.compile(r"^/portal/([a-z-]+)/([0-9a-f-]{36})(?:[/?#]|$)")
_CALLER = "nexus.caller"
# Signing in and switching workspace hand out a token and change nothing stored.
_SESSIONS_ONLY = frozenset(
    {"auth.login", "auth.switch_workspace", "portal.auth.login_submit",
     "portal.auth.switch_workspace"}
)  # fmt: skip


async def caller(scope: Scope) -> Principal | None:
    """Who sends the request: the bearer token or API key, or the portal's session cookie;
    None when anonymous or not authenticated. Resolved once per request, before the route
    runs: a request that revokes its own key is still attributed to it."""
    state: dict[str, Any] = scope.setdefault("state", {})
    if _CALLER in state:
        found: Principal | None = state[_CALLER]
        return found
    request = Request(scope)
    state_of_app = request.app.state
    settings, db, lookups = state_of_app.settings, state_of_app.database, state_of_app.lookups
    principal: Principal | None = None
    try:
        if request.url.path.startswith(PORTAL):
            principal = await principal_of_portal_session(request, settings, lookups)
        else:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer" and token:
                credentials = HTTPAuthorizationCredentials(scheme=scheme, credentials=token)
                principal = await principal_of_bearer(settings, db, lookups, credentials)
    except (AppError, SQLAlchemyError, psycopg.Error, PoolTimeout):
        principal = None  # the route answers itself: 401, or 503 while the database is down
    state[_CALLER] = principal
    return principal


def request_id(scope: Scope) -> str:
    """The caller's X-Request-Id when it is a sane token, else a new one."""
    presented = Request(scope).headers.get(REQUEST_ID_HEADER, "")
    return presented if _REQUEST_ID.fullmatch(presented) else uuid.uuid4().hex


def _succeeded(path: str, status: int, location: str | None) -> bool:
    if 200 <= status < 300:
        return True
    # A portal form that worked redirects to the page showing its result.
    where = (location or "").split("?", 1)[0]  # the sign-in page may keep a page to return to
    return path.startswith(PORTAL) and status == 303 and where not in _PORTAL_BOUNCES


def _singular(segment: str) -> str:
    noun = segment.replace("-", "_")
    return noun[:-1] if noun.endswith("s") and not noun.endswith("ss") else noun


def _target(
    route: APIRoute, path_params: dict[str, Any], status: int, location: str | None, body: bytes
) -> audit.Target | None:
    """What the request changed: the resource it created, else the last `..._id` in its path."""
    literal = [s for s in route.path.split("/") if s and not s.startswith("{")]
    if status == 201 and literal:
        try:
            created = json.loads(body)
        except ValueError:
            created = None
        if isinstance(created, dict) and "id" in created:
            return audit.Target(_singular(literal[-1]), str(created["id"]))
    if status == 303 and location and route.path.startswith(PORTAL):
        found = _PORTAL_CREATED.match(location)
        if found and found[2] not in {str(v) for v in path_params.values()}:
            return audit.Target(_singular(found[1]), found[2])
    ids = [(name, value) for name, value in path_params.items() if name.endswith("_id")]
    if ids:
        name, value = ids[-1]
        return audit.Target(name.removesuffix("_id"), str(value))
    return None


def _action(route: APIRoute) -> tuple[str, str]:
    """A stable code (the endpoint's area and name) and its words."""
    area = route.endpoint.__module__.removeprefix("api.").removeprefix("routers.")
    words = route.name.replace("_", " ").capitalize()
    if area.startswith("portal"):
        words += " (portal)"
    return f"{area}.{route.name}"[:100], words


class AuditLog:
    """Records each successful POST, PUT, PATCH and DELETE; adds X-Request-Id to responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        if scope["method"] not in MUTATING:
            await self.app(scope, receive, _with_request_id(send, rid))
            return
        principal = await caller(scope)
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        start = next((m for m in held if m["type"] == "http.response.start"), None)
        if start is not None:
            try:
                await self._record(scope, principal, rid, start, held)
            except Exception:
                # The change is made and committed: answering 500 would have it retried.
                log.exception("audit event not written for %s %s", scope["method"], scope["path"])
        deliver = _with_request_id(send, rid)
        for message in held:
            await deliver(message)

    async def _record(
        self,
        scope: Scope,
        principal: Principal | None,
        rid: str,
        start: Message,
        held: list[Message],
    ) -> None:
        headers = {k.lower(): v for k, v in start.get("headers", [])}
        location = headers[b"location"].decode("latin-1") if b"location" in headers else None
        status: int = start["status"]
        route = scope.get("route")
        if (
            not isinstance(route, APIRoute)
            or b"idempotent-replayed" in headers  # the first request was recorded
            or not _succeeded(scope["path"], status, location)
        ):
            return
        code, words = _action(route)
        if code in _SESSIONS_ONLY:
            return
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        target = _target(route, scope.get("path_params", {}), status, location, body)
        request = Request(scope)
        origin = audit.Origin(
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
            request_id=rid,
        )
        details = {"route": f"{scope['method']} {route.path}", "status": status}

        def write(session: Session) -> None:
            actor = (
                audit.actor_named(session, principal.user_id, principal.api_key_id)
                if principal
                else audit.ANONYMOUS
            )
            audit.record(
                session,
                code,
                words,
                workspace_id=principal.workspace_id if principal else None,
                target=target,
                actor=actor,
                origin=origin,
                details=details,
            )

        db: Database = request.app.state.database
        await db.run(write)


def _with_request_id(send: Send, rid: str) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
            ]
            message = {**message, "headers": [*headers, (b"x-request-id", rid.encode())]}
        await send(message)

    return sending
