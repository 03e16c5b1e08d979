from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from domain.enums import Role
from tests.support import Tenant, add_member, campaign_body, count_rows, login, make_tenant

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_key(
    http: httpx.AsyncClient, admin: Tenant, *scopes: str, name: str = "partner"
) -> dict[str, Any]:
    response = await http.post(
        "/api-keys", headers=await login(http, admin), json={"name": name, "scopes": list(scopes)}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def workflows_of(client: Client, tenant: Tenant) -> list[str]:
    query = f'WorkspaceId="{tenant.workspace_id}"'
    return [w.id async for w in client.list_workflows(query)]


async def assert_no_workflow(client: Client, tenant: Tenant) -> None:
    for _ in range(5):
        assert await workflows_of(client, tenant) == []
        await asyncio.sleep(0.1)


async def test_a_brand_admin_creates_a_key_shown_once_and_listed_without_secret(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    headers = await login(http, admin)

    response = await http.post(
        "/api-keys",
        headers=headers,
        json={
            "name": "Agency sync",
            "scopes": ["campaigns:write", "campaigns:read", "campaigns:read"],
        },
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["key"].startswith("nxk_")
    assert created["key"].startswith(f"nxk_{created['prefix']}_")
    assert created["name"] == "Agency sync"
    assert created["scopes"] == ["campaigns:read", "campaigns:write"]
    assert created["revoked_at"] is None
    assert count_rows(engine, "api_keys") == 1

    listed = await http.get("/api-keys", headers=headers)
    assert listed.status_code == 200
    [item] = listed.json()
    assert item["id"] == created["id"]
    assert item["prefix"] == created["prefix"]
    assert "key" not in item and "secret_hash" not in item
    assert created["key"].split("_", 2)[2] not in listed.text

    me = await http.get("/auth/me", headers=bearer(created["key"]))
    assert me.status_code == 200, me.text
    assert me.json()["api_key_id"] == created["id"]
    assert me.json()["role"] == "partner"
    assert me.json()["workspace_id"] == str(admin.workspace_id)
    assert me.json()["user_id"] is None and me.json()["memberships"] == []


async def test_each_key_is_different(http: httpx.AsyncClient, engine: Engine) -> None:
    admin = make_tenant(engine)
    first = await create_key(http, admin, "campaigns:read")
    second = await create_key(http, admin, "campaigns:read")

    assert first["key"] != second["key"]
    assert first["prefix"] != second["prefix"]
    listed = (await http.get("/api-keys", headers=await login(http, admin))).json()
    assert [k["id"] for k in listed] == [first["id"], second["id"]]


async def test_a_brand_member_may_not_manage_keys(http: httpx.AsyncClient, engine: Engine) -> None:
    admin = make_tenant(engine)
    member = add_member(engine, admin, Role.BRAND_MEMBER)
    key = await create_key(http, admin, "campaigns:read")
    headers = await login(http, member)

    created = await http.post(
        "/api-keys", headers=headers, json={"name": "mine", "scopes": ["campaigns:read"]}
    )
    listed = await http.get("/api-keys", headers=headers)
    revoked = await http.delete(f"/api-keys/{key['id']}", headers=headers)

    body = assert_problem(created, 403, "forbidden")
    assert body["detail"] == "role brand_member may not do this"
    assert_problem(listed, 403, "forbidden")
    assert_problem(revoked, 403, "forbidden")
    assert count_rows(engine, "api_keys") == 1
    assert (await http.get("/campaigns", headers=bearer(key["key"]))).status_code == 200


async def test_an_api_key_cannot_create_api_keys(http: httpx.AsyncClient, engine: Engine) -> None:
    admin = make_tenant(engine)
    key = await create_key(http, admin, "campaigns:read", "campaigns:write")

    response = await http.post(
        "/api-keys",
        headers=bearer(key["key"]),
        json={"name": "escalated", "scopes": ["campaigns:write"]},
    )

    assert_problem(response, 403, "forbidden")
    assert count_rows(engine, "api_keys") == 1
    assert_problem(await http.get("/api-keys", headers=bearer(key["key"])), 403, "forbidden")


async def test_a_read_only_key_reads_campaigns_but_cannot_create_them(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    made = await http.post(
        "/campaigns", headers=await login(http, admin), json=campaign_body(admin.brand_id)
    )
    assert made.status_code == 201, made.text
    key = bearer((await create_key(http, admin, "campaigns:read"))["key"])

    listed = await http.get("/campaigns", headers=key)
    fetched = await http.get(f"/campaigns/{made.json()['id']}", headers=key)
    brands = await http.get("/brands", headers=key)
    refused = await http.post("/campaigns", headers=key, json=campaign_body(admin.brand_id))
    cancel = await http.post(
        f"/campaigns/{made.json()['id']}/cancel", headers=key, json={"reason": "no"}
    )

    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["items"]] == [made.json()["id"]]
    assert fetched.status_code == 200
    assert fetched.json()["title"] == "Spring glow launch"
    assert [b["id"] for b in brands.json()] == [str(admin.brand_id)]
    body = assert_problem(refused, 403, "forbidden")
    assert body["detail"] == "API key lacks the scope campaigns:write"
    assert_problem(cancel, 403, "forbidden")
    assert count_rows(engine, "campaigns") == 1
    stage = (await http.get(f"/campaigns/{made.json()['id']}", headers=key)).json()["stage"]
    assert stage == "draft"


async def test_a_write_key_creates_a_campaign(http: httpx.AsyncClient, engine: Engine) -> None:
    admin = make_tenant(engine)
    key = await create_key(http, admin, "campaigns:write")

    response = await http.post(
        "/campaigns", headers=bearer(key["key"]), json=campaign_body(admin.brand_id)
    )

    assert response.status_code == 201, response.text
    assert response.json()["stage"] == "draft"
    assert count_rows(engine, "campaigns") == 1
    # Without campaigns:read the key still may not read.
    assert_problem(await http.get("/campaigns", headers=bearer(key["key"])), 403, "forbidden")


async def test_a_revoked_key_is_refused(http: httpx.AsyncClient, engine: Engine) -> None:
    admin = make_tenant(engine)
    key = await create_key(http, admin, "campaigns:read")
    assert (await http.get("/campaigns", headers=bearer(key["key"]))).status_code == 200
    headers = await login(http, admin)

    revoked = await http.delete(f"/api-keys/{key['id']}", headers=headers)

    assert revoked.status_code == 204
    assert revoked.content == b""
    response = await http.get("/campaigns", headers=bearer(key["key"]))
    body = assert_problem(response, 401, "unauthenticated")
    assert body["detail"] == "API key revoked"
    assert response.headers["www-authenticate"] == "Bearer"
    [listed] = (await http.get("/api-keys", headers=headers)).json()
    assert listed["revoked_at"] is not None


async def test_revoking_a_key_of_another_workspace_is_not_found_and_leaves_it_working(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    owner = make_tenant(engine)
    intruder = make_tenant(engine)
    key = await create_key(http, owner, "campaigns:read")

    response = await http.delete(f"/api-keys/{key['id']}", headers=await login(http, intruder))

    assert_problem(response, 404, "not-found")
    assert (await http.get("/campaigns", headers=bearer(key["key"]))).status_code == 200
    [listed] = (await http.get("/api-keys", headers=await login(http, owner))).json()
    assert listed["revoked_at"] is None
    assert (await http.get("/api-keys", headers=await login(http, intruder))).json() == []


async def test_revoking_an_unknown_key_is_not_found(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    headers = await login(http, admin)

    assert_problem(
        await http.delete("/api-keys/00000000-0000-4000-8000-000000000000", headers=headers),
        404,
        "not-found",
    )
    assert_problem(
        await http.delete("/api-keys/not-a-uuid", headers=headers), 422, "validation-failed"
    )


@pytest.mark.parametrize(
    "presented",
    ["nxk_short", "nxk_", "nxk_0123456789ab", "nxk_0123456789ab_"],
    ids=["short", "bare-prefix", "no-secret", "empty-secret"],
)
async def test_a_malformed_key_is_unauthenticated(http: httpx.AsyncClient, presented: str) -> None:
    response = await http.get("/campaigns", headers=bearer(presented))

    body = assert_problem(response, 401, "unauthenticated")
    assert body["detail"] == "API key malformed"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_well_formed_but_unknown_key_is_unauthenticated(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    real = await create_key(http, admin, "campaigns:read")
    unknown = f"nxk_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
    # The right prefix with a wrong secret must not match either.
    wrong_secret = f"nxk_{real['prefix']}_{secrets.token_urlsafe(32)}"

    for presented in (unknown, wrong_secret):
        body = assert_problem(
            await http.get("/campaigns", headers=bearer(presented)), 401, "unauthenticated"
        )
        assert body["detail"] == "API key unknown"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x", "scopes": ["campaigns:delete"]}, "body.scopes.0"),
        ({"name": "x", "scopes": ["campaigns:read", "admin"]}, "body.scopes.1"),
        ({"name": "x", "scopes": []}, "body.scopes"),
        ({"name": "", "scopes": ["campaigns:read"]}, "body.name"),
        ({"name": "x", "scopes": ["campaigns:read"], "expires": 3}, "body.expires"),
    ],
    ids=["unknown-scope", "one-bad-scope", "no-scopes", "empty-name", "unknown-field"],
)
async def test_an_invalid_key_request_is_rejected_and_creates_nothing(
    http: httpx.AsyncClient, engine: Engine, payload: dict[str, Any], field: str
) -> None:
    admin = make_tenant(engine)

    response = await http.post("/api-keys", headers=await login(http, admin), json=payload)

    body = assert_problem(response, 422, "validation-failed")
    assert [e["field"] for e in body["errors"]] == [field]
    assert all(e["reason"] for e in body["errors"])
    assert count_rows(engine, "api_keys") == 0


async def test_keys_of_one_workspace_only_see_that_workspace(
    http: httpx.AsyncClient, engine: Engine, client: Client
) -> None:
    mine = make_tenant(engine)
    theirs = make_tenant(engine)
    made = await http.post(
        "/campaigns", headers=await login(http, theirs), json=campaign_body(theirs.brand_id)
    )
    assert made.status_code == 201
    key = bearer((await create_key(http, mine, "campaigns:read", "campaigns:write"))["key"])

    assert (await http.get("/campaigns", headers=key)).json()["items"] == []
    assert_problem(await http.get(f"/campaigns/{made.json()['id']}", headers=key), 404, "not-found")
    refused = await http.post("/campaigns", headers=key, json=campaign_body(theirs.brand_id))
    body = assert_problem(refused, 422, "validation-failed")
    assert [e["field"] for e in body["errors"]] == ["body.brand_id"]
    assert count_rows(engine, "campaigns") == 1
    await assert_no_workflow(client, mine)
