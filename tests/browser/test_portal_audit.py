"""The audit log page in headless Chromium: ops see who changed what by name, narrow it to one
person, and export what they see."""

from __future__ import annotations

import shutil

import httpx
import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import Engine

from domain.enums import Role
from tests.browser.support import shoot, signed_in
from tests.support import login, make_tenant

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium")


async def test_ops_narrow_the_log_to_one_person_and_export_it(
    server: str, browser: Browser, engine: Engine
) -> None:
    one, two = make_tenant(engine), make_tenant(engine)
    async with httpx.AsyncClient(base_url=server) as api:
        for tenant, name in ((one, "Glow Labs"), (two, "Shine Studio")):
            headers = await login(api, tenant) | {"User-Agent": "shop-sync/2.1"}
            created = await api.post("/brands", json={"name": name}, headers=headers)
            assert created.status_code == 201, created.text
    page = await signed_in(browser, server, make_tenant(engine, Role.OPS))

    await page.get_by_role("link", name="Audit log").click()
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("Shine Studio")
    await page.get_by_label("Who").select_option(label=f"User {one.email[5:13]}")
    await page.get_by_role("button", name="Show").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Glow Labs")
    await expect(rows.first).to_contain_text("shop-sync/2.1")
    await shoot(page, "audit")

    async with page.expect_download() as download:
        await page.get_by_role("link", name="Export CSV").click()
    exported = (await (await download.value).path()).read_text()
    assert "Glow Labs" in exported
    assert "Shine Studio" not in exported
