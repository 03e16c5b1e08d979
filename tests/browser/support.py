"""What the browser tests share: signing in through the form, and screenshots on request."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.support import PASSWORD, Tenant

SHOTS = os.environ.get("NEXUS_PORTAL_SCREENSHOTS")
TIMEOUT_MS = 30_000


async def shoot(page: Page, name: str) -> None:
    """Save the page at desktop and phone width when screenshots are asked for."""
    if not SHOTS:
        return
    for width, height, suffix in ((1280, 900, "desktop"), (375, 812, "phone")):
        await page.set_viewport_size({"width": width, "height": height})
        await page.screenshot(path=Path(SHOTS) / f"{name}-{suffix}.png", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})


async def signed_in(browser: Browser, base: str, tenant: Tenant) -> Page:
    context = await browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto("/portal/login")
    await page.get_by_label("E-mail").fill(tenant.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/portal/**")
    return page


async def upload(page: Page, source: Path, caption: str | None) -> str:
    """Upload through the delivery's upload form (not the conversation's file field); returns
    the highest progress the bar showed."""
    form = page.locator("form[data-upload]")
    stage = page.locator("#delivery-stage")
    before = await stage.text_content()
    # The page navigates once the upload is in: keep what the bar showed across it.
    await page.evaluate(
        """() => { const bar = document.querySelector('form[data-upload] progress');
        new MutationObserver(() => sessionStorage.setItem('progress', String(bar.value)))
          .observe(bar, {attributes: true}); }"""
    )
    await form.locator("input[type=file]").set_input_files(source)
    if caption is not None:
        await form.get_by_label("Caption").fill(caption)
    # The script uploads, then submits the form: wait for that navigation, or the page could
    # be read while it is replaced.
    async with page.expect_navigation(timeout=TIMEOUT_MS):
        await form.locator("button[type=submit]").click()
    await expect(stage).not_to_have_text(before or "")
    return str(await page.evaluate("() => sessionStorage.getItem('progress')"))
