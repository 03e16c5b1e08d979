"""In the browser, through the gateway: a brand's admin signs in with "Continue with Google"
at a real OpenID Connect provider (tests/integrations/oidc_provider.py), allows NEXUS on its
consent page and lands signed in (linked through the e-mail the provider verified); signed
out, the same button signs them in again. A creator whose e-mail YouTube has not verified is
told so in words, and is not signed in nor linked; a signed-in creator connects YouTube on the
account page instead, and from then on it signs them in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import Engine
from temporalio.client import Client

from domain.enums import Role
from nexus.settings import Settings
from tests.api.test_social_login import identities, social_settings
from tests.browser.support import TIMEOUT_MS, shoot, signed_in
from tests.gateway import Gateway, app_at
from tests.integrations.oidc_provider import Person, Provider, running_provider
from tests.support import make_creator, make_tenant


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    async with running_provider() as found:
        yield found


@pytest.fixture
async def server(
    settings: Settings, engine: Engine, client: Client, provider: Provider, edge: Gateway
) -> AsyncIterator[str]:
    """The app behind the session's gateway, with Google and YouTube at the local provider;
    no worker (signing in starts no process)."""
    configured = settings.model_copy(update={"social": social_settings(provider)})
    async with app_at(configured, engine, client, edge) as base:
        yield base


async def test_a_brand_signs_in_with_google_through_its_verified_e_mail(
    server: str, browser: Browser, engine: Engine, provider: Provider
) -> None:
    brand = make_tenant(engine)
    provider.person = Person("google-brand-1", brand.email, email_verified=True)
    context = await browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto("/portal/login")
    await shoot(page, "login-social")
    for _ in range(2):
        await page.get_by_role("link", name="Continue with Google").click()
        # At the provider: its own consent page, on its own origin.
        await expect(
            page.get_by_role("heading", name=f"Sign in to NEXUS as {brand.email}?")
        ).to_be_visible()
        assert page.url.startswith(provider.issuer)
        await page.get_by_role("button", name="Allow").click()
        await page.wait_for_url("**/portal/campaigns")
        await expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
        assert identities(engine).count(("google", "google-brand-1")) == 1
        await page.get_by_role("button", name="Sign out").click()
        await page.wait_for_url("**/portal/login")
    await context.close()


async def test_an_unverified_e_mail_at_youtube_signs_no_one_in(
    server: str, browser: Browser, engine: Engine, provider: Provider
) -> None:
    creator = make_tenant(engine, Role.CREATOR)
    provider.person = Person("youtube-creator-1", creator.email, email_verified=False)
    context = await browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto("/portal/login")
    await page.get_by_role("link", name="Continue with YouTube").click()
    await page.get_by_role("button", name="Allow").click()
    await expect(
        page.get_by_role("heading", name="Signing in with YouTube did not go through")
    ).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text(
        f"YouTube has not verified the e-mail address {creator.email}"
    )
    await shoot(page, "login-social-refused")
    assert ("youtube", "youtube-creator-1") not in identities(engine)
    await page.goto("/portal")
    await page.wait_for_url("**/portal/login**")
    await context.close()


async def test_a_creator_connects_youtube_on_the_account_page_then_signs_in_with_it(
    server: str, browser: Browser, engine: Engine, provider: Provider
) -> None:
    """Its e-mail unverified at YouTube, the creator's identity is connected by the signed-in
    creator instead, and from then on signs them in."""
    creator = make_creator(engine).tenant
    provider.person = Person("youtube-creator-2", creator.email, email_verified=False)
    page = await signed_in(browser, server, creator)
    await page.wait_for_url("**/portal/work")
    await page.goto("/portal/account")
    await page.get_by_role("button", name="Connect YouTube").click()
    await page.get_by_role("button", name="Allow").click()
    await page.wait_for_url("**/portal/account?connected=youtube")
    await expect(page.get_by_role("status")).to_contain_text(
        "YouTube is connected: from now on it signs you in here."
    )
    await expect(page.get_by_role("button", name="Disconnect YouTube")).to_be_visible()
    await shoot(page, "account-connections")
    assert ("youtube", "youtube-creator-2") in identities(engine)

    await page.get_by_role("button", name="Sign out", exact=True).click()
    await page.wait_for_url("**/portal/login")
    await page.get_by_role("link", name="Continue with YouTube").click()
    await page.get_by_role("button", name="Allow").click()
    await page.wait_for_url("**/portal/work")
    await page.context.close()
