"""Members over the JSON API: an admin changes a member's role (their current session acts
with it at once) and removes a member (their access and refresh tokens for the workspace and
the API keys they created stop at once); the last admin can be neither demoted nor removed;
only admins of the workspace may do it, and another workspace's member cannot be touched."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.client import Client

from api.app import close_app, create_app
from domain.enums import Role
from models.db import session_scope
from models.workspaces import ApiKey, Membership, RefreshToken
from nexus.settings import Settings
from tests.api.test_api_keys import assert_problem
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


async def sign_in(web: httpx.AsyncClient, tenant: Tenant) -> tuple[dict[str, str], str]:
    """(bearer headers, refresh token) of a new sign-in into the tenant's workspace."""
    response = await web.post(
        "/auth/login",
        json={
            "email": tenant.email,
            "password": PASSWORD,
            "workspace_id": str(tenant.workspace_id),
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return {"Authorization": f"Bearer {body['access_token']}"}, body["refresh_token"]


def role_of(engine: Engine, tenant: Tenant) -> Role | None:
    with session_scope(engine) as session:
        row = session.exec(
            select(Membership).where(
                Membership.user_id == tenant.user_id,
                Membership.workspace_id == tenant.workspace_id,
            )
        ).first()
        return None if row is None else row.role


async def test_an_admin_promotes_a_member_whose_session_acts_as_admin_at_once(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    member = add_member(engine, admin, Role.BRAND_MEMBER)
    admin_headers, _ = await sign_in(web, admin)
    member_headers, _ = await sign_in(web, member)
    assert (await web.get("/api-keys", headers=member_headers)).status_code == 403

    listed = await web.get("/workspaces/current/members", headers=admin_headers)
    assert listed.status_code == 200, listed.text
    by_id = {m["user_id"]: m for m in listed.json()}
    assert by_id[str(member.user_id)]["role"] == "brand_member"
    assert by_id[str(member.user_id)]["name"].startswith("User ")

    path = f"/workspaces/current/members/{member.user_id}"
    promoted = await web.patch(path, json={"role": "brand_admin"}, headers=admin_headers)
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "brand_admin"
    # The token the member already holds now acts as an admin.
    assert (await web.get("/api-keys", headers=member_headers)).status_code == 200

    demoted = await web.patch(path, json={"role": "brand_member"}, headers=admin_headers)
    assert demoted.status_code == 200, demoted.text
    assert (await web.get("/api-keys", headers=member_headers)).status_code == 403
    assert role_of(engine, member) == Role.BRAND_MEMBER


async def test_removing_a_member_ends_their_tokens_refresh_tokens_and_keys_at_once(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    leaver = add_member(engine, admin, Role.BRAND_ADMIN)
    admin_headers, _ = await sign_in(web, admin)
    leaver_headers, leaver_refresh = await sign_in(web, leaver)
    theirs = await web.post(
        "/api-keys", json={"name": "leaver's", "scopes": ["campaigns:read"]}, headers=leaver_headers
    )
    ours = await web.post(
        "/api-keys", json={"name": "ours", "scopes": ["campaigns:read"]}, headers=admin_headers
    )
    assert theirs.status_code == ours.status_code == 201
    their_key = {"Authorization": f"Bearer {theirs.json()['key']}"}
    our_key = {"Authorization": f"Bearer {ours.json()['key']}"}
    assert (await web.get("/campaigns", headers=their_key)).status_code == 200

    removed = await web.delete(
        f"/workspaces/current/members/{leaver.user_id}", headers=admin_headers
    )
    assert removed.status_code == 204, removed.text

    # The access token they hold, before it expires.
    refused = await web.get("/campaigns", headers=leaver_headers)
    assert_problem(refused, 401, "unauthenticated")
    assert "no longer a member" in refused.json()["detail"]
    # Their refresh token gives no new one.
    renewal = await web.post("/auth/refresh", json={"refresh_token": leaver_refresh})
    assert_problem(renewal, 401, "unauthenticated")
    # The key they created is revoked; the other admin's key still works.
    assert_problem(await web.get("/campaigns", headers=their_key), 401, "unauthenticated")
    assert (await web.get("/campaigns", headers=our_key)).status_code == 200
    assert role_of(engine, leaver) is None
    with session_scope(engine) as session:
        tokens = session.exec(
            select(RefreshToken).where(RefreshToken.user_id == leaver.user_id)
        ).all()
        assert tokens and all(t.revoked_at is not None for t in tokens)
        keys = session.exec(select(ApiKey).where(ApiKey.workspace_id == admin.workspace_id)).all()
        assert {k.name: k.revoked_at is not None for k in keys} == {"leaver's": True, "ours": False}
    listed = await web.get("/workspaces/current/members", headers=admin_headers)
    assert [m["user_id"] for m in listed.json()] == [str(admin.user_id)]


async def test_the_last_admin_can_be_neither_demoted_nor_removed(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    member = add_member(engine, admin, Role.BRAND_MEMBER)
    headers, _ = await sign_in(web, admin)
    path = f"/workspaces/current/members/{admin.user_id}"

    demoted = await web.patch(path, json={"role": "brand_member"}, headers=headers)
    body = assert_problem(demoted, 409, "last-admin")
    assert "last admin" in body["detail"]
    assert body["errors"] == [{"field": "body.role", "reason": body["detail"]}]
    removed = await web.delete(path, headers=headers)
    assert "last admin" in assert_problem(removed, 409, "last-admin")["detail"]
    assert role_of(engine, admin) == Role.BRAND_ADMIN
    assert (await web.get("/api-keys", headers=headers)).status_code == 200

    # With a second admin, the first may step down.
    promoted = await web.patch(
        f"/workspaces/current/members/{member.user_id}",
        json={"role": "brand_admin"},
        headers=headers,
    )
    assert promoted.status_code == 200, promoted.text
    stepped_down = await web.patch(path, json={"role": "brand_member"}, headers=headers)
    assert stepped_down.status_code == 200, stepped_down.text
    assert role_of(engine, admin) == Role.BRAND_MEMBER


async def test_only_admins_change_members_and_bad_roles_are_refused(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    member = add_member(engine, admin, Role.BRAND_MEMBER)
    other = add_member(engine, admin, Role.BRAND_MEMBER)
    member_headers, _ = await sign_in(web, member)
    admin_headers, _ = await sign_in(web, admin)
    path = f"/workspaces/current/members/{other.user_id}"

    patched = await web.patch(path, json={"role": "brand_admin"}, headers=member_headers)
    assert_problem(patched, 403, "forbidden")
    assert_problem(await web.delete(path, headers=member_headers), 403, "forbidden")
    assert_problem(
        await web.get("/workspaces/current/members", headers=member_headers), 403, "forbidden"
    )

    bad = await web.patch(path, json={"role": "ops"}, headers=admin_headers)
    body = assert_problem(bad, 422, "validation-failed")
    assert [e["field"] for e in body["errors"]] == ["body.role"]
    assert role_of(engine, other) == Role.BRAND_MEMBER


async def test_another_workspaces_member_cannot_be_touched(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    victim = add_member(engine, brand, Role.BRAND_MEMBER)
    intruder = make_tenant(engine)
    headers, _ = await sign_in(web, intruder)
    path = f"/workspaces/current/members/{victim.user_id}"

    patched = await web.patch(path, json={"role": "brand_admin"}, headers=headers)
    assert_problem(patched, 404, "not-found")
    assert_problem(await web.delete(path, headers=headers), 404, "not-found")
    # The brand's own admin is no member of the intruder's workspace either.
    outside = await web.delete(f"/workspaces/current/members/{brand.user_id}", headers=headers)
    assert_problem(outside, 404, "not-found")
    assert role_of(engine, victim) == Role.BRAND_MEMBER
    assert role_of(engine, brand) == Role.BRAND_ADMIN
