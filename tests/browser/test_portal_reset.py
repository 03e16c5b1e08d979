"""In the browser: a person who forgot their password asks for a link on the sign-in page, the
e-mail reaches the mail catcher, the link's page takes a new password (a common one is refused
next to the field), and they are signed in with it; the old password no longer works."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
import uvicorn
from playwright.async_api import Browser, expect
from sqlalchemy import Engine
from sqlmodel import col, select
from temporalio.client import Client

from api.app import create_app
from models.db import session_scope
from models.notifications import CaughtEmail
from nexus.settings import NotificationSettings, Settings
from tests.api.test_inbox import running_catcher
from tests.browser.support import TIMEOUT_MS, shoot
from tests.support import PASSWORD, free_port, make_tenant

NEW_PASSWORD = "harbour lantern quietly 7"


@pytest.fixture
async def server(settings: Settings, engine: Engine, client: Client) -> AsyncIterator[str]:
    """The app under uvicorn with e-mail through the real mail catcher; no worker."""
    port, smtp = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    mail = NotificationSettings(
        smtp_host="127.0.0.1", smtp_port=smtp, smtp_starttls=False, mail_catcher_port=smtp,
        portal_url=base,
    )  # fmt: skip
    configured = settings.model_copy(
        update={"api": settings.api.model_copy(update={"public_url": base}), "notifications": mail}
    )
    app = create_app(configured, engine=engine, temporal=client)
    serving = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    async with running_catcher(settings, smtp):
        task = asyncio.create_task(serving.serve())
        while not serving.started:
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.05)
        yield base
        serving.should_exit = True
        await task


async def caught_link(engine: Engine, email: str) -> str:
    def newest() -> str | None:
        with session_scope(engine) as session:
            mail = session.exec(
                select(CaughtEmail).where(col(CaughtEmail.recipients).contains([email]))
            ).first()
            return mail.text if mail else None

    for _ in range(200):
        text = await asyncio.to_thread(newest)
        if text:
            match = re.search(r"https?://\S+/portal/password/reset/\S+", text)
            assert match, text
            return match.group(0)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no e-mail reached {email}")


async def test_a_forgotten_password_is_reset_from_the_e_mailed_link(
    server: str, browser: Browser, engine: Engine
) -> None:
    me = make_tenant(engine)
    context = await browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto("/portal/login")
    await page.get_by_role("link", name="Forgot your password?").click()
    await expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    await shoot(page, "password-forgot")
    await page.get_by_label("E-mail").fill(me.email)
    await page.get_by_role("button", name="Send the link").click()
    await expect(page.get_by_role("status")).to_contain_text("a link to choose a new password")
    await shoot(page, "password-forgot-sent")

    await page.goto(await caught_link(engine, me.email))
    await expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    await page.get_by_label("New password", exact=True).fill("iloveyou12345")
    await page.get_by_label("New password again").fill("iloveyou12345")
    await page.get_by_role("button", name="Save and sign in").click()
    await expect(page.locator("#password-error")).to_contain_text("commonly used password")
    await shoot(page, "password-reset-refused")
    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("New password again").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Save and sign in").click()
    await page.wait_for_url("**/portal/campaigns")

    await page.get_by_role("link", name="Account").click()
    await expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    await shoot(page, "account")
    await page.get_by_role("button", name="Sign out everywhere").click()
    await expect(page.get_by_role("heading", name="Signed out everywhere")).to_be_visible()

    # The old password is refused; the new one signs in.
    await page.goto("/portal/login")
    await page.get_by_label("E-mail").fill(me.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#password-error")).to_be_visible()
    await page.get_by_label("Password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/portal/campaigns")
    await context.close()
