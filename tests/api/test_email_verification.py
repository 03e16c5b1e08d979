"""E-mail verification over the JSON API: the e-mailed single-use link verifies the address
once; expired, used and forged links are refused each in their own words and change nothing;
a signed-in person asks for a new link; an unverified account (and its API keys) cannot fund
or publish a campaign until it verifies."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.client import Client

from models import accounts, workspaces
from models.base import utcnow
from models.brands import Brand
from models.db import session_scope
from models.workspaces import AccountToken, Membership
from nexus.settings import Settings
from tests.api.signup_support import (
    PASSWORD,
    brand_body,
    caught_mail,
    draft_campaign,
    mail_client,
    mails_to,
    sign_up,
    signed_up_token,
    unique_email,
    user_of,
)
from tests.api.test_auth import assert_problem, bearer, fields
from tests.support import count_rows


@pytest.fixture
async def web(
    settings: Settings, engine: Engine, client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    async with mail_client(settings, engine, client) as http:
        yield http


async def signed_in(http: httpx.AsyncClient, email: str) -> dict[str, str]:
    answer = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return bearer(answer.json()["access_token"])


async def test_the_emailed_link_verifies_the_address_once(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    email = unique_email("verify")
    token = await signed_up_token(web, engine, email)
    with session_scope(engine) as session:
        stored = session.exec(select(AccountToken)).all()
        # Only the token's SHA-256 is kept, for 48 hours.
        mine = [t for t in stored if t.token_hash == hashlib.sha256(token.encode()).hexdigest()]
        assert len(mine) == 1 and mine[0].purpose == "verify_email"
        assert timedelta(hours=47) < mine[0].expires_at - utcnow() <= timedelta(hours=48)
        assert all(token not in t.token_hash for t in stored)

    verified = await web.post("/auth/verify-email", json={"token": token})

    assert verified.status_code == 200, verified.text
    assert verified.json() == {"email": email, "email_verified": True}
    when = user_of(engine, email).email_verified_at
    assert when is not None
    # The same link again: used, said so, and nothing changes.
    again = await web.post("/auth/verify-email", json={"token": token})
    problem = assert_problem(again, 409, "verification-link-used")
    assert "used already" in problem["detail"] and fields(problem) == ["body.token"]
    assert user_of(engine, email).email_verified_at == when


async def test_expired_and_forged_links_are_refused_in_their_own_words_and_change_nothing(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    email = unique_email("late")
    assert (await sign_up(web, brand_body(email))).status_code == 202
    user = user_of(engine, email)
    with session_scope(engine) as session:
        workspaces.add_account_token(
            session, user.id, accounts.VERIFY_EMAIL, hashlib.sha256(b"old-link").hexdigest(),
            utcnow() - timedelta(minutes=1),
        )  # fmt: skip

    expired = await web.post("/auth/verify-email", json={"token": "old-link"})
    forged = await web.post("/auth/verify-email", json={"token": "made-up-token"})
    empty = await web.post("/auth/verify-email", json={"token": ""})

    assert "expired" in assert_problem(expired, 410, "verification-link-expired")["detail"]
    assert "not valid" in assert_problem(forged, 404, "verification-link-unknown")["detail"]
    assert fields(assert_problem(empty, 422, "validation-failed")) == ["body.token"]
    assert user_of(engine, email).email_verified_at is None
    with session_scope(engine) as session:
        rows = session.exec(select(AccountToken).where(AccountToken.user_id == user.id)).all()
        assert all(r.used_at is None for r in rows)


async def test_a_signed_in_person_asks_for_a_new_link_until_verified(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    email = unique_email("resend")
    first = await signed_up_token(web, engine, email)
    headers = await signed_in(web, email)

    resent = await web.post("/auth/verify-email/resend", headers=headers)

    assert resent.status_code == 202, resent.text
    mail = await caught_mail(engine, email, "Verify your e-mail address for NEXUS")
    second = mail.text.split("token=")[1].split()[0]
    assert second != first
    assert (await web.post("/auth/verify-email", json={"token": second})).status_code == 200
    # Verified: no more links, and the first one (never used) changes nothing now either.
    done = await web.post("/auth/verify-email/resend", headers=headers)
    assert "verified already" in assert_problem(done, 409, "conflict")["detail"]
    assert (await web.post("/auth/verify-email", json={"token": first})).status_code == 200
    assert len(mails_to(engine, email)) == 3  # welcome, its link, the new link
    assert (await web.post("/auth/verify-email/resend")).status_code == 401


async def test_an_unverified_account_cannot_fund_or_publish_until_it_verifies(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    email = unique_email("unverified")
    token = await signed_up_token(web, engine, email)
    user = user_of(engine, email)
    with session_scope(engine) as session:
        member = session.exec(select(Membership).where(Membership.user_id == user.id)).one()
        brand = session.exec(select(Brand).where(Brand.workspace_id == member.workspace_id)).one()
        workspace_id, brand_id = member.workspace_id, brand.id
    campaign_id = draft_campaign(engine, workspace_id, brand_id, user.id)
    headers = await signed_in(web, email)
    key = await web.post(
        "/api-keys", json={"name": "shop", "scopes": ["campaigns:write"]}, headers=headers
    )
    assert key.status_code == 201, key.text
    partner = bearer(key.json()["key"])
    fundings = count_rows(engine, "fundings")

    for who in (headers, partner):
        funded = await web.post(
            f"/campaigns/{campaign_id}/fundings", json={"method": "bank_transfer"}, headers=who
        )
        published = await web.post(f"/campaigns/{campaign_id}/publish", headers=who)
        for refused in (funded, published):
            problem = assert_problem(refused, 403, "email-not-verified")
            assert problem["detail"].startswith("Verify your e-mail address first")
    assert count_rows(engine, "fundings") == fundings

    assert (await web.post("/auth/verify-email", json={"token": token})).status_code == 200
    funded = await web.post(
        f"/campaigns/{campaign_id}/fundings", json={"method": "bank_transfer"}, headers=headers
    )
    assert funded.status_code == 201, funded.text
    assert funded.json()["status"] == "awaiting_transfer"
