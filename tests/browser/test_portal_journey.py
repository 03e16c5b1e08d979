"""The whole journey in real headless Chromium (Debian's, driven by Playwright) against a real
uvicorn server, the test's PostgreSQL and Temporal dev server, real workers and e-mail through
the real mail catcher, as a brand admin, a creator and ops:

1. the brand builds a campaign that asks for a script first, edits the draft, funds it by bank
   transfer (bank details, payment reference, the invoice PDF), ops confirm the transfer from
   the bank statement's amount and reference, and the brand publishes;
2. the creator reads the brand's terms on the marketplace card and the full brief, applies with
   a pitch and a price, and the brand accepts them by name: the single slot is taken, so the
   campaign is no longer offered to another creator;
3. the creator accepts the brief (shown with its rights on the step) and sends a script, the
   brand asks for changes, the creator sends it again and the brand approves it;
4. the draft: refused by the checks for its caption (findings in words), held for a person by
   brand safety (ops decide on the case page while the creator is told a person is looking),
   a revision asked by the brand, then approved; drafts numbered from 1;
5. brand and creator write in the delivery's conversation: the inbox badge, the inbox and the
   caught e-mail;
6. the brand's license page: the approved video, its download and the certificate (PDF with
   both names and the fee as money);
7. the creator's bank details (an invalid IBAN refused next to its field, then shown masked),
   the final files checked, the delivery and the campaign complete;
8. ops put the payout in a bank batch, export its CSV and settle it; the creator sees it paid;
   the brand downloads the statement CSV.

Set NEXUS_PORTAL_SCREENSHOTS=<dir> to save every page visited at 1280 and 375 px.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, expect
from pypdf import PdfReader
from sqlalchemy import Engine

from domain.enums import Role
from models.brands import Brand
from models.creators import CreatorProfile
from models.db import session_scope
from models.workspaces import User, Workspace
from nexus.settings import Settings
from tests.api.test_inbox import running_catcher
from tests.browser.support import TIMEOUT_MS, shoot, signed_in, upload
from tests.e2e.support import GOOD_CAPTION
from tests.media import video
from tests.support import CreatorAccount, Tenant, free_port, make_creator, make_tenant

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium")

# The checks of one video (transcode, speech, brand safety) on this loaded machine.
CHECKS_MS = 150_000
TITLE = "Glow spring launch"
BRAND, ADMIN = "Glow Labs", "Grace Hopper"
CREATOR, HANDLE = "Ada Lovelace", "adalovelace"
# Said in the first draft: brand safety holds it for a person (a weapon is mentioned).
HELD_SPEECH = "This video is sponsored by Glow. I love my gun"
CLEAN_SPEECH = "This video is sponsored by Glow. My morning routine with Glow serum"
MONEY = r"[\d,]+\.\d{2}"


@pytest.fixture
async def settings(settings: Settings) -> AsyncIterator[Settings]:
    """E-mail on for the server and the workers, through the real mail catcher (as in
    development), which keeps what it catches for the portal's mail page."""
    port = free_port()
    mail = settings.notifications.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False,
                "mail_catcher_port": port}
    )  # fmt: skip
    configured = settings.model_copy(update={"notifications": mail})
    async with running_catcher(configured, port):
        yield configured


def named_brand(engine: Engine, tenant: Tenant, name: str, admin: str, email: str) -> Tenant:
    """The brand, its workspace and its admin with the names people read on the pages."""
    with session_scope(engine) as session:
        brand, workspace = (
            session.get(Brand, tenant.brand_id),
            session.get(Workspace, tenant.workspace_id),
        )
        user = session.get(User, tenant.user_id)
        assert brand and workspace and user
        brand.name = workspace.name = name
        user.name, user.email = admin, email
        session.add_all([brand, workspace, user])
    return dataclasses.replace(tenant, email=email)


def named_creator(
    engine: Engine, account: CreatorAccount, name: str, handle: str
) -> CreatorAccount:
    email = f"{handle}@example.com"
    with session_scope(engine) as session:
        profile, user = (
            session.get(CreatorProfile, account.creator_id),
            session.get(User, account.user_id),
        )
        assert profile and user
        profile.display_name = user.name = name
        profile.handle, user.email = handle, email
        session.add_all([profile, user])
    return dataclasses.replace(account, email=email)


