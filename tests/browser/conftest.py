"""The browser tests' server (the app under uvicorn in the test's event loop) and Chromium."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from api.app import create_app
from nexus.settings import Settings
from tests.browser.support import SHOTS
from tests.support import free_port


@pytest.fixture
async def server(
    settings: Settings, engine: Engine, client: Client, workers: list[Worker]
) -> AsyncIterator[str]:
    """The app on a free port, served by uvicorn in this event loop (beside the workers)."""
    port = free_port()
    # Upload URLs are built from the public URL: this server's.
    api = settings.api.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    app = create_app(settings.model_copy(update={"api": api}), engine=engine, temporal=client)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    serving = uvicorn.Server(config)
    task = asyncio.create_task(serving.serve())
    while not serving.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
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
