"""The browser tests' server (the app under uvicorn in the test's event loop) and Chromium."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from nexus.settings import Settings
from tests.browser.support import SHOTS
from tests.gateway import Gateway, app_at


@pytest.fixture
async def server(
    settings: Settings,
    engine: Engine,
    client: Client,
    workers: list[Worker],
    front: Gateway | None,
) -> AsyncIterator[str]:
    """The app served by uvicorn in this event loop (beside the workers), behind the session's
    gateway as people reach it (the URL returned is the gateway's; tests/gateway.py)."""
    async with app_at(settings, engine, client, front) as base:
        yield base


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
