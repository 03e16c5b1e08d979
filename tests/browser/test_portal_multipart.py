"""A large draft from the browser goes straight to S3 in parts: the portal hands out one
presigned URL per part (the S3 emulator checks their signatures), the page PUTs each part
with its progress, and the portal completes the upload with the parts' ETags."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Request, async_playwright, expect
from sqlalchemy import Engine

from integrations.storage import store_from_settings
from integrations.storage.minio import S3Store
from nexus.settings import Settings
from tests.browser.support import TIMEOUT_MS, signed_in, upload
from tests.e2e.support import ok
from tests.e2e.test_bad_input import accepted_delivery
from tests.integrations.test_storage import s3_settings

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium")
PART = 5 * 1024 * 1024  # S3's smallest part


@pytest.fixture
def settings(settings: Settings, nanio: str) -> Settings:
    storage = s3_settings(nanio, multipart_part_bytes=PART)
    store = store_from_settings(storage)
    assert isinstance(store, S3Store)
    store.ensure_bucket()
    return settings.model_copy(update={"storage": storage})


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Chromium that lets the page send parts to the emulator's origin: in production the
    bucket's CORS rule allows the portal's origin; the emulator has no CORS at all."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=[
                "--no-sandbox", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-web-security",
            ],
        )  # fmt: skip
        yield launched
        await launched.close()


async def test_a_large_draft_goes_to_s3_in_parts_with_progress(
    server: str,
    browser: Browser,
    http: httpx.AsyncClient,
    engine: Engine,
    settings: Settings,
    tmp_path: Path,
) -> None:
    s = await accepted_delivery(http, engine)
    ok(await http.post(f"/deliveries/{s.delivery_id}/brief-acceptance", headers=s.c))
    big = tmp_path / "big-draft.mp4"
    size = 2 * PART + 1234
    await asyncio.to_thread(big.write_bytes, os.urandom(size))

    page = await signed_in(browser, server, s.creator.tenant)
    parts: list[str] = []

    def sent(request: Request) -> None:
        if request.method == "PUT" and "partNumber=" in request.url:
            parts.append(request.url)

    page.on("request", sent)
    await page.goto(f"/portal/deliveries/{s.delivery_id}")
    assert await upload(page, big, "#ad Glow serum morning") == "100"

    assert len(parts) == 3
    store = store_from_settings(settings.storage)
    [key] = store.list_keys(f"uploads/{s.creator.workspace_id}/")
    assert store.stat(key).size == size
    # The bytes are no video: the checks say so, and the creator is asked to fix it.
    stage = page.locator("#delivery-stage")
    await expect(stage).to_have_text("fixing", timeout=TIMEOUT_MS)
    await expect(page.locator("#live")).to_contain_text("could not read this file as a video")
