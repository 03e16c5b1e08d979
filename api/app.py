"""The FastAPI application factory."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from psycopg_pool import PoolTimeout
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp
from temporalio.client import Client

from api import docs, idempotency, portal, problems
from api.audit import AuditLog
from api.changes import DeliveryChanges
from api.middleware import API_CSP, BodySizeLimit, SecurityHeaders, portal_csp
from api.portal.web import render
from api.portal.web import session as portal_session
from api.rate_limits import RateLimiter, RateLimits
from api.routers import (
    agency,
    api_keys,
    audit,
    auth,
    brands,
    campaigns,
    compliance,
    conversations,
    creator_profile,
    creators,
    deliveries,
    health,
    invitations,
    ledger,
    licenses,
    marketplace,
    members,
    moderation,
    money,
    notifications,
    ops_admin,
    passwords,
    signup,
    uploads,
)
from api.services import Database, Lookups, TemporalGateway, VersionedAnswers
from integrations.notifications import notifier_from_settings
from integrations.payments import provider_from_settings
from integrations.payments.manual import ManualPayments
from integrations.storage import store_from_settings
from models.db import make_engine
from nexus.errors import AppError, NotFound
from nexus.health import libpq_dsn
from nexus.settings import Settings
from nexus.telemetry import configure_tracing

STREAMED_UPLOADS = ("/uploads/content/", "/portal/uploads/content/")


class _App(FastAPI):
    """The app with its security headers outside Starlette's error middleware, so that a 500
    carries them like every other answer."""

    page_csp = API_CSP
    hsts = False

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(
            super().build_middleware_stack(), page_csp=self.page_csp, hsts=self.hsts
        )


def _page_csp(settings: Settings) -> str:
    storage = settings.storage
    endpoint = storage.public_endpoint or storage.endpoint
    scheme = "https" if storage.secure else "http"
    payments = settings.payments
    return portal_csp(
        stripe=payments.provider == "stripe" and bool(payments.stripe_publishable_key),
        # Presigned uploads and media go straight to the object store.
        storage_origin=f"{scheme}://{endpoint}" if storage.backend == "s3" else None,
    )


def _wants_page(request: Request) -> bool:
    """A person's browser asking for a portal page (not the upload script's JSON calls)."""
    path = request.url.path
    if not (path == "/portal" or path.startswith("/portal/")) or path.startswith("/portal/uploads"):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept or "json" not in accept


async def _not_found_page(request: Request) -> Response:
    try:
        principal = await portal_session(
            request, request.app.state.settings, request.app.state.lookups
        )
    except (psycopg.Error, PoolTimeout):
        principal = None
    return render(request, "portal/not_found.html", {"principal": principal}, 404)


async def _answer(handler: Callable[..., Any], request: Request, exc: Exception) -> Response:
    """The answer of an exception handler registered before (problem+json)."""
    answer = handler(request, exc)
    if inspect.isawaitable(answer):
        answer = await answer
    assert isinstance(answer, Response)
    return answer


def _portal_not_found(app: FastAPI) -> None:
    """Under /portal, an address that names no page, or a resource that is not the reader's,
    answers the portal's not-found page with a way back; the JSON API keeps problem+json."""
    http_error = app.exception_handlers[StarletteHTTPException]
    app_error = app.exception_handlers[AppError]
    invalid = app.exception_handlers[RequestValidationError]

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        no_page = exc.status_code == 404 or (
            exc.status_code == 405 and request.method in ("GET", "HEAD")
        )
        if no_page and _wants_page(request):
            return await _not_found_page(request)
        return await _answer(http_error, request, exc)

    async def on_not_found(request: Request, exc: Exception) -> Response:
        if _wants_page(request):
            return await _not_found_page(request)
        return await _answer(app_error, request, exc)

    async def on_invalid(request: Request, exc: Exception) -> Response:
        # /portal/campaigns/not-an-id names no page either.
        assert isinstance(exc, RequestValidationError)
        if _wants_page(request) and any(e["loc"][:1] == ("path",) for e in exc.errors()):
            return await _not_found_page(request)
        return await _answer(invalid, request, exc)

    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(NotFound, on_not_found)
    app.add_exception_handler(RequestValidationError, on_invalid)


