"""The browser tests' server (the app under uvicorn in the test's event loop) and Chromium."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from api.app import create_app
from nexus.gateway import GatewayConfig, dev_user, running
from nexus.settings import Settings
from tests.browser.support import SHOTS
from tests.support import free_port

# The test settings' API body limit (tests/conftest.py), which the gateway holds bodies to too.
BODY_LIMIT = 64 * 1024


@pytest.fixture
def through_gateway() -> bool:
    """Whether the browser reaches the app through the gateway (nginx, ModSecurity and the
    OWASP Core Rule Set, nexus/gateway.py), as people do: yes, unless a module overrides this
    fixture or NEXUS_TEST_BROWSER_DIRECT=1 is set (to tell a false block from a bug)."""
    return os.environ.get("NEXUS_TEST_BROWSER_DIRECT") != "1"


@pytest.fixture(scope="session")
def browser_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """One gateway for the session (its URL, and the port behind it that each test serves
    its app on)."""
    state = tmp_path_factory.mktemp("browser-gateway")
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
        yield f"http://127.0.0.1:{listen}", upstream


@pytest.fixture
async def server(
    request: pytest.FixtureRequest,
    settings: Settings,
    engine: Engine,
    client: Client,
    workers: list[Worker],
    through_gateway: bool,
) -> AsyncIterator[str]:
    """The app served by uvicorn in this event loop (beside the workers): behind the
    session's gateway (the URL returned is the gateway's), or on a free port of its own."""
    if through_gateway:
        assert settings.api.max_body_bytes == BODY_LIMIT
        base, port = request.getfixturevalue("browser_gateway")
    else:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
    # Upload URLs are built from the public URL: where the browser reaches the app.
    api = settings.api.model_copy(update={"public_url": base})
    app = create_app(settings.model_copy(update={"api": api}), engine=engine, temporal=client)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    serving = uvicorn.Server(config)
    task = asyncio.create_task(serving.serve())
    while not serving.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.05)
    yield base
    serving.should_exit = True
    await task


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if SHOTS:
        await asyncio.to_thread(Path(SHOTS).mkdir, parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=[
                "--no-sandbox", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
            ],
        )  # fmt: skip
        yield launched
        await launched.close()
