"""`Idempotency-Key` on every mutating API operation, as one app-wide dependency and one
ASGI middleware, so that no route needs code of its own.

A POST, PUT, PATCH or DELETE that carries the header is keyed by (workspace, caller, key).
The first request runs and its outcome (status, body, Content-Type and Location) is kept in
PostgreSQL for 24 hours (models.idempotency); a retry with the same method, path and body gets
that outcome again with `Idempotent-Replayed: true`, and nothing runs twice. Like Stripe: a
retry while the first still runs answers 409 (`Retry-After`); the key sent with another
request answers 422. 5xx and throttling outcomes are not kept, so a retry may succeed.
Kept bodies are sealed (AES-GCM) under a key derived from the installation's secret and the
Idempotency-Key, which is itself stored only hashed: the database alone never shows a response
again (some carry secrets, like a new API key's).

Not covered: the portal (cookie sessions, forms), anonymous requests, streamed upload bodies,
and routes that declare the header themselves (POST /campaigns resumes a half-started
campaign through it)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import re
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Depends, FastAPI
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.audit import MUTATING, PORTAL, caller
from api.problems import MEDIA_TYPE, problem_response
from api.services import Database
from models import idempotency
from nexus.errors import AppError, Conflict, FieldProblem, ValidationFailed

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_LENGTH = 200
FIELD = "header.idempotency-key"
_VALID = re.compile(rf"[\x20-\x7e]{{1,{MAX_LENGTH}}}")
# Outcomes of the first request worth giving again; a retry of any other may do better.
_KEPT_HEADERS = (b"content-type", b"location")
_TRANSIENT = frozenset({408, 425, 429})
_PENDING = "nexus.idempotency"


class KeyInUse(Conflict):
    title = "Request in progress"
    type_slug = "idempotency-key-in-use"


class KeyReused(ValidationFailed):
    title = "Idempotency-Key reused"
    type_slug = "idempotency-key-reused"


class Replayed(Exception):
    """Answer with the first request's outcome instead of running the route."""

    def __init__(self, stored: idempotency.Stored, body: bytes) -> None:
        super().__init__("replayed")
        self.stored, self.body = stored, body


@dataclass(frozen=True)
class _Pending:
    claim: idempotency.Claimed
    seal: _Seal


def _declares_header(route: APIRoute) -> bool:
    return any(p.alias.lower() == HEADER.lower() for p in route.dependant.header_params)


def dependency(exempt_prefixes: tuple[str, ...]) -> DependsParam:
    """The app-wide dependency: it runs once the route is known and before its own
    dependencies, claims the key or answers from what it holds."""

    async def check_idempotency_key(request: Request) -> None:
        key = request.headers.get(HEADER)
        route = request.scope.get("route")
        if (
            key is None
            or request.method not in MUTATING
            or request.url.path.startswith((PORTAL, *exempt_prefixes))
            or not isinstance(route, APIRoute)
            or _declares_header(route)
        ):
            return
        principal = await caller(request.scope)
        if principal is None:  # anonymous, or refused by the route's own dependencies
            return
        if not _VALID.fullmatch(key):
            reason = f"at most {MAX_LENGTH} printable ASCII characters"
            raise ValidationFailed(
                "the Idempotency-Key header is malformed", errors=[FieldProblem(FIELD, reason)]
            )
        query = request.url.query
        claim = idempotency.Request(
            workspace_id=principal.workspace_id,
            actor_id=principal.actor_id,
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            method=request.method,
            path=(request.url.path + (f"?{query}" if query else ""))[:2000],
            request_hash=hashlib.sha256(await request.body()).hexdigest(),
        )
        seal = _Seal(request.app.state.settings.auth.jwt_secret.get_secret_value(), claim, key)
        db: Database = request.app.state.database
        outcome = await db.run(idempotency.claim, claim)
        if isinstance(outcome, idempotency.Stored) and seal.open(outcome.body) is None:
            # Sealed under a secret since replaced: unreadable, so run the request as new.
            await db.run(idempotency.release, outcome.record_id)
            outcome = await db.run(idempotency.claim, claim)
        if isinstance(outcome, idempotency.Stored):
            raise Replayed(outcome, seal.open(outcome.body) or b"")
        if isinstance(outcome, idempotency.InProgress):
            raise KeyInUse(
                "a request with this Idempotency-Key is in progress; retry once it has finished"
            )
        if isinstance(outcome, idempotency.Mismatch):
            raise KeyReused(
                "this Idempotency-Key was sent with a different request (method, path or "
                "body); use a new key for a new request",
                errors=[FieldProblem(FIELD, "used for a different request")],
            )
        request.scope.setdefault("state", {})[_PENDING] = _Pending(outcome, seal)

    checked: DependsParam = Depends(check_idempotency_key)
    return checked


