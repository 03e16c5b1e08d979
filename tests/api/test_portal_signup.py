"""The portal's brand and agency sign-up, the page the e-mailed verification link opens, the
first-run checklist on the brand's home page, the brands page, and the fund and publish
forms refusing an unverified account in words."""

from __future__ import annotations

import html
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.client import Client

from domain.enums import CampaignStage
from models.brands import Brand
from models.campaigns import Campaign
from models.db import session_scope
from models.money import Funding
from models.workspaces import Membership, Workspace
from nexus.settings import Settings
from tests.api.signup_support import (
    PASSWORD,
    caught_mail,
    draft_campaign,
    mail_client,
    signed_up_token,
    unique_email,
    user_of,
    verify_token,
)
from tests.api.test_portal import csrf_from
from tests.api.test_portal_brand import error_of as raw_error_of
from tests.support import count_rows


@pytest.fixture
async def web(
    settings: Settings, engine: Engine, client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    async with mail_client(settings, engine, client) as http:
        yield http


def error_of(page: httpx.Response, field: str) -> str:
    return html.unescape(raw_error_of(page, field))


def workspace_of(engine: Engine, email: str) -> tuple[Workspace, Brand]:
    user = user_of(engine, email)
    with session_scope(engine) as session:
        member = session.exec(select(Membership).where(Membership.user_id == user.id)).one()
        workspace = session.get(Workspace, member.workspace_id)
        brand = session.exec(select(Brand).where(Brand.workspace_id == member.workspace_id)).one()
        assert workspace is not None
        session.expunge_all()
        return workspace, brand


async def portal_sign_in(http: httpx.AsyncClient, email: str) -> None:
    page = await http.get("/portal/login")
    signed_in = await http.post(
        "/portal/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_from(page)},
    )
    assert signed_in.status_code == 303, signed_in.text


async def test_a_brand_signs_up_on_the_portal_and_bad_input_is_shown_by_its_field(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    login = await web.get("/portal/login")
    assert 'href="/portal/signup/brand"' in login.text
    page = await web.get("/portal/signup/brand")
    assert page.status_code == 200
    for label in ("Your name", "Work e-mail", "Password", "Company or agency name", "Brand name"):
        assert label in page.text
    form = {"csrf_token": csrf_from(page), "kind": "brand", "name": "<Bea>",
            "email": "bea@", "password": "too short", "workspace_name": "",
            "brand_name": "  "}  # fmt: skip
    users = count_rows(engine, "users")

    bad = await web.post("/portal/signup/brand", data=form)

    assert bad.status_code == 400
    assert error_of(bad, "email") == "Enter an e-mail address like name@example.com."
    assert error_of(bad, "password") == "Use at least 12 characters."
    assert error_of(bad, "brand_name") == "This can't be empty."
    assert 'value="&lt;Bea&gt;"' in bad.text
    assert "too short" not in bad.text  # a password is never echoed
    assert count_rows(engine, "users") == users
    tampered = await web.post("/portal/signup/brand", data=form | {"kind": "ops"})
    assert error_of(tampered, "kind") == "Choose a brand or an agency."
    common = await web.post("/portal/signup/brand", data=form | {"password": "Sunshine2024!"})
    assert error_of(common, "password").startswith("This is a commonly used password")

    email = unique_email("portal")
    good = form | {"email": email, "password": PASSWORD, "brand_name": "Glow Botanics",
                   "name": "Bea", "kind": "agency", "workspace_name": "Northwind"}  # fmt: skip
    done = await web.post("/portal/signup/brand", data=good)
    assert done.status_code == 200
    assert "Check your inbox" in done.text
    assert "nexus_session" not in done.headers.get("set-cookie", "")
    workspace, brand = workspace_of(engine, email)
    assert (workspace.name, workspace.kind.value, brand.name) == (
        "Northwind", "agency", "Glow Botanics",
    )  # fmt: skip

    # The same page for an e-mail that has an account; its owner is told.
    again = await web.post("/portal/signup/brand", data=good | {"name": "Someone else"})
    assert (again.status_code, again.text) == (done.status_code, done.text)
    await caught_mail(engine, email, "Someone tried to sign up with your e-mail")


async def test_the_verification_page_verifies_once_and_says_why_a_link_does_not_work(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    email = unique_email("page")
    token = await signed_up_token(web, engine, email)

    first = await web.get(f"/portal/verify?token={token}")
    used = await web.get(f"/portal/verify?token={token}")
    forged = await web.get("/portal/verify?token=not-a-real-token")

    assert first.status_code == 200
    assert f"Thank you: {email} is verified." in first.text
    assert user_of(engine, email).email_verified_at is not None
    assert used.status_code == 409 and "used already" in used.text
    assert forged.status_code == 404 and "not valid" in forged.text
    assert "Sign in</a> to ask for a new link" in forged.text
    mangled = await web.get("/portal/verify?token=" + "a" * 500)
    assert mangled.status_code == 404 and "not valid" in mangled.text


async def test_the_first_run_checklist_ticks_each_step_from_what_was_done_and_then_goes(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    email = unique_email("checklist")
    await signed_up_token(web, engine, email)
    await portal_sign_in(web, email)

    home = await web.get("/portal/campaigns")

    assert "Get started" in home.text
    steps = home.text.split('class="first-run-steps"')[1]
    assert steps.count('class="done"') == 1  # the brand made at sign-up
    assert steps.count('class="todo"') == 4
    assert 'href="/portal/brands"' in steps and 'href="/portal/team"' in steps

    resent = await web.post("/portal/verify/resend", data={"csrf_token": csrf_from(home)})
    assert "We have e-mailed you a new link" in resent.text
    mail = await caught_mail(engine, email, "Verify your e-mail address for NEXUS")
    assert (await web.get(f"/portal/verify?token={verify_token(mail)}")).status_code == 200
    invited = await web.post(
        "/portal/team/invitations",
        data={"csrf_token": csrf_from(home), "email": unique_email("mate"), "role": "brand_member"},
    )
    assert invited.status_code == 200, invited.text

    home = await web.get("/portal/campaigns")
    steps = home.text.split('class="first-run-steps"')[1]
    assert (steps.count('class="done"'), steps.count('class="todo"')) == (3, 2)

    # Funded and published (as the campaign's process leaves them): the checklist is gone.
    workspace, brand = workspace_of(engine, email)
    user = user_of(engine, email)
    campaign_id = draft_campaign(engine, workspace.id, brand.id, user.id)
    with session_scope(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        campaign.stage = CampaignStage.RECRUITING
        session.add(campaign)
        session.add(
            Funding(
                campaign_id=campaign_id, workspace_id=workspace.id, method="bank_transfer",
                provider="manual", currency="USD", budget_minor=100_000, fee_minor=10_000,
                status="succeeded",
            )
        )  # fmt: skip
    home = await web.get("/portal/campaigns")
    assert "Get started" not in home.text
    assert "First campaign" in home.text


async def test_an_unverified_brand_is_told_to_verify_when_it_funds_or_publishes(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    email = unique_email("unverified")
    await signed_up_token(web, engine, email)
    workspace, brand = workspace_of(engine, email)
    campaign_id = draft_campaign(engine, workspace.id, brand.id, user_of(engine, email).id)
    await portal_sign_in(web, email)
    page = await web.get(f"/portal/campaigns/{campaign_id}")
    csrf = csrf_from(page)
    fundings = count_rows(engine, "fundings")

    funded = await web.post(
        f"/portal/campaigns/{campaign_id}/fundings",
        data={"csrf_token": csrf, "method": "bank_transfer"},
    )
    published = await web.post(
        f"/portal/campaigns/{campaign_id}/publish", data={"csrf_token": csrf}
    )

    for refused in (funded, published):
        assert refused.status_code == 403
        assert "Verify your e-mail address first" in refused.text
    assert count_rows(engine, "fundings") == fundings


async def test_an_admin_adds_a_brand_on_the_brands_page(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    email = unique_email("brands")
    await signed_up_token(web, engine, email)
    await portal_sign_in(web, email)
    page = await web.get("/portal/brands")
    assert "Glow Botanics" in page.text
    csrf = csrf_from(page)

    bad = await web.post(
        "/portal/brands", data={"csrf_token": csrf, "name": "", "website": "javascript:x"}
    )
    assert bad.status_code == 422
    assert error_of(bad, "name") == "This can't be empty."
    assert error_of(bad, "website") == "Enter a full web address, like https://example.com."

    name = f"Second brand {uuid.uuid4().hex[:4]}"
    added = await web.post(
        "/portal/brands",
        data={"csrf_token": csrf, "name": name, "website": "https://second.example"},
    )
    assert added.status_code == 303
    listed = await web.get("/portal/brands")
    assert name in listed.text and "https://second.example" in listed.text
