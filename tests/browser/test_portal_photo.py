"""In the browser: a creator uploads a photo draft through the task page (it says photo and
offers photo types), the checks pass it, and the brand's review page shows the platform's
upright copy as an image, drawn by the browser under the portal's CSP."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Browser, expect
from sqlalchemy import Engine

from tests.activities.test_photo import phone_photo
from tests.api.delivery_support import started_delivery
from tests.browser.support import TIMEOUT_MS, shoot, signed_in, upload
from tests.e2e.support import GOOD_CAPTION


async def test_a_photo_draft_uploaded_in_the_portal_is_shown_to_the_brand(
    server: str, browser: Browser, http: httpx.AsyncClient, engine: Engine, tmp_path: Path
) -> None:
    s = await started_delivery(http, engine, deliverable={"format": "photo", "duration_s": None})
    page = await signed_in(browser, server, s.creator.tenant)
    await page.goto(f"/portal/deliveries/{s.delivery_id}")
    form = page.locator("form[data-upload]")
    await expect(form.get_by_label("Draft photo")).to_have_attribute(
        "accept", "image/jpeg,image/png,image/webp"
    )
    await shoot(page, "photo-task")
    await upload(page, phone_photo(tmp_path / "IMG_0002.jpg"), GOOD_CAPTION)
    await expect(page.locator("#delivery-stage")).to_have_text("in review", timeout=TIMEOUT_MS)

    brand = await signed_in(browser, server, s.brand)
    await brand.goto(f"/portal/deliveries/{s.delivery_id}")
    photo = brand.locator("img#player")
    await expect(photo).to_have_attribute("alt", "Draft 1 photo")
    await expect(brand.locator("video")).to_have_count(0)
    # Decoded by the browser: the portal's CSP lets the image in, and it is upright.
    drawn = await photo.evaluate("i => i.decode().then(() => [i.naturalWidth, i.naturalHeight])")
    assert drawn == [300, 400]
    await shoot(brand, "photo-review")