class KeptOutcomes:
    """Keeps the outcome of a request that claimed a key (before it is sent, so that a retry
    arriving right after finds it), or gives the key back when a retry may do better."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in MUTATING:
            await self.app(scope, receive, send)
            return
        held: list[Message] = []
        pending: _Pending | None = None

        async def hold(message: Message) -> None:
            nonlocal pending
            if message["type"] == "http.response.start":
                pending = scope.get("state", {}).get(_PENDING)
            if pending is None:
                await send(message)
            else:
                held.append(message)

        try:
            await self.app(scope, receive, hold)
        except BaseException:
            if (found := scope.get("state", {}).get(_PENDING)) is not None:
                await _give_back(scope["app"].state.database, found.claim)
            raise
        if pending is None:
            return
        db: Database = scope["app"].state.database
        status: int = held[0]["status"]
        if status >= 500 or status in _TRANSIENT:
            await _give_back(db, pending.claim)
        else:
            kept = [
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, v in held[0].get("headers", [])
                if k.lower() in _KEPT_HEADERS
            ]
            body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
            stored = idempotency.Stored(
                pending.claim.record_id, status, kept, pending.seal.close(body)
            )
            try:
                await db.run(idempotency.complete, stored)
            except Exception:
                # The change is made: answer it. Retries get 409 until the key is abandoned.
                log.exception("outcome of idempotency key %s not kept", stored.record_id)
        for message in held:
            await send(message)


class _Seal:
    """AES-GCM under a key that only the installation's secret and the client's key give."""

    def __init__(self, secret: str, request: idempotency.Request, key: str) -> None:
        scope = f"idempotency\0{request.workspace_id}\0{request.actor_id}\0{key}".encode()
        self._aead = AESGCM(hmac.digest(secret.encode(), scope, "sha256"))

    def close(self, body: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, body, None)

    def open(self, sealed: bytes) -> bytes | None:
        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], None)
        except (InvalidTag, ValueError):
            return None


async def _give_back(db: Database, claim: idempotency.Claimed) -> None:
    try:
        await db.run(idempotency.release, claim.record_id)
    except Exception as exc:
        # Mostly the database going away with the request: release the key once it is back,
        # instead of refusing the client's retry as in progress until it counts as abandoned.
        log.warning("idempotency key %s not released yet: %s", claim.record_id, exc)
        task = asyncio.create_task(_release_later(db, claim.record_id))
        _RELEASING.add(task)
        task.add_done_callback(_RELEASING.discard)


# Releases waiting for the database; held so that the tasks are not collected meanwhile.
_RELEASING: set[asyncio.Task[None]] = set()


async def _release_later(db: Database, record_id: uuid.UUID) -> None:
    deadline = asyncio.get_running_loop().time() + idempotency.ABANDONED_AFTER.total_seconds()
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(1)
        try:
            await db.run(idempotency.release, record_id)
        except Exception:  # noqa: S112 - still unreachable: try again
            continue
        return
    log.error("idempotency key %s not released; it counts as abandoned now", record_id)


async def _replayed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replayed)
    headers = dict(exc.stored.headers) | {REPLAYED: "true"}
    return Response(exc.body, status_code=exc.stored.status, headers=headers)


async def _in_use(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return problem_response(
        request, status=exc.status, title=exc.title, slug=exc.type_slug, detail=exc.detail,
        headers={"Retry-After": "1"},
    )  # fmt: skip


# -- the OpenAPI document --------------------------------------------------------------------

_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: the first request's outcome is kept for 24 hours and "
    "given again, with `Idempotent-Replayed: true`, to a request with the same key, method, "
    "path and body. Another request with the key answers 422; one sent while the first runs, "
    "409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_LENGTH},
}
_PROBLEM = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _document(schema: dict[str, Any], exempt_prefixes: tuple[str, ...]) -> None:
    for path, operations in schema.get("paths", {}).items():
        if path.startswith((PORTAL, *exempt_prefixes)):
            continue
        for method, operation in operations.items():
            # Anonymous operations (sign-in, webhooks) have no caller to key a request by.
            if method.upper() not in MUTATING or "security" not in operation:
                continue
            parameters = operation.setdefault("parameters", [])
            if any(p.get("name", "").lower() == HEADER.lower() for p in parameters):
                continue  # the route takes the header itself
            parameters.append(dict(_PARAMETER))
            operation["responses"].setdefault(
                "409", {"description": "A request with this Idempotency-Key is in progress",
                        "content": _PROBLEM},
            )  # fmt: skip


def install(app: FastAPI, *, exempt_prefixes: tuple[str, ...] = ()) -> None:
    """Keep outcomes, answer replays, and document the header on the operations it covers.
    The dependency itself goes to the app's constructor (`dependency`)."""
    app.add_middleware(KeptOutcomes)
    app.add_exception_handler(Replayed, _replayed)
    app.add_exception_handler(KeyInUse, _in_use)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _document(build(), exempt_prefixes)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