async def close_app(app: FastAPI) -> None:
    """Stop what the app opened on first use (run by the lifespan; tests that serve the app
    without one call it themselves)."""
    await app.state.changes.close()
    await app.state.lookups.close()
    await app.state.rate_limiter.close()


def create_app(
    settings: Settings, *, engine: Engine | None = None, temporal: Client | None = None
) -> FastAPI:
    """Build the app. Tests pass their own engine and client; otherwise they come from settings."""
    configure_tracing(settings.telemetry)
    owned_engine = engine is None
    db_engine = engine or make_engine(settings.database)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await close_app(app)
        if owned_engine:
            db_engine.dispose()

    app = _App(
        title="NEXUS API",
        version="0.1.0",
        description="UGC campaign platform: campaigns, briefs, deliveries, licensing, payouts.",
        lifespan=lifespan,
        # Served by api/docs.py from the platform's own copy of Swagger UI and ReDoc.
        docs_url=None,
        redoc_url=None,
        # FastAPI's native OpenTelemetry server spans; Temporal's interceptor continues them
        # into the workflows and activities a request starts.
        telemetry={"tracing": settings.telemetry.tracing, "metrics": False, "logs": False},
        dependencies=[idempotency.dependency(STREAMED_UPLOADS)],
    )
    app.page_csp = _page_csp(settings)
    app.hsts = settings.api.public_url.startswith("https://")
    app.state.settings = settings
    app.state.database = Database(db_engine)
    app.state.lookups = Lookups(db_engine, size=settings.database.pool_size)
    app.state.answers = VersionedAnswers()
    app.state.changes = DeliveryChanges(libpq_dsn(settings.database.url.get_secret_value()))
    app.state.temporal = TemporalGateway(
        settings.temporal, temporal, tracing=settings.telemetry.tracing
    )
    app.state.payments = provider_from_settings(db_engine, settings.payments)
    # Bank transfers are confirmed by ops whichever provider takes cards.
    app.state.manual_payments = ManualPayments(db_engine, settings.payments)
    app.state.store = store_from_settings(settings.storage)
    app.state.notifier = notifier_from_settings(db_engine, settings.notifications)

    problems.install(app)
    _portal_not_found(app)
    # Inside the body limit: the audit log records what a request changed (never a replay),
    # and a request that claimed an Idempotency-Key leaves its outcome for retries.
    app.add_middleware(AuditLog)
    idempotency.install(app, exempt_prefixes=STREAMED_UPLOADS)
    # Every body is held to the API's limit before anything parses it; only the upload
    # targets, which stream to disk, take media up to the media limit.
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.api.max_body_bytes,
        media_prefixes=STREAMED_UPLOADS,
        media_max_bytes=settings.media.max_upload_bytes,
    )
    # Outside the body limit: a client past its rate is refused before anything reads the body.
    app.state.rate_limiter = RateLimiter(settings.rate_limits, settings.auth)
    app.add_middleware(RateLimits, limiter=app.state.rate_limiter)
    # In the order requests are matched: the campaign read, the most frequent request, right
    # after health (each router passed over costs every request behind it; no paths overlap).
    for router in (
        health.router,
        campaigns.router,
        auth.router,
        passwords.router,
        signup.router,
        api_keys.router,
        invitations.router,
        brands.router,
        creators.router,
        creator_profile.router,
        marketplace.router,
        deliveries.router,
        conversations.router,
        licenses.router,
        ledger.router,
        money.router,
        notifications.router,
        uploads.router,
        moderation.router,
        compliance.router,
        audit.router,
        agency.router,
        members.router,
        ops_admin.router,
    ):
        app.include_router(router)
    portal.install(app)
    docs.install(app, settings.api.docs_assets_dir)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/portal")

    if settings.api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    return app
