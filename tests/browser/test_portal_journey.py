"""The portal in real headless Chromium (Debian's, driven by Playwright) against a real
uvicorn server, the test's PostgreSQL and Temporal dev server, and real workers.

A brand builds and funds a campaign; a creator applies and is accepted, uploads a generated
video (with the upload's progress shown), reads the check report and fixes the caption; the
brand asks for a revision in the review player, the creator resubmits, the brand approves and
proposes a license renewal the creator accepts, and the creator sees the payout go out once
payouts are set up. Meanwhile an ops user resolves a moderation case that waits for a person.
Set NEXUS_PORTAL_SCREENSHOTS=<dir> to save the pages at desktop and phone width.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import Engine
from temporalio.client import Client

from domain.enums import Role
from integrations.storage import store_from_settings
from nexus.settings import Settings
from tests.browser.support import TIMEOUT_MS, shoot, signed_in, upload
from tests.e2e.support import GOOD_CAPTION
from tests.media import video
from tests.support import login, make_creator, make_tenant
from workflows.contracts.moderation import BriefRules, ModerationReport, ModerationRequest
from workflows.moderation import ModerationWorkflow, workflow_id
from workflows.task_queues import cpu_queue

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium")


async def stage_is(page: Page, stage: str) -> None:
    await expect(page.locator("#delivery-stage")).to_have_text(stage, timeout=TIMEOUT_MS)


async def start_review_case(client: Client, settings: Settings, tmp_path: Path) -> uuid.UUID:
    """A video that brand safety sends to a person (it mentions a gun)."""
    asset_id = uuid.uuid4()
    source = video(tmp_path / "gun.mp4", say="sponsored by Glow. I love my gun", seconds=4)
    key = f"uploads/{asset_id}/gun.mp4"
    store_from_settings(settings.storage).put_file(key, source, "video/mp4")
    await client.start_workflow(
        ModerationWorkflow.run,
        ModerationRequest(
            asset_id=asset_id, source_key=key, caption="#ad Glow",
            brief=BriefRules(brand="Glow", mandatory_mentions=["Glow"]),
        ),
        id=workflow_id(asset_id),
        task_queue=cpu_queue(settings.temporal.task_queue),
        execution_timeout=timedelta(seconds=180),
    )  # fmt: skip
    return asset_id


async def test_brief_to_payout_in_the_browser_and_an_ops_review(
    server: str,
    browser: Browser,
    client: Client,
    settings: Settings,
    engine: Engine,
    tmp_path: Path,
) -> None:
    case = await start_review_case(client, settings, tmp_path)
    # Passes once the caption is fixed, with a brand-safety warning at the second it is said.
    speech = "this video is sponsored by Glow. I took some pills and got so high"
    draft = video(tmp_path / "draft.mp4", seconds=6, say=speech)
    brand_tenant = make_tenant(engine)
    creator_account = make_creator(engine, niches=["beauty"])

    # -- the brand builds the brief, funds and publishes ---------------------------------
    brand = await signed_in(browser, server, brand_tenant)
    await brand.get_by_role("link", name="New campaign").click()
    await brand.get_by_label("Title", exact=True).fill("Glow <i>spring</i>")
    await brand.get_by_label("Budget", exact=True).fill("3000")
    await brand.get_by_label("Product", exact=True).fill("Glow serum 30 ml")
    await brand.get_by_label("Objective", exact=True).fill("Awareness among skincare buyers")
    await brand.get_by_label("Mandatory mentions", exact=True).fill("Glow serum")
    await brand.get_by_label("Target niches", exact=True).fill("beauty")
    closes = datetime.now(UTC) + timedelta(minutes=30)
    await brand.get_by_label("Applications close (UTC)").fill(closes.strftime("%Y-%m-%dT%H:%M"))
    await brand.locator("#d0_price").fill("800")
    await shoot(brand, "brief-builder")
    await brand.get_by_role("button", name="Create draft campaign").click()
    await expect(brand.get_by_role("heading", level=1)).to_have_text("Glow <i>spring</i>")
    campaign_url = brand.url
    await brand.get_by_role("button", name="Fund campaign").click()
    await expect(brand.get_by_text("awaiting transfer")).to_be_visible()

    async with httpx.AsyncClient(base_url=server) as api:
        cid = campaign_url.rsplit("/", 1)[1]
        headers = await login(api, brand_tenant)
        [funding] = (await api.get(f"/campaigns/{cid}/fundings", headers=headers)).json()
        ops_headers = await login(api, make_tenant(engine, Role.OPS))
        confirmed = await api.post(f"/ops/fundings/{funding['id']}/confirm", headers=ops_headers)
        assert confirmed.status_code == 200, confirmed.text
    await brand.reload()
    await expect(brand.get_by_text("succeeded")).to_be_visible()
    await brand.get_by_role("button", name="Publish").click()
    await expect(brand.locator(".facts .stage")).to_have_text("published")
    await shoot(brand, "campaign")

    # -- the creator applies; the brand accepts -------------------------------------------
    creator = await signed_in(browser, server, creator_account.tenant)
    await creator.get_by_role("link", name="Find campaigns").click()
    await shoot(creator, "marketplace")
    await creator.get_by_role("link", name="Read the brief and apply").click()
    await shoot(creator, "campaign-brief")
    await creator.get_by_label("Your pitch").fill("Morning routines are my thing")
    await creator.get_by_label("Your price (USD)").fill("750")
    await creator.get_by_role("button", name="Apply").click()
    await expect(creator.get_by_text("Waiting for the brand's answer")).to_be_visible()

    await brand.reload()
    await expect(brand.get_by_text("Morning routines are my thing")).to_be_visible()
    await brand.get_by_role("button", name="Accept").click()
    await expect(brand.get_by_role("link", name="Open delivery")).to_be_visible()

    # -- the creator works through the tasks ----------------------------------------------
    await creator.get_by_role("link", name="My work").click()
    await creator.get_by_role("link", name="Glow <i>spring</i>").click()
    await creator.get_by_role("button", name="Accept the brief").click()
    await expect(creator.get_by_label("Draft video")).to_be_visible()
    await shoot(creator, "tasks")
    progress = await upload(creator, draft, "Loving this serum #spon")
    assert progress == "100"
    # The page follows the checks without a reload, then shows what to fix.
    await stage_is(creator, "fixing")
    await expect(creator.get_by_text("the caption's wording isn't clear enough")).to_be_visible()
    await shoot(creator, "check-report")
    await upload(creator, draft, GOOD_CAPTION)
    await stage_is(creator, "in review")

    # -- the brand reviews in the player and asks for a revision --------------------------
    await brand.get_by_role("link", name="Reviews").click()
    await shoot(brand, "review-queue")
    await brand.get_by_role("link", name="Review draft").click()
    player = brand.locator("video#player")
    await expect(player).to_have_js_property("readyState", 4, timeout=TIMEOUT_MS)
    await shoot(brand, "review")
    # The warning names where it is said; its button moves the player there.
    seek = brand.locator("button.seek").first
    at = int(await seek.get_attribute("data-seek") or "")
    assert at > 0
    await brand.evaluate(
        """() => { const v = document.querySelector('video#player');
        v.addEventListener('seeked', () => { window.seekedTo = v.currentTime; }, {once: true}); }"""
    )
    await seek.click()
    await brand.wait_for_function("at => Math.abs(window.seekedTo - at) < 0.5", arg=at)
    await brand.get_by_role("button", name="Request revision").click()
    await expect(brand.locator("#notes-error")).to_have_text("Tell the creator what to change.")
    await brand.get_by_label("Notes for the creator").fill("Show the <texture> closer")
    await brand.get_by_role("button", name="Request revision").click()
    await stage_is(brand, "revising")

    await creator.reload()
    await expect(creator.get_by_text("Show the <texture> closer")).to_be_visible()
    await upload(creator, draft, GOOD_CAPTION)
    await stage_is(creator, "in review")

    await brand.reload()
    await brand.get_by_role("button", name="Approve").click()
    await stage_is(brand, "awaiting final")

    # -- the brand renews the license; the creator accepts -------------------------------
    await brand.get_by_role("link", name="Licenses").click()
    renew_to = (datetime.now(UTC) + timedelta(days=500)).date()
    await brand.get_by_label("Renew until").fill(renew_to.isoformat())
    await brand.get_by_label("Extra fee (USD)").fill("50")
    await brand.get_by_role("button", name="Propose renewal").click()
    await expect(brand.get_by_role("status")).to_contain_text("Renewal proposed")
    await shoot(brand, "licenses")
    await creator.get_by_role("link", name="Licenses").click()
    await expect(creator.locator("article")).to_contain_text("for an extra 50.00 USD")
    await creator.get_by_role("button", name="Accept").click()
    await expect(creator.locator("article")).to_contain_text(f"until {renew_to.isoformat()}")

    # -- the creator sees the payout -------------------------------------------------------
    await creator.get_by_role("link", name="Earnings").click()
    await expect(creator.locator("#payouts")).to_contain_text("750.00 USD")
    await expect(creator.locator("#payouts .status")).to_have_text("awaiting onboarding")
    # Bank details (the manual provider pays to them) send it on; the list follows.
    await creator.get_by_label("Account holder name").fill("Ada Lovelace")
    await creator.get_by_label("IBAN", exact=True).fill("DE89 3704 0044 0532 0130 00")
    await creator.get_by_role("button", name="Save bank details").click()
    await expect(creator.get_by_text("IBAN DE·· ···· 3000")).to_be_visible()
    await expect(creator.locator("#payouts .status")).to_have_text("awaiting settlement")
    await shoot(creator, "earnings")

    # -- ops resolve the case waiting for a person ----------------------------------------
    ops = await signed_in(browser, server, make_tenant(engine, Role.OPS))
    card = ops.locator(f"#case-{case}")
    for _ in range(60):
        if await card.count():
            break
        await asyncio.sleep(1)
        await ops.reload()
    await shoot(ops, "ops-console")
    # The case page plays the video from the finding's moment beside the caption.
    await card.get_by_role("link", name="Review").click()
    await expect(ops.locator("video#player")).to_have_js_property("readyState", 4)
    await shoot(ops, "ops-case")
    await ops.get_by_label("Approve: the draft goes on to the brand").check()
    await ops.get_by_label("Note").fill("A toy gun in a skincare video: fine")
    await ops.get_by_role("button", name="Record decision").click()
    await expect(ops.get_by_role("heading", name="Ops console")).to_be_visible()
    await expect(ops.locator(f"#case-{case}")).to_have_count(0)
    handle = client.get_workflow_handle(workflow_id(case), result_type=ModerationReport)
    report = await handle.result()
    assert (report.decision, report.reason) == (
        "pass",
        "Reviewed: A toy gun in a skincare video: fine",
    )
