"""Refresh tokens over HTTP: signing in hands out one; each works once and gives the next; a used
one presented again ends the whole sign-in; expired, forged and revoked ones are refused, each
in its own words, changing nothing; signing out (here or everywhere) ends them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, delete, update
from sqlmodel import col, select
from temporalio.client import Client

from api.app import close_app, create_app
from api.security import secret_token_hash
from models.base import utcnow
from models.db import session_scope
from models.workspaces import Membership, RefreshToken
from nexus.settings import Settings
from tests.api.test_auth import assert_unauthenticated
from tests.support import PASSWORD, Tenant, add_member, make_tenant


@pytest.fixture
async def app(settings: Settings, engine: Engine, client: Client) -> AsyncIterator[FastAPI]:
    # No worker: nothing here starts a process.
    app = create_app(settings, engine=engine, temporal=client)
    yield app
    await close_app(app)


@pytest.fixture
async def web(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as http:
        yield http


async def sign_in(web: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    response = await web.post("/auth/login", json={"email": tenant.email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def bearer(token: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['access_token']}"}


async def refresh(web: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await web.post("/auth/refresh", json={"refresh_token": refresh_token})


def family_rows(engine: Engine, refresh_token: str) -> list[RefreshToken]:
    with session_scope(engine) as session:
        row = session.exec(
            select(RefreshToken).where(RefreshToken.token_hash == secret_token_hash(refresh_token))
        ).one()
        return list(
            session.exec(
                select(RefreshToken)
                .where(RefreshToken.family_id == row.family_id)
                .order_by(col(RefreshToken.created_at))
            ).all()
        )


async def test_a_refresh_token_swaps_once_for_a_new_pair_and_only_its_hash_is_kept(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    me = make_tenant(engine)
    first = await sign_in(web, me)
    assert first["refresh_token"] and first["refresh_expires_in"]

    renewed = await refresh(web, first["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    second = renewed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert (second["workspace_id"], second["role"]) == (str(me.workspace_id), me.role.value)
    who = await web.get("/auth/me", headers=bearer(second))
    assert who.status_code == 200 and who.json()["email"] == me.email

    rows = family_rows(engine, second["refresh_token"])
    assert len(rows) == 2
    assert rows[0].used_at is not None and rows[1].used_at is None
    stored = {r.token_hash for r in rows}
    assert first["refresh_token"] not in stored and second["refresh_token"] not in stored
    assert secret_token_hash(first["refresh_token"]) in stored

    # And the next one goes on the same way.
    third = await refresh(web, second["refresh_token"])
    assert third.status_code == 200, third.text


async def test_a_reused_refresh_token_ends_the_whole_sign_in(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    me = make_tenant(engine)
    stolen = await sign_in(web, me)
    owner = (await refresh(web, stolen["refresh_token"])).json()

    # The thief replays the copy: refused in words, and the family is revoked.
    replay = await refresh(web, stolen["refresh_token"])
    body = assert_unauthenticated(replay)
    assert "already used" in body["detail"]
    assert all(r.revoked_at is not None for r in family_rows(engine, owner["refresh_token"]))
    # So the latest token of that sign-in no longer works either.
    after = assert_unauthenticated(await refresh(web, owner["refresh_token"]))
    assert "revoked" in after["detail"]

    # Another sign-in of the same user is untouched.
    other = await sign_in(web, me)
    assert (await refresh(web, other["refresh_token"])).status_code == 200


async def test_expired_forged_and_revoked_refresh_tokens_are_refused_in_their_own_words(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    me = make_tenant(engine)
    forged = assert_unauthenticated(await refresh(web, "not-a-token-we-made"))
    assert "unknown" in forged["detail"]

    old = await sign_in(web, me)
    with session_scope(engine) as session:
        session.execute(
            update(RefreshToken)
            .where(col(RefreshToken.token_hash) == secret_token_hash(old["refresh_token"]))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    expired = assert_unauthenticated(await refresh(web, old["refresh_token"]))
    assert "expired" in expired["detail"]
    # Refused without being used up: nothing changed.
    assert family_rows(engine, old["refresh_token"])[0].used_at is None

    # Signing out ends the sign-in's refresh tokens too.
    current = await sign_in(web, me)
    out = await web.post("/auth/logout", headers=bearer(current))
    assert out.status_code == 204
    revoked = assert_unauthenticated(await refresh(web, current["refresh_token"]))
    assert "revoked" in revoked["detail"]
    assert family_rows(engine, current["refresh_token"])[0].used_at is None

    # A body that is no token at all names the field.
    empty = await web.post("/auth/refresh", json={"refresh_token": ""})
    assert empty.status_code == 422
    assert "refresh_token" in empty.text


async def test_a_removed_member_cannot_refresh(web: httpx.AsyncClient, engine: Engine) -> None:
    admin = make_tenant(engine)
    member = add_member(engine, admin, admin.role)
    token = await sign_in(web, member)
    with session_scope(engine) as session:
        session.execute(delete(Membership).where(col(Membership.user_id) == member.user_id))
    refused = assert_unauthenticated(await refresh(web, token["refresh_token"]))
    assert "no longer a member" in refused["detail"]


async def test_signing_out_everywhere_refuses_every_earlier_token(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    me = make_tenant(engine)
    laptop = await sign_in(web, me)
    phone = await sign_in(web, me)
    other_user = make_tenant(engine)
    theirs = await sign_in(web, other_user)

    done = await web.post("/auth/logout-all", headers=bearer(phone))
    assert done.status_code == 204

    for device in (laptop, phone):
        refused = assert_unauthenticated(await web.get("/auth/me", headers=bearer(device)))
        assert refused["detail"] == "signed out everywhere: sign in again"
        ended = assert_unauthenticated(await refresh(web, device["refresh_token"]))
        assert "sign in again" in ended["detail"]
    # Someone else's sessions go on.
    assert (await web.get("/auth/me", headers=bearer(theirs))).status_code == 200
    # Signing in again works at once, in the same second.
    again = await sign_in(web, me)
    assert (await web.get("/auth/me", headers=bearer(again))).status_code == 200
    assert (await refresh(web, again["refresh_token"])).status_code == 200
