"""In the browser: the creator writes to the brand with a file (the page's script uploads it
on its ticket, then sends the message), the brand is told (the badge in the navigation, the
inbox, the caught e-mail) and opens the conversation from the notification."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, expect
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from domain.enums import Role
from nexus.settings import NotificationSettings, Settings
from tests.api.test_inbox import running_catcher
from tests.browser.support import shoot, signed_in
from tests.support import free_port, make_creator, make_delivered_asset, make_tenant


@pytest.fixture
async def server(settings: Settings, engine: Engine, client: Client) -> AsyncIterator[str]:
    """The app under uvicorn with e-mail through the real mail catcher; no worker: messages
    notify from the request."""
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


async def test_a_message_with_a_file_reaches_the_brand(
    server: str, browser: Browser, engine: Engine, tmp_path: Path
) -> None:
    brand = make_tenant(engine)
    creator = make_creator(engine)
    asset = make_delivered_asset(engine, brand, creator)
    notes = tmp_path / "Shot list.pdf"
    notes.write_bytes(b"%PDF-1.4\n% the shot list\n")

    page = await signed_in(browser, server, creator.tenant)
    await page.goto(f"/portal/deliveries/{asset.delivery_id}")
    conversation = page.locator("#conversation")
    await expect(conversation.get_by_text("No messages yet.")).to_be_visible()
    await page.get_by_label("Write to the brand").fill("Here is my shot list.\nShall I start?")
    await page.get_by_label("Attach a file").set_input_files(notes)
    async with page.expect_navigation():
        await conversation.get_by_role("button", name="Send").click()
    mine = conversation.locator(".message-mine")
    await expect(mine.get_by_text("Here is my shot list.")).to_be_visible()
    await expect(mine.get_by_role("link", name="Shot-list.pdf")).to_be_visible()
    await shoot(page, "conversation-creator")

    brand_page = await signed_in(browser, server, brand)
    await expect(brand_page.locator("#inbox-badge .badge")).to_have_text("1")
    await brand_page.get_by_role("link", name="Inbox").click()
    notice = brand_page.locator(".note-unread")
    await expect(notice.get_by_text("sent you a message")).to_be_visible()
    await expect(notice.get_by_text("Attached: Shot-list.pdf")).to_be_visible()
    await shoot(brand_page, "inbox")
    await notice.get_by_role("link").click()
    await brand_page.wait_for_url(f"**/portal/deliveries/{asset.delivery_id}#conversation")
    await expect(brand_page.locator("#conversation").get_by_text("Shall I start?")).to_be_visible()
    await brand_page.get_by_label("Write to the creator").fill("Yes, go ahead!")
    async with brand_page.expect_navigation():
        await brand_page.locator("#conversation").get_by_role("button", name="Send").click()
    await expect(brand_page.locator(".message-mine").get_by_text("Yes, go ahead!")).to_be_visible()
    await shoot(brand_page, "conversation-brand")
    await brand_page.goto("/portal/notifications/preferences")
    await brand_page.get_by_label("Money").uncheck()
    async with brand_page.expect_navigation():
        await brand_page.get_by_role("button", name="Save preferences").click()
    await expect(brand_page.get_by_label("Money")).not_to_be_checked()
    await shoot(brand_page, "notification-preferences")

    ops = await signed_in(browser, server, make_tenant(engine, Role.OPS))
    await ops.goto("/portal/mail")
    caught = ops.locator(".mail").filter(has_text=brand.email)
    await caught.locator("summary").click()
    await expect(caught.get_by_text("Here is my shot list.")).to_be_visible()
    await shoot(ops, "mail")
