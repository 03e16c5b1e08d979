"""Passwords over HTTP: a forgotten password reset through a single-use link sent by e-mail
(through the real mail catcher), the same answer whether or not an account uses the e-mail,
links that are forged, used or expired refused in their own words; changing a password with
the current one; every session ending on either; and the password rules on both."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, update
from sqlmodel import col, select
from temporalio.client import Client

from api.app import close_app, create_app
from api.security import secret_token_hash
from domain.passwords import COMMON, TOO_SHORT
from models.base import utcnow
from models.db import session_scope
from models.notifications import CaughtEmail, Notification
from models.workspaces import AccountToken, User
from nexus.settings import Settings
from tests.api.test_auth import assert_problem, assert_unauthenticated, fields
from tests.api.test_inbox import client_for, running_catcher, with_mail
from tests.api.test_refresh_tokens import bearer, refresh, sign_in
from tests.support import PASSWORD, Tenant, free_port, make_tenant

NEW_PASSWORD = "violet tram ledger 42"


@pytest.fixture
async def app(settings: Settings, engine: Engine, client: Client) -> AsyncIterator[FastAPI]:
    """The app with e-mail through the real mail catcher; no worker."""
    port = free_port()
    async with running_catcher(settings, port):
        app = create_app(with_mail(settings, port), engine=engine, temporal=client)
        yield app
        await close_app(app)


@pytest.fixture
async def web(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as http:
        yield http


def mail_to(engine: Engine, email: str) -> list[CaughtEmail]:
    with session_scope(engine) as session:
        return list(
            session.exec(
                select(CaughtEmail).where(col(CaughtEmail.recipients).contains([email.lower()]))
            ).all()
        )


async def reset_link_for(engine: Engine, email: str) -> str:
    """The path of the newest reset link e-mailed to `email` (waiting for the catcher)."""
    for _ in range(100):
        found = [m for m in mail_to(engine, email) if m.subject == "Choose a new NEXUS password"]
        if found:
            match = re.search(r"http://nexus\.test(/portal/password/reset/\S+)", found[-1].text)
            assert match, found[-1].text
            return match.group(1)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no reset e-mail reached {email}")


async def forgot(web: httpx.AsyncClient, email: str) -> httpx.Response:
    return await web.post("/auth/password/forgot", json={"email": email})


async def password_works(web: httpx.AsyncClient, tenant: Tenant, password: str) -> bool:
    answer = await web.post("/auth/login", json={"email": tenant.email, "password": password})
    return answer.status_code == 200


async def test_a_forgotten_password_is_reset_through_the_e_mailed_link_once(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    me = make_tenant(engine)
    laptop = await sign_in(web, me)
    # Wrong passwords had locked the account: the reset lets the owner back in.
    with session_scope(engine) as session:
        session.execute(
            update(User)
            .where(col(User.id) == me.user_id)
            .values(failed_sign_ins=9, locked_until=utcnow() + timedelta(hours=1))
        )

    known = await forgot(web, me.email.upper())
    unknown = await forgot(web, "nobody-here@example.com")
    # The same answer, whether or not an account uses the address.
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert "works once, for 30 minutes" in known.json()["detail"]

    link = await reset_link_for(engine, me.email)
    assert mail_to(engine, "nobody-here@example.com") == []
    token = link.rsplit("/", 1)[1]
    with session_scope(engine) as session:
        row = session.exec(select(AccountToken).where(AccountToken.user_id == me.user_id)).one()
        assert row.purpose == "reset_password" and row.token_hash == secret_token_hash(token)
        assert timedelta(minutes=29) < row.expires_at - utcnow() <= timedelta(minutes=30)
        # E-mail only: the link is not left in the inbox.
        inbox = session.exec(select(Notification).where(Notification.user_id == me.user_id))
        assert inbox.all() == []

    done = await web.post("/auth/password/reset", json={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 204, done.text
    with session_scope(engine) as session:
        user = session.get(User, me.user_id)
        assert user is not None and user.failed_sign_ins == 0 and user.locked_until is None
    assert await password_works(web, me, NEW_PASSWORD)
    assert not await password_works(web, me, PASSWORD)
    # Every session ended: the access token and the refresh token from before.
    ended = assert_unauthenticated(await web.get("/auth/me", headers=bearer(laptop)))
    assert "signed out everywhere" in ended["detail"]
    assert_unauthenticated(await refresh(web, laptop["refresh_token"]))

    # The link works once.
    again = await web.post("/auth/password/reset", json={"token": token, "password": PASSWORD})
    body = assert_problem(again, 409, "conflict")
    assert "used already" in body["detail"] and fields(body) == ["body.token"]
    assert await password_works(web, me, NEW_PASSWORD)


async def test_forged_and_expired_links_are_refused_and_change_nothing(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    me = make_tenant(engine)
    forged = await web.post(
        "/auth/password/reset", json={"token": "made-up-token", "password": NEW_PASSWORD}
    )
    assert "not valid" in assert_problem(forged, 404, "not-found")["detail"]

    assert (await forgot(web, me.email)).status_code == 202
    token = (await reset_link_for(engine, me.email)).rsplit("/", 1)[1]
    with session_scope(engine) as session:
        session.execute(
            update(AccountToken)
            .where(col(AccountToken.user_id) == me.user_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = await web.post(
        "/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert "expired" in assert_problem(expired, 410, "gone")["detail"]
    assert await password_works(web, me, PASSWORD)
    assert not await password_works(web, me, NEW_PASSWORD)


async def test_a_weak_password_is_refused_and_the_link_still_works(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    me = make_tenant(engine)
    assert (await forgot(web, me.email)).status_code == 202
    token = (await reset_link_for(engine, me.email)).rsplit("/", 1)[1]
    for weak, reason in (("short", TOO_SHORT), ("qwertyuiop123", COMMON)):
        refused = await web.post("/auth/password/reset", json={"token": token, "password": weak})
        body = assert_problem(refused, 422, "validation-failed")
        assert body["errors"] == [{"field": "body.password", "reason": reason}]
    own_email = await web.post("/auth/password/reset", json={"token": token, "password": me.email})
    assert "e-mail" in assert_problem(own_email, 422, "validation-failed")["errors"][0]["reason"]
    assert await password_works(web, me, PASSWORD)
    done = await web.post("/auth/password/reset", json={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 204


async def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    me = make_tenant(engine)
    phone = await sign_in(web, me)
    here = await sign_in(web, me)

    wrong = await web.post(
        "/auth/password/change",
        json={"current_password": "not my password", "password": NEW_PASSWORD},
        headers=bearer(here),
    )
    assert fields(assert_problem(wrong, 422, "validation-failed")) == ["body.current_password"]
    common = await web.post(
        "/auth/password/change",
        json={"current_password": PASSWORD, "password": "Password1234"},
        headers=bearer(here),
    )
    body = assert_problem(common, 422, "validation-failed")
    assert body["errors"] == [{"field": "body.password", "reason": COMMON}]
    assert await password_works(web, me, PASSWORD)

    changed = await web.post(
        "/auth/password/change",
        json={"current_password": PASSWORD, "password": NEW_PASSWORD},
        headers=bearer(here),
    )
    assert changed.status_code == 200, changed.text
    fresh = changed.json()
    assert fresh["workspace_id"] == str(me.workspace_id)
    # This client goes on with the new pair; the other device and the old pair are out.
    assert (await web.get("/auth/me", headers=bearer(fresh))).status_code == 200
    assert (await refresh(web, fresh["refresh_token"])).status_code == 200
    for old in (phone, here):
        assert_unauthenticated(await web.get("/auth/me", headers=bearer(old)))
        assert_unauthenticated(await refresh(web, old["refresh_token"]))
    assert await password_works(web, me, NEW_PASSWORD)
    assert not await password_works(web, me, PASSWORD)

    anonymous = await web.post(
        "/auth/password/change", json={"current_password": NEW_PASSWORD, "password": PASSWORD}
    )
    assert_unauthenticated(anonymous)
