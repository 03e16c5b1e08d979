"""Serving the app as people reach it: under uvicorn in the test's event loop, behind the
gateway (nginx, ModSecurity v3 and the OWASP Core Rule Set, nexus/gateway.py) of the test
session. The browser tests and the e2e journeys both go this way, so a legitimate payload the
firewall would block fails a test rather than a user.

NEXUS_TEST_DIRECT=1 serves the app on a port of its own instead, to tell a false block from a
bug."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import Engine
from starlette.types import ASGIApp
from temporalio.client import Client

from api.app import create_app
from nexus.gateway import GatewayConfig, dev_user, running
from nexus.settings import Settings
from tests.support import free_port

# The test settings' API body limit (tests/conftest.py), which the gateway holds bodies to too.
BODY_LIMIT = 64 * 1024


def direct() -> bool:
    return os.environ.get("NEXUS_TEST_DIRECT") == "1"


@dataclass(frozen=True)
class Gateway:
    url: str
    # The port behind it that each test serves its app on.
    upstream: int
    config: GatewayConfig


@contextmanager
def gateway(state: Path) -> Iterator[Gateway]:
    upstream, listen = free_port(), free_port()
    config = GatewayConfig(
        listen=f"127.0.0.1:{listen}",
        upstream=f"127.0.0.1:{upstream}",
        body_limit=BODY_LIMIT,
        media_limit=Settings().media.max_upload_bytes,
        state_dir=state,
        logs_dir=state / "logs",
        worker_processes="1",
        user=dev_user(),
    )
    with running(config):
        yield Gateway(f"http://127.0.0.1:{listen}", upstream, config)


@asynccontextmanager
async def served(app: ASGIApp, port: int) -> AsyncIterator[None]:
    """The app under uvicorn on `port`, in this event loop (beside the test's workers)."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def app_at(
    settings: Settings, engine: Engine, client: Client, edge: Gateway | None
) -> AsyncIterator[str]:
    """The app served behind `edge` (its URL is returned), or on a free port of its own."""
    if edge is not None:
        assert settings.api.max_body_bytes == BODY_LIMIT
        base, port = edge.url, edge.upstream
    else:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
    # Upload URLs are built from the public URL: where clients reach the app.
    api = settings.api.model_copy(update={"public_url": base})
    app = create_app(settings.model_copy(update={"api": api}), engine=engine, temporal=client)
    async with served(app, port):
        yield base


@asynccontextmanager
async def api_client(
    settings: Settings, engine: Engine, client: Client, edge: Gateway | None
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app as partners and the portal reach it."""
    async with (
        app_at(settings, engine, client, edge) as base,
        # Some answers wait on a workflow for several seconds (the API's own timeouts decide).
        httpx.AsyncClient(base_url=base, timeout=60) as http,
    ):
        yield http
