"""Ops administration over the JSON API: ops find accounts and workspaces by name or e-mail,
page by page, and see a workspace's members; suspending a workspace stops its people's tokens,
its refresh tokens and its API keys (and so every process they would start) with "this
workspace is suspended: contact support" until it is reactivated; an account is suspended the
same way; a verification e-mail is sent again; every action is logged with who and why; and
nobody but ops may do any of it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import close_app, create_app
from domain.enums import Role
from models.db import session_scope
from models.workspaces import Membership, User, Workspace
from nexus.settings import Settings
from tests.api.signup_support import (
    brand_body,
    caught_mail,
    mail_client,
    mails_to,
    sign_up,
    unique_email,
    user_of,
)
from tests.api.test_api_keys import assert_problem
from tests.api.test_members import sign_in
from tests.support import PASSWORD, Tenant, add_member, campaign_body, count_rows, make_tenant

SUSPENDED = "this workspace is suspended: contact support"
ACCOUNT_SUSPENDED = "this account is suspended: contact support"


@pytest.fixture
async def app(settings: Settings, engine: Engine, client: Client) -> AsyncIterator[FastAPI]:
    # No worker: a refused request starts nothing, and nothing here needs one to run.
    app = create_app(settings, engine=engine, temporal=client)
    yield app
    await close_app(app)


@pytest.fixture
async def web(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as http:
        yield http


def rename(engine: Engine, tenant: Tenant, workspace: str, user: str) -> None:
    with session_scope(engine) as session:
        row = session.get(Workspace, tenant.workspace_id)
        person = session.get(User, tenant.user_id)
        assert row is not None and person is not None
        row.name, person.name = workspace, user
        session.add_all([row, person])


async def test_ops_find_accounts_and_workspaces_by_name_or_email_page_by_page(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    ops = make_tenant(engine, Role.OPS)
    tag = uuid.uuid4().hex[:8]
    first, second = make_tenant(engine), make_tenant(engine)
    rename(engine, first, f"Lumen {tag} Cosmetics", f"Ada Quill {tag}")
    rename(engine, second, f"lumen {tag} outdoors", f"Bea Quill {tag}")
    headers, _ = await sign_in(web, ops)

    found = await web.get("/ops/workspaces", params={"q": f"LUMEN {tag}"}, headers=headers)
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    assert [w["name"] for w in items] == [f"Lumen {tag} Cosmetics", f"lumen {tag} outdoors"]
    assert items[0]["members"] == 1 and items[0]["suspended_at"] is None
    paged = await web.get(
        "/ops/workspaces", params={"q": f"lumen {tag}", "limit": 1, "offset": 1}, headers=headers
    )
    assert [w["name"] for w in paged.json()["items"]] == [f"lumen {tag} outdoors"]

    by_name = await web.get("/ops/users", params={"q": f"quill {tag}"}, headers=headers)
    assert [u["email"] for u in by_name.json()["items"]] == [first.email, second.email]
    by_email = await web.get("/ops/users", params={"q": second.email.upper()}, headers=headers)
    assert [u["name"] for u in by_email.json()["items"]] == [f"Bea Quill {tag}"]
    # A % or _ is looked for as itself.
    wild = await web.get("/ops/users", params={"q": f"%{tag}"}, headers=headers)
    assert wild.json()["items"] == []

    detail = await web.get(f"/ops/workspaces/{first.workspace_id}", headers=headers)
    assert detail.status_code == 200, detail.text
    assert detail.json()["member_list"] == [
        {"user_id": str(first.user_id), "name": f"Ada Quill {tag}", "email": first.email,
         "role": "brand_admin"}
    ]  # fmt: skip
    person = await web.get(f"/ops/users/{second.user_id}", headers=headers)
    assert [w["name"] for w in person.json()["workspaces"]] == [f"lumen {tag} outdoors"]

    bad = await web.get("/ops/users", params={"q": "a\x00b", "limit": 0}, headers=headers)
    assert {e["field"] for e in assert_problem(bad, 422, "validation-failed")["errors"]} == {
        "query.q",
        "query.limit",
    }
    assert_problem(
        await web.get(f"/ops/workspaces/{uuid.uuid4()}", headers=headers), 404, "not-found"
    )


async def test_a_suspended_workspace_refuses_its_tokens_and_keys_until_reactivated(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    ops = make_tenant(engine, Role.OPS)
    brand = make_tenant(engine)
    bystander = make_tenant(engine)
    ops_headers, _ = await sign_in(web, ops)
    headers, refresh_token = await sign_in(web, brand)
    bystander_headers, _ = await sign_in(web, bystander)
    created = await web.post(
        "/api-keys",
        json={"name": "partner", "scopes": ["campaigns:read", "campaigns:write"]},
        headers=headers,
    )
    key = {"Authorization": f"Bearer {created.json()['key']}"}
    path = f"/ops/workspaces/{brand.workspace_id}"

    suspended = await web.post(
        f"{path}/suspension", json={"reason": "chargebacks"}, headers=ops_headers
    )
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["suspended_reason"] == "chargebacks"
    assert suspended.json()["suspended_at"] is not None

    campaigns_before = count_rows(engine, "campaigns")
    for who in (headers, key):
        refused = await web.get("/campaigns", headers=who)
        assert assert_problem(refused, 403, "suspended")["detail"] == SUSPENDED
        # What people start through the API (a campaign's process) is refused alike.
        started = await web.post("/campaigns", json=campaign_body(brand.brand_id), headers=who)
        assert assert_problem(started, 403, "suspended")["detail"] == SUSPENDED
    assert count_rows(engine, "campaigns") == campaigns_before
    renewal = await web.post("/auth/refresh", json={"refresh_token": refresh_token})
    assert "suspended: contact support" in assert_problem(renewal, 401, "unauthenticated")["detail"]
    # Signing in to it is refused with the reason, once the password is right.
    signing_in = {"email": brand.email, "password": PASSWORD}
    for wanted in ({}, {"workspace_id": str(brand.workspace_id)}):
        again = await web.post("/auth/login", json=signing_in | wanted)
        assert assert_problem(again, 403, "suspended")["detail"] == SUSPENDED
    wrong = await web.post("/auth/login", json=signing_in | {"password": "not the password"})
    assert_problem(wrong, 401, "unauthenticated")
    # Other workspaces go on.
    assert (await web.get("/campaigns", headers=bystander_headers)).status_code == 200

    reactivated = await web.post(
        f"{path}/reactivation", json={"reason": "paid up"}, headers=ops_headers
    )
    assert reactivated.status_code == 200, reactivated.text
    assert reactivated.json()["suspended_at"] is None
    assert (await web.get("/campaigns", headers=headers)).status_code == 200
    assert (await web.get("/campaigns", headers=key)).status_code == 200
    assert (await web.post("/auth/login", json=signing_in)).status_code == 200

    log = await web.get("/ops/admin-actions", params={"target_id": str(brand.workspace_id)},
                        headers=ops_headers)  # fmt: skip
    entries = [
        (a["action"], a["reason"], a["actor_id"], a["target_name"]) for a in log.json()["items"]
    ]
    name = suspended.json()["name"]
    assert entries == [
        ("reactivate_workspace", "paid up", str(ops.user_id), name),
        ("suspend_workspace", "chargebacks", str(ops.user_id), name),
    ]
    assert all(a["actor_name"].startswith("User ") for a in log.json()["items"])


async def test_a_suspended_account_is_refused_in_every_workspace_and_its_colleagues_go_on(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    ops = make_tenant(engine, Role.OPS)
    brand = make_tenant(engine)
    colleague = add_member(engine, brand, Role.BRAND_ADMIN)
    ops_headers, _ = await sign_in(web, ops)
    headers, refresh_token = await sign_in(web, brand)
    colleague_headers, _ = await sign_in(web, colleague)
    keys = {}
    for name, who in (("theirs", headers), ("colleague's", colleague_headers)):
        made = await web.post(
            "/api-keys", json={"name": name, "scopes": ["campaigns:read"]}, headers=who
        )
        keys[name] = {"Authorization": f"Bearer {made.json()['key']}"}
    path = f"/ops/users/{brand.user_id}"

    suspended = await web.post(
        f"{path}/suspension", json={"reason": "phishing"}, headers=ops_headers
    )
    assert suspended.status_code == 200, suspended.text
    refused = await web.get("/campaigns", headers=headers)
    assert assert_problem(refused, 403, "suspended")["detail"] == ACCOUNT_SUSPENDED
    assert_problem(
        await web.post("/auth/refresh", json={"refresh_token": refresh_token}),
        401,
        "unauthenticated",
    )
    # Nor can they sign in again, nor act through a key they made; their colleague's key and
    # sessions go on.
    signing_in = {"email": brand.email, "password": PASSWORD}
    again = await web.post("/auth/login", json=signing_in)
    assert assert_problem(again, 403, "suspended")["detail"] == ACCOUNT_SUSPENDED
    by_key = await web.get("/campaigns", headers=keys["theirs"])
    assert assert_problem(by_key, 403, "suspended")["detail"] == (
        "the account that made this API key is suspended: contact support"
    )
    assert (await web.get("/campaigns", headers=keys["colleague's"])).status_code == 200
    assert (await web.get("/campaigns", headers=colleague_headers)).status_code == 200

    await web.post(f"{path}/reactivation", json={"reason": "owner confirmed"}, headers=ops_headers)
    assert (await web.get("/campaigns", headers=headers)).status_code == 200
    assert (await web.get("/campaigns", headers=keys["theirs"])).status_code == 200
    assert (await web.post("/auth/login", json=signing_in)).status_code == 200
    own = await web.post(
        f"/ops/users/{ops.user_id}/suspension", json={"reason": "oops"}, headers=ops_headers
    )
    assert_problem(own, 409, "conflict")


async def test_someone_in_a_suspended_workspace_signs_in_to_their_other_one(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    ops = make_tenant(engine, Role.OPS)
    first, second = make_tenant(engine), make_tenant(engine)
    with session_scope(engine) as session:
        session.add(Membership(user_id=first.user_id, workspace_id=second.workspace_id,
                               role=Role.BRAND_MEMBER))  # fmt: skip
    ops_headers, _ = await sign_in(web, ops)
    suspended = await web.post(
        f"/ops/workspaces/{first.workspace_id}/suspension",
        json={"reason": "chargebacks"},
        headers=ops_headers,
    )
    assert suspended.status_code == 200, suspended.text

    signed_in = await web.post("/auth/login", json={"email": first.email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["workspace_id"] == str(second.workspace_id)
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    me = (await web.get("/auth/me", headers=headers)).json()
    standing = {m["workspace_id"]: m["suspended"] for m in me["memberships"]}
    assert standing == {str(first.workspace_id): True, str(second.workspace_id): False}
    switched = await web.post(
        "/auth/switch", json={"workspace_id": str(first.workspace_id)}, headers=headers
    )
    assert assert_problem(switched, 403, "suspended")["detail"] == SUSPENDED


async def test_a_reason_is_required_and_only_ops_administer(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    ops = make_tenant(engine, Role.OPS)
    brand = make_tenant(engine)
    ops_headers, _ = await sign_in(web, ops)
    headers, _ = await sign_in(web, brand)
    path = f"/ops/workspaces/{brand.workspace_id}/suspension"

    for body in ({}, {"reason": "  "}):
        missing = await web.post(path, json=body, headers=ops_headers)
        errors = assert_problem(missing, 422, "validation-failed")["errors"]
        assert [e["field"] for e in errors] == ["body.reason"]
    gone = await web.post(
        f"/ops/workspaces/{uuid.uuid4()}/suspension", json={"reason": "test"}, headers=ops_headers
    )
    assert_problem(gone, 404, "not-found")

    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", path, {"reason": "take over"}),
        ("POST", f"/ops/users/{ops.user_id}/suspension", {"reason": "take over"}),
        ("POST", f"/ops/users/{brand.user_id}/verification-email", {"reason": "x y z"}),
        ("GET", "/ops/users", None),
        ("GET", "/ops/workspaces", None),
        ("GET", f"/ops/workspaces/{brand.workspace_id}", None),
        ("GET", "/ops/admin-actions", None),
    ]
    for method, url, payload in calls:
        answer = await web.request(method, url, json=payload, headers=headers)
        assert_problem(answer, 403, "forbidden")
    assert (await web.get("/campaigns", headers=headers)).status_code == 200
    log = await web.get("/ops/admin-actions", params={"target_id": str(brand.workspace_id)},
                        headers=ops_headers)  # fmt: skip
    assert log.json()["items"] == []


@pytest.fixture
async def mail_web(
    settings: Settings, engine: Engine, client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    async with mail_client(settings, engine, client) as http:
        yield http


async def test_ops_resend_a_verification_email_and_it_is_logged(
    mail_web: httpx.AsyncClient, engine: Engine
) -> None:
    ops = make_tenant(engine, Role.OPS)
    verified = make_tenant(engine)
    email = unique_email("resend")
    assert (await sign_up(mail_web, brand_body(email))).status_code == 202
    await caught_mail(engine, email, "Welcome to NEXUS: verify")
    user = user_of(engine, email)
    headers, _ = await sign_in(mail_web, ops)

    sent = await mail_web.post(
        f"/ops/users/{user.id}/verification-email",
        json={"reason": "customer says the first never came"},
        headers=headers,
    )
    assert sent.status_code == 202, sent.text
    again = await caught_mail(engine, email, "Verify your e-mail address for NEXUS")
    assert "/portal/verify?token=" in again.text

    done = await mail_web.post(
        f"/ops/users/{verified.user_id}/verification-email",
        json={"reason": "asked"},
        headers=headers,
    )
    assert "verified already" in assert_problem(done, 409, "conflict")["detail"]
    assert mails_to(engine, verified.email) == []

    log = await mail_web.get(
        "/ops/admin-actions", params={"target_id": str(user.id)}, headers=headers
    )
    [entry] = log.json()["items"]
    assert entry["action"] == "resend_verification"
    assert entry["reason"] == "customer says the first never came"
    assert entry["actor_id"] == str(ops.user_id)
