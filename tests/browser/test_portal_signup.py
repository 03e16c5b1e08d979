"""In the browser, a new brand's first day: it signs up on the portal, signs in and sees the
first-run checklist, opens the verification link from the e-mail the development mail
catcher kept, invites a member of its team, builds, funds (ops confirm the transfer) and
publishes a first campaign, and the checklist is gone.

Set NEXUS_PORTAL_SCREENSHOTS=<dir> to save the pages at 1280 and 375 px."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import Engine

from domain.enums import Role
from nexus.settings import Settings
from tests.api.test_inbox import running_catcher
from tests.browser.support import TIMEOUT_MS, shoot, signed_in
from tests.support import free_port, make_tenant

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium")

PASSWORD = "a long and private passphrase"
TITLE = "Spring serum launch"


@pytest.fixture
async def settings(settings: Settings) -> AsyncIterator[Settings]:
    """As in development: e-mail goes to the real mail catcher, and each person reads the
    mail sent to them on the portal's mail page."""
    port = free_port()
    mail = settings.notifications.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False,
                "mail_catcher_port": port}
    )  # fmt: skip
    configured = settings.model_copy(update={"notifications": mail, "env": "development"})
    async with running_catcher(configured, port):
        yield configured


async def test_a_new_brand_signs_up_verifies_invites_funds_and_publishes(
    server: str, browser: Browser, engine: Engine
) -> None:
    email = f"bea-{uuid.uuid4().hex[:8]}@glowbotanics.example"
    context = await browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()

    # -- sign up and sign in ------------------------------------------------------------------
    await page.goto("/portal/login")
    await page.get_by_role("link", name="Sign up your brand").click()
    await expect(page.get_by_role("heading", name="Sign up your brand or agency")).to_be_visible()
    await page.get_by_label("Your name").fill("Bea Brand")
    await page.get_by_label("Work e-mail").fill(email)
    await page.get_by_label("Password").fill("short")
    await page.get_by_label("Brand name").fill("Glow Botanics")
    await shoot(page, "signup-brand")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.locator("#password-error")).to_have_text("Use at least 12 characters.")
    await expect(page.get_by_label("Brand name")).to_have_value("Glow Botanics")
    await shoot(page, "signup-brand-errors")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    await page.goto("/portal/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    checklist = page.locator("section.first-run")
    await expect(checklist.get_by_role("heading", name="Get started")).to_be_visible()
    await expect(checklist.locator("li.done")).to_have_count(1)
    await expect(checklist.locator("li.todo").first).to_contain_text("Verify your e-mail address")
    await shoot(page, "first-run-checklist")

    # -- the verification link, from the caught e-mail ----------------------------------------
    await page.goto("/portal/mail")
    mail = page.locator(".mail").filter(has_text="verify your e-mail address")
    await mail.locator("summary").click()
    link = mail.get_by_role("link", name=re.compile(r"verify\?token="))
    href = await link.get_attribute("href")
    assert href is not None
    target = urlsplit(href)
    await page.goto(f"{target.path}?{target.query}")
    await expect(page.get_by_role("status")).to_contain_text(f"{email} is verified")
    await shoot(page, "email-verified")
    await page.goto(f"{target.path}?{target.query}")
    await expect(page.get_by_role("alert")).to_contain_text("used already")
    await expect(page.get_by_role("status")).to_contain_text("verified already")
    await shoot(page, "verify-link-used")

    # -- the team ---------------------------------------------------------------------------
    await page.goto("/portal/campaigns")
    await expect(checklist.locator("li.done")).to_have_count(2)
    await checklist.get_by_role("link", name="Add a brand").click()
    await expect(page.locator(".brand-list")).to_contain_text("Glow Botanics")
    await shoot(page, "brands")
    await page.goto("/portal/campaigns")
    await checklist.get_by_role("link", name="Invite your team").click()
    await page.get_by_label("E-mail").fill(f"sam-{uuid.uuid4().hex[:6]}@glowbotanics.example")
    await page.get_by_role("button", name="Send invitation").click()
    await expect(page.get_by_label("Invitation link")).to_have_value(
        re.compile("/portal/invitations/")
    )

    # -- a first campaign, funded and published ----------------------------------------------
    await page.goto("/portal/campaigns")
    await expect(checklist.locator("li.done")).to_have_count(3)
    await checklist.get_by_role("link", name="Fund your first campaign").click()
    now = datetime.now(UTC)
    await page.get_by_label("Title", exact=True).fill(TITLE)
    await page.get_by_label("Budget", exact=True).fill("1000")
    await page.get_by_label("Product", exact=True).fill("Glow serum 30 ml")
    await page.get_by_label("Objective", exact=True).fill("Awareness among skincare buyers")
    closes, due = now + timedelta(days=2), now + timedelta(days=21)
    await page.get_by_label("Applications close (UTC)").fill(closes.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("Delivery due (UTC)").fill(due.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("Platforms", exact=True).fill("tiktok")
    await page.get_by_label("Territories", exact=True).fill("US")
    await page.locator("#d0_price").fill("500")
    await page.get_by_role("button", name="Create draft campaign").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)

    await page.get_by_role("button", name="Fund campaign").click()
    payment = page.locator(".payment")
    reference = (await payment.locator(".reference").inner_text()).strip()
    asked = payment.locator("p").filter(has_text=re.compile(r"^Pay ")).locator("strong")
    total = re.search(r"[\d,]+\.\d{2}", await asked.first.inner_text())
    assert total is not None

    ops = await signed_in(browser, server, make_tenant(engine, Role.OPS))
    await ops.goto("/portal/ops/fundings")
    confirm = ops.get_by_role("form", name=f"Confirm the transfer of Glow Botanics for {TITLE}")
    await confirm.get_by_label("Amount received (USD)").fill(total.group(0))
    await confirm.get_by_label("Reference quoted").fill(reference)
    await confirm.get_by_role("button", name="Confirm received").click()
    await expect(ops.get_by_role("status")).to_contain_text(f"Transfer {reference} confirmed")

    await page.reload()
    await expect(page.locator(".payment")).to_have_count(0)
    await page.get_by_role("button", name="Publish").click()
    await expect(page.locator(".facts .stage")).to_have_text("published")

    # -- every step done: the checklist is gone -----------------------------------------------
    await page.goto("/portal/campaigns")
    await expect(page.get_by_role("link", name=TITLE)).to_be_visible()
    await expect(page.locator("section.first-run")).to_have_count(0)
    await shoot(page, "first-run-done")