async def stage_is(page: Page, stage: str, wait_ms: float = TIMEOUT_MS) -> None:
    await expect(page.locator("#delivery-stage")).to_have_text(stage, timeout=wait_ms)


async def reload_until(page: Page, locator: Locator, text: str, timeout_s: float = 60) -> None:
    """Reload until `locator` shows `text`: for what a page does not poll for."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            await expect(locator).to_contain_text(text, timeout=2_000)
            return
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await page.reload()


async def download(page: Page, link: Locator) -> bytes:
    """Click a download link; the file the browser saved."""
    async with page.expect_download() as started:
        await link.click()
    saved = await (await started.value).path()
    return await asyncio.to_thread(saved.read_bytes)


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF"), data[:20]
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def amount_in(text: str) -> str:
    found = re.search(MONEY, text)
    assert found, text
    return found.group(0)


@pytest.mark.heavy
async def test_a_campaign_from_brief_to_payout_as_brand_creator_and_ops(
    server: str, browser: Browser, engine: Engine, tmp_path: Path
) -> None:
    held = video(tmp_path / "held.mp4", seconds=5, say=HELD_SPEECH)
    clean = video(tmp_path / "clean.mp4", seconds=5, say=CLEAN_SPEECH)
    brand_tenant = named_brand(engine, make_tenant(engine), BRAND, ADMIN, "grace@glowlabs.example")
    ops_tenant = make_tenant(engine, Role.OPS)
    ada = named_creator(engine, make_creator(engine, niches=["beauty"]), CREATOR, HANDLE)
    ben = named_creator(engine, make_creator(engine, niches=["beauty"]), "Ben Okafor", "benokafor")
    now = datetime.now(UTC)
    closes, due = now + timedelta(days=2), now + timedelta(days=21)

    # -- 1. the brand builds, edits and funds the campaign; ops confirm; the brand publishes --
    brand = await signed_in(browser, server, brand_tenant)
    missing = await brand.goto("/portal/no-such-page")
    assert missing is not None and missing.status == 404
    assert missing.headers["content-type"].startswith("text/html")
    await expect(brand.get_by_role("heading", name="Page not found")).to_be_visible()
    await shoot(brand, "not-found")
    await brand.get_by_role("link", name="Your campaigns").click()
    await brand.get_by_role("link", name="New campaign").click()
    await brand.get_by_label("Title", exact=True).fill(TITLE)
    await brand.get_by_label("Budget", exact=True).fill("3000")
    await brand.get_by_label("Product", exact=True).fill("Glow serum 30 ml")
    await brand.get_by_label("Objective", exact=True).fill("Awareness among skincare buyers")
    await brand.get_by_label("Mandatory mentions", exact=True).fill("Glow serum")
    await brand.get_by_label("We approve a script first").check()
    await brand.get_by_label("Target niches", exact=True).fill("beauty")
    await brand.get_by_label("Language of the posts").select_option("en")
    await brand.get_by_label("Applications close (UTC)").fill(closes.strftime("%Y-%m-%dT%H:%M"))
    await brand.get_by_label("Delivery due (UTC)").fill(due.strftime("%Y-%m-%dT%H:%M"))
    await brand.get_by_label("Platforms", exact=True).fill("tiktok, instagram")
    await brand.get_by_label("Territories", exact=True).fill("US, DE")
    await brand.get_by_label("Exclusivity (days)").fill("30")
    await brand.get_by_label("Exclusivity category").fill("skincare")
    await brand.locator("#d0_price").fill("800")
    await shoot(brand, "brief-builder")
    await brand.get_by_role("button", name="Create draft campaign").click()
    await expect(brand.get_by_role("heading", level=1)).to_have_text(TITLE)
    campaign_url = brand.url

    await brand.get_by_role("link", name="Edit draft").click()
    await expect(brand.get_by_role("heading", name="Edit draft")).to_be_visible()
    await expect(brand.get_by_label("We approve a script first")).to_be_checked()
    await expect(brand.get_by_label("Language of the posts")).to_have_value("en")
    await brand.get_by_label("Budget", exact=True).fill("2500")
    await brand.get_by_label("Objective", exact=True).fill("Awareness among 18-34 skincare buyers")
    await shoot(brand, "campaign-edit")
    await brand.get_by_role("button", name="Save changes").click()
    facts = brand.locator(".facts").first
    await expect(facts).to_contain_text("2,500.00")
    await expect(facts).to_contain_text("Awareness among 18-34 skincare buyers")

    await brand.get_by_role("button", name="Fund campaign").click()
    payment = brand.locator(".payment")
    await expect(payment).to_be_visible()
    reference = (await payment.locator(".reference").inner_text()).strip()
    assert re.fullmatch(r"[A-Z0-9-]{6,}", reference), reference
    await expect(payment.locator(".bank-details")).to_contain_text("IBAN")
    await expect(payment.locator(".bank-details")).to_contain_text("BIC / SWIFT")
    asked = payment.locator("p").filter(has_text=re.compile(r"^Pay ")).locator("strong")
    total = amount_in(await asked.first.inner_text())
    await shoot(brand, "funding")
    invoice = pdf_text(
        await download(brand, payment.get_by_role("link", name="Download invoice (PDF)"))
    )
    assert reference in invoice and TITLE in invoice and BRAND in invoice

    ops = await signed_in(browser, server, ops_tenant)
    await ops.get_by_role("link", name="Money").click()
    await expect(ops.get_by_role("heading", name="Fundings")).to_be_visible()
    await expect(ops.locator("table.fundings")).to_contain_text(BRAND)
    confirm = ops.get_by_role("form", name=f"Confirm the transfer of {BRAND} for {TITLE}")
    await shoot(ops, "ops-fundings")
    await confirm.get_by_label("Amount received (USD)").fill(total)
    await confirm.get_by_label("Reference quoted").fill(reference.lower())
    await confirm.get_by_role("button", name="Confirm received").click()
    await expect(ops.get_by_role("status")).to_contain_text(f"Transfer {reference} confirmed")

    await brand.reload()
    await expect(brand.locator(".payment")).to_have_count(0)
    await brand.get_by_role("button", name="Publish").click()
    await expect(brand.locator(".facts .stage")).to_have_text("published")

    # -- 2. creators read the card and the brief; one applies and is accepted -------------------
    creator = await signed_in(browser, server, ada.tenant)
    await creator.get_by_role("link", name="Find campaigns").click()
    card = creator.locator("article.campaign").filter(has_text=TITLE)
    await expect(card.locator(".brand-name")).to_have_text(BRAND)
    await expect(card).to_contain_text("TikTok")
    await expect(card).to_contain_text("skincare")
    await expect(card).to_contain_text(f"{due.day} {due:%B %Y}")
    await expect(card).to_contain_text("the brand approves a script")
    await shoot(creator, "marketplace")
    rival = await signed_in(browser, server, ben.tenant)
    await rival.goto("/portal/marketplace")
    rival_card = rival.locator("article.campaign").filter(has_text=TITLE)
    await expect(rival_card).to_have_count(1)

    await card.get_by_role("link", name="Read the brief and apply").click()
    brief = creator.locator("section.brief")
    await expect(brief).to_contain_text("Glow serum 30 ml")
    await expect(brief).to_contain_text("The brand approves a script before you film.")
    await expect(brief.get_by_role("heading", name="Usage rights you grant")).to_be_visible()
    await expect(brief).to_contain_text("Germany")
    await expect(brief).to_contain_text("English: write the caption, and its disclosure, in it.")
    await shoot(creator, "campaign-brief")
    await creator.get_by_label("Your pitch").fill("Morning routines are my thing")
    await creator.get_by_label("Your price (USD)").fill("750")
    await creator.get_by_role("button", name="Apply").click()
    mine = creator.locator("article").filter(has_text=TITLE)
    await expect(mine).to_contain_text("Waiting for the brand's answer")
    await expect(mine).to_contain_text("750.00")
    await shoot(creator, "applications")

    await brand.reload()
    application = brand.locator(".application").filter(has_text=CREATOR)
    await expect(application).to_contain_text("Morning routines are my thing")
    await application.get_by_role("button", name="Accept").click()
    await expect(brand.get_by_role("link", name="Open delivery")).to_be_visible()
    await expect(brand.locator(".facts .stage")).to_have_text("in production")
    await shoot(brand, "campaign")
    # The single slot is taken: the campaign is no longer offered.
    await rival.reload()
    await expect(rival.get_by_role("heading", name="Open campaigns for you")).to_be_visible()
    await expect(rival_card).to_have_count(0)
    await shoot(rival, "marketplace-empty")

    # -- 3. the brief accepted, the script changed once and approved ---------------------------
    await creator.get_by_role("link", name="My work").click()
    await shoot(creator, "work")
    await creator.get_by_role("link", name=TITLE).click()
    await stage_is(creator, "awaiting brief acceptance")
    accepting = creator.locator(".accept-brief")
    await expect(accepting).to_contain_text(BRAND)
    await expect(accepting).to_contain_text("750.00")
    await expect(accepting).to_contain_text("Usage rights you grant")
    await expect(accepting).to_contain_text("skincare")
    await shoot(creator, "accept-brief")
    await creator.get_by_role("button", name="Accept the brief and its usage rights").click()
    await stage_is(creator, "awaiting script")
    await creator.get_by_label("Script or concept").fill("Morning light. I open the jar.")
    await creator.get_by_role("button", name="Send script").click()
    await stage_is(creator, "script in review")
    await shoot(creator, "script-sent")

    await brand.get_by_role("link", name="Reviews").click()
    await shoot(brand, "review-queue")
    await brand.get_by_role("link", name="Review Script 1").click()
    await expect(brand.locator("#script-text")).to_have_text("Morning light. I open the jar.")
    await expect(brand.get_by_text(f"By {CREATOR}")).to_be_visible()
    await shoot(brand, "script-review")
    await brand.get_by_label("Notes for the creator").fill("Say the product name out loud")
    await brand.get_by_role("button", name="Ask for changes").click()
    await stage_is(brand, "awaiting script")

    await creator.reload()
    await expect(creator.locator("#script-notes")).to_have_text("Say the product name out loud")
    await shoot(creator, "script-changes")
    await creator.get_by_label("Your script, changed").fill("Morning light. Glow serum.")
    await creator.get_by_role("button", name="Send the changed script").click()
    await stage_is(creator, "script in review")

    await brand.reload()
    await expect(brand.get_by_role("heading", name="Script 2", exact=True)).to_be_visible()
    await brand.get_by_role("button", name="Approve the script").click()
    await stage_is(brand, "awaiting draft")

    # -- 4. the draft: refused for its caption, held for a person, revised, approved -----------
    await creator.reload()
    await stage_is(creator, "awaiting draft")
    await shoot(creator, "tasks")
    assert await upload(creator, held, "Loving this serum #spon") == "100"
    # The page follows the checks without a reload, then says in words what to fix.
    await stage_is(creator, "fixing", CHECKS_MS)
    report = creator.locator(".findings")
    await expect(report).to_contain_text("the caption's wording isn't clear enough")
    await expect(creator.get_by_role("heading", name="Check report (Draft 1)")).to_be_visible()
    await shoot(creator, "check-report")

    await upload(creator, held, GOOD_CAPTION)
    # Brand safety holds it for a person: the creator is told so, not "checks are running".
    waiting = creator.locator(".review-wait")
    await expect(waiting).to_contain_text("A member of our review team", timeout=CHECKS_MS)
    final_step = creator.locator("li.task").filter(has_text="Deliver the final files")
    await expect(final_step).to_contain_text("once the draft passes the checks")
    await shoot(creator, "human-review-wait")

    await ops.get_by_role("link", name="Console").click()
    case = ops.locator(".case").filter(has_text=TITLE)
    await reload_until(ops, case, f"{CREATOR}'s draft 2 for {TITLE}")
    await expect(case).to_contain_text(BRAND)
    await expect(case).to_contain_text("weapons reference")
    await shoot(ops, "ops-console")
    await case.get_by_role("link", name="Review").click()
    await expect(ops.locator("blockquote.caption")).to_have_text(GOOD_CAPTION)
    await expect(ops.locator(".findings")).to_contain_text("weapons reference")
    await expect(ops.locator(".case-facts")).to_contain_text(CREATOR)
    await expect(ops.locator("video#player")).to_have_js_property("readyState", 4)
    await shoot(ops, "ops-case")
    await ops.get_by_label("Approve: the draft goes on to the brand").check()
    await ops.get_by_label("Note", exact=True).fill("A toy gun in a skincare video: fine")
    await ops.get_by_role("button", name="Record decision").click()
    await expect(ops.get_by_role("heading", name="Ops console")).to_be_visible()
    await expect(case).to_have_count(0)
    await reload_until(creator, creator.locator("#delivery-stage"), "in review")

    await brand.get_by_role("link", name="Reviews").click()
    await brand.get_by_role("link", name="Review Draft 2").click()
    player = brand.locator("video#player")
    await expect(player).to_have_js_property("readyState", 4)
    await expect(brand.get_by_role("heading", name="Your decision on Draft 2")).to_be_visible()
    await shoot(brand, "review")
    await brand.get_by_label("Notes for the creator").fill("Show the <texture> closer")
    await brand.get_by_role("button", name="Request revision").click()
    await stage_is(brand, "revising")

    await creator.reload()
    notes = creator.locator("blockquote.notes").filter(has_text="Show the <texture> closer")
    await expect(notes).to_be_visible()
    await shoot(creator, "revision-notes")
    await upload(creator, clean, GOOD_CAPTION)
    await stage_is(creator, "in review", CHECKS_MS)
    history = creator.locator("ol.history")
    for title in ("Draft 1", "Draft 2", "Draft 3", "Script 1", "Script 2"):
        await expect(history.get_by_text(title, exact=True)).to_be_visible()

    await brand.reload()
    await expect(brand.get_by_role("heading", name="Your decision on Draft 3")).to_be_visible()
    await brand.get_by_role("button", name="Approve").click()
    await stage_is(brand, "awaiting final")

    # -- 5. a message each way: the badge, the inbox, the caught e-mail ------------------------
    await creator.get_by_role("link", name="Inbox").click()
    await creator.get_by_role("button", name="Mark all as read").click()
    await expect(creator.locator(".note-unread")).to_have_count(0)
    await brand.get_by_label("Write to the creator").fill("Love it! Can the final come today?")
    async with brand.expect_navigation():
        await brand.locator("#conversation").get_by_role("button", name="Send").click()
    await expect(brand.locator(".message-mine")).to_contain_text("Can the final come today?")

    await creator.reload()
    await expect(creator.locator("#inbox-badge .badge")).to_have_text(re.compile(r"^[1-9]"))
    told = creator.locator(".note-unread").filter(has_text="sent you a message")
    await expect(told).to_have_count(1)
    await expect(told).to_contain_text(f"{ADMIN} ({BRAND}) sent you a message")
    await shoot(creator, "creator-inbox")
    await told.get_by_role("link").click()
    conversation = creator.locator("#conversation")
    await expect(conversation).to_contain_text("Can the final come today?")
    await creator.get_by_label("Write to the brand").fill("Yes, this afternoon.")
    async with creator.expect_navigation():
        await conversation.get_by_role("button", name="Send").click()
    await expect(creator.locator(".message-mine")).to_contain_text("Yes, this afternoon.")
    # The processes the approval handed on to are ops' business: no workflow IDs here.
    await expect(creator.locator("main")).not_to_contain_text("payout-")
    await shoot(creator, "delivery-conversation")

    await brand.goto("/portal/notifications")
    await expect(brand.locator("#inbox-badge .badge")).to_have_text(re.compile(r"^[1-9]"))
    replied = brand.locator(".note-unread").filter(has_text=f"{CREATOR} sent you a message")
    await expect(replied).to_contain_text("Yes, this afternoon.")
    await shoot(brand, "brand-inbox")
    await ops.goto("/portal/mail")
    caught = ops.locator(".mail").filter(has_text=ada.email).filter(has_text="message")
    await expect(caught.first).to_be_visible()
    await caught.first.locator("summary").click()
    await expect(caught.first).to_contain_text("Can the final come today?")
    await shoot(ops, "caught-mail")

    # -- 6. the license: the approved video and the certificate --------------------------------
    await brand.goto(campaign_url)
    await brand.get_by_role("link", name="Video and license").click()
    await expect(brand.get_by_role("heading", level=1)).to_have_text(TITLE)
    await expect(brand.locator("video")).to_be_visible()
    clip = await download(brand, brand.get_by_role("link", name="Download video"))
    assert clip[4:8] == b"ftyp", clip[:12]
    certificate = pdf_text(
        await download(brand, brand.get_by_role("link", name="Download license certificate (PDF)"))
    )
    assert BRAND in certificate and CREATOR in certificate and TITLE in certificate
    assert re.search(r"(\$750\.00|750\.00 USD)", certificate), certificate
    assert "minor units" not in certificate
    await shoot(brand, "license")
    await brand.get_by_role("link", name="Licenses", exact=True).click()
    await expect(brand.locator("main")).to_contain_text(TITLE)
    await shoot(brand, "licenses")

    # -- 7. bank details, the final files, the delivery and the campaign complete --------------
    await creator.get_by_role("link", name="Earnings").click()
    payouts = creator.locator("#payouts")
    await expect(payouts).to_contain_text("750.00")
    await expect(payouts).to_contain_text(TITLE)
    await expect(payouts.locator(".status")).to_have_text("awaiting onboarding")
    await creator.get_by_label("Account holder name").fill(CREATOR)
    await creator.get_by_label("IBAN", exact=True).fill("DE89 3704 0044 0532 0130 01")
    await creator.get_by_role("button", name="Save bank details").click()
    await expect(creator.locator("#iban-error")).to_be_visible()
    await expect(creator.get_by_label("IBAN", exact=True)).to_have_attribute("aria-invalid", "true")
    await shoot(creator, "earnings-bank-error")
    await creator.get_by_label("IBAN", exact=True).fill("DE89 3704 0044 0532 0130 00")
    await creator.get_by_role("button", name="Save bank details").click()
    await expect(creator.locator("#bank-details")).to_contain_text("3000")
    await expect(creator.locator("#bank-details")).not_to_contain_text("0532 0130 00")
    await expect(payouts.locator(".status")).to_have_text("awaiting settlement")
    await shoot(creator, "earnings")

    await creator.get_by_role("link", name="My work").click()
    await creator.get_by_role("link", name=TITLE).click()
    await stage_is(creator, "awaiting final")
    await shoot(creator, "final-upload")
    await upload(creator, clean, None)
    await stage_is(creator, "completed", CHECKS_MS)
    await expect(history).to_contain_text("Final files")
    await expect(history).to_contain_text("passed the checks")
    await shoot(creator, "completed")
    await brand.goto(campaign_url)
    await reload_until(brand, brand.locator(".facts .stage"), "completed")
    await expect(brand.get_by_text("this campaign is complete")).to_be_visible()
    await shoot(brand, "campaign-completed")

    # -- 8. ops pay the bank batch; the creator is paid; the brand's statement -----------------
    await ops.goto("/portal/ops/payouts")
    batchable = ops.locator("section").filter(has_text="Due for the next bank batch")
    await expect(batchable.locator("tr").filter(has_text=CREATOR)).to_contain_text("750.00")
    # What the campaign did not spend goes back to the brand in the same batch.
    await expect(batchable.locator("tr").filter(has_text="refund to the brand")).to_contain_text(
        BRAND
    )
    await shoot(ops, "ops-payouts")
    await batchable.get_by_role("button", name=re.compile("in a bank batch$")).click()
    await expect(ops.get_by_role("heading", name=re.compile("^Bank batch of"))).to_be_visible()
    exported = await download(
        ops, ops.get_by_role("link", name="Download the batch for the bank (CSV)")
    )
    lines = {row["kind"]: row for row in csv.DictReader(io.StringIO(exported.decode()))}
    payout = lines["payout"]
    assert (payout["payee"], payout["amount"], payout["currency"]) == (CREATOR, "750.00", "USD")
    assert payout["iban"] == "DE89370400440532013000" and TITLE in payout["reference"]
    await ops.get_by_role("button", name="Mark the whole batch settled").click()
    await expect(ops.get_by_text("Settled: every payout in it is paid.")).to_be_visible()
    settled = ops.locator("tbody tr").filter(has_text=CREATOR).locator(".status")
    await expect(settled).to_have_text("settled")
    await shoot(ops, "ops-batch")

    await creator.get_by_role("link", name="Earnings").click()
    await reload_until(creator, payouts.locator(".status"), "paid")
    await shoot(creator, "earnings-paid")
    await brand.get_by_role("link", name="Spend and statement").click()
    await expect(brand.locator("table")).to_contain_text(reference)
    await shoot(brand, "statement")
    statement = (await download(brand, brand.get_by_role("link", name="Download CSV"))).decode()
    assert reference in statement and CREATOR in statement
