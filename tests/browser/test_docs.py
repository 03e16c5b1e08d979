"""The API docs render in Chromium with every other origin unreachable, as on a machine
without internet: Swagger UI lists the operations and ReDoc the reference, with no request
leaving the platform and nothing the pages need refused by their Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Locator, Page, Route, expect

from tests.browser.support import SHOTS, TIMEOUT_MS


async def offline_page(browser: Browser, base: str) -> tuple[Page, list[str], list[str]]:
    """A page whose requests to other origins are aborted; returns it with the list of those
    requests and of the console's errors, filled as the page runs."""
    context = await browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    elsewhere: list[str] = []
    errors: list[str] = []

    async def only_the_platform(route: Route) -> None:
        url = route.request.url
        if url.startswith(base) or url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            elsewhere.append(url)
            await route.abort("internetdisconnected")

    await context.route("**/*", only_the_platform)
    page = await context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, elsewhere, errors


async def shoot_screen(page: Page, name: str, at: Locator) -> None:
    """Like support.shoot, one screen from `at` down: the full pages run to many metres."""
    if not SHOTS:
        return
    for width, height, suffix in ((1280, 900, "desktop"), (375, 812, "phone")):
        await page.set_viewport_size({"width": width, "height": height})
        await at.scroll_into_view_if_needed()
        await page.screenshot(path=Path(SHOTS) / f"{name}-{suffix}.png")


async def scroll_to(page: Page, target: Locator) -> None:
    """Scroll down until `target` is on the page: Swagger UI mounts a long list of operations
    (over about 125) only as it scrolls into view, as a reader sees it."""
    for _ in range(200):
        if await target.count():
            break
        await page.mouse.wheel(0, 500)
        await page.wait_for_timeout(50)
    await target.scroll_into_view_if_needed()


async def test_swagger_ui_renders_the_operations_offline(browser: Browser, server: str) -> None:
    page, elsewhere, errors = await offline_page(browser, server)
    await page.goto("/docs")
    title = page.get_by_role("heading", level=1)
    await expect(title).to_contain_text("NEXUS API", timeout=TIMEOUT_MS)
    await expect(page.locator(".opblock").first).to_be_visible()
    # The last tag's last operation, then back up to one in the middle: every part renders.
    last = page.locator(
        '.opblock-post:has(.opblock-summary-path[data-path="/ops/users/{user_id}/verification-email"])'
    )
    await scroll_to(page, last)
    await expect(last).to_be_visible()
    await page.mouse.wheel(0, -100_000)
    operation = page.locator('.opblock-post:has(.opblock-summary-path[data-path="/campaigns"])')
    await scroll_to(page, operation)
    await expect(operation).to_be_visible()
    await shoot_screen(page, "api-docs", title)
    await operation.locator(".opblock-summary-control").click()
    await expect(operation.get_by_role("button", name="Try it out")).to_be_visible()
    assert elsewhere == []
    assert errors == []


async def test_redoc_renders_the_reference_offline(browser: Browser, server: str) -> None:
    page, elsewhere, errors = await offline_page(browser, server)
    await page.goto("/redoc")
    await expect(page.locator("h1").first).to_contain_text("NEXUS API", timeout=TIMEOUT_MS)
    await expect(page.get_by_text("/campaigns").first).to_be_attached()
    await shoot_screen(page, "api-reference", page.locator("h1").first)
    assert elsewhere == []
    # ReDoc's own "API docs by Redocly" badge names its logo on Redocly's CDN: the policy
    # refuses that one image, and the badge keeps its text.
    assert [e for e in errors if "cdn.redoc.ly/redoc/logo-mini.svg" not in e] == []
