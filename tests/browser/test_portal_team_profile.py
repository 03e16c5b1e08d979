"""The Team and Profile pages in headless Chromium: a brand admin invites a colleague (the
bad e-mail first, its message next to the field), the colleague joins through the link; a
creator edits the profile and adds a sample link beside finished work, which plays its video
with the thumbnail as poster."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import Engine

from integrations.storage import store_from_settings
from nexus.settings import Settings
from tests.api.test_creator_profile import checked_work
from tests.browser.support import TIMEOUT_MS, shoot, signed_in
from tests.support import make_creator, make_tenant

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium")


async def test_an_admin_invites_a_colleague_who_joins(
    server: str, browser: Browser, engine: Engine
) -> None:
    admin = make_tenant(engine)
    page = await signed_in(browser, server, admin)
    await page.get_by_role("link", name="Team", exact=True).click()
    await page.get_by_label("E-mail").fill("colleague-at-example")
    await page.get_by_role("button", name="Send invitation").click()
    await expect(page.locator("#email-error")).to_have_text(
        "Enter an e-mail address like name@example.com."
    )
    email = f"colleague-{uuid.uuid4().hex[:6]}@example.com"
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Role", exact=True).select_option("brand_admin")
    await page.get_by_role("button", name="Send invitation").click()
    link = await page.get_by_label("Invitation link").input_value()
    await expect(page.get_by_text(email).first).to_be_visible()
    await shoot(page, "team")

    context = await browser.new_context(base_url=server)
    context.set_default_timeout(TIMEOUT_MS)
    guest = await context.new_page()
    await guest.goto(link)
    await guest.get_by_label("Your name").fill("Colleague")
    await guest.get_by_label("Password").fill("a long enough password")
    await guest.get_by_role("button", name="Join").click()
    await guest.wait_for_url("**/portal/campaigns")
    await expect(guest.get_by_role("link", name="Team", exact=True)).to_be_visible()


def _thumbnail(path: Path) -> None:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x568",
         "-frames:v", "1", str(path)],
        check=True,
    )  # fmt: skip


async def test_a_creator_edits_the_profile_beside_the_portfolio(
    server: str, browser: Browser, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    brand, creator = make_tenant(engine), make_creator(engine)
    _, submission_id = checked_work(engine, settings, tmp_path, brand, creator)
    image = tmp_path / "thumbnail.jpg"
    await asyncio.to_thread(_thumbnail, image)
    key = f"media/{submission_id}/thumb.jpg"
    store_from_settings(settings.storage).put_file(key, image, "image/jpeg")

    page = await signed_in(browser, server, creator.tenant)
    await page.get_by_role("link", name="Profile").click()
    await page.get_by_label("Country").fill("XX")
    await page.get_by_role("button", name="Save profile").click()
    await expect(page.locator("#country-error")).to_contain_text("two-letter code")
    await page.get_by_label("Display name").fill("Ana Lima")
    await page.get_by_label("Bio").fill("Skincare routines and honest reviews, filmed at home.")
    await page.get_by_label("Country").fill("PT")
    await page.get_by_role("button", name="Save profile").click()
    await expect(page.get_by_text("Profile saved.")).to_be_visible()
    await page.get_by_label("Sample link").fill("https://example.com/ana/reel")
    await page.get_by_label("Title").fill("Morning routine reel")
    await page.get_by_role("button", name="Add link").click()
    await expect(page.get_by_role("link", name="Morning routine reel")).to_be_visible()
    # The finished work plays its checked video, with the thumbnail as its poster.
    player = page.get_by_label("Video for Licensed campaign")
    await expect(player).to_have_attribute("src", re.compile(f"/{submission_id}$"))
    poster = await player.get_attribute("poster")
    assert poster is not None
    width = await page.evaluate(
        """src => new Promise(done => { const image = new Image();
        image.onload = () => done(image.naturalWidth); image.onerror = () => done(0);
        image.src = src; })""",
        poster,
    )
    assert width == 320
    await shoot(page, "profile")
