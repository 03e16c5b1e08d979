"""In the browser: the caption field of the draft upload checks the ad disclosure as the
creator types (htmx), in words, before anything is uploaded."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, expect
from sqlalchemy import Engine

from tests.api.delivery_support import started_delivery
from tests.browser.support import shoot, signed_in


async def test_the_caption_is_checked_live_before_upload(
    server: str, browser: Browser, http: httpx.AsyncClient, engine: Engine
) -> None:
    s = await started_delivery(http, engine)
    page = await signed_in(browser, server, s.creator.tenant)
    await page.goto(f"/portal/deliveries/{s.delivery_id}")
    caption = page.locator("form[data-upload]").get_by_label("Caption")
    check = page.locator("#caption-check")

    await caption.fill("Not sponsored, I just love this serum")
    # The first check of the server process loads the language identifier's models.
    await expect(check).to_contain_text(
        "Ad disclosure: the caption says it isn't an ad", timeout=30_000
    )
    await expect(check).to_contain_text("No claim that a paid endorsement is independent")
    await shoot(page, "caption-check-denied")

    await caption.fill("Loving my new serum #ad\u200bventure")
    await expect(check).to_contain_text("Ad disclosure: the caption doesn't say it's an ad")

    await caption.fill("#ad Loving my new Glow serum")
    await expect(check).to_contain_text("The ad disclosure looks right.")
    await shoot(page, "caption-check-ok")
    # Nothing was sent: the delivery still waits for its draft.
    assert (await s.read(http))["stage"] == "awaiting_draft"
