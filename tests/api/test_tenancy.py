from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowExecutionStatus

from domain.enums import Role
from tests.support import Tenant, add_member, campaign_body, count_rows, login, make_tenant

PROBLEM = "application/problem+json"


def assert_not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "/problems/not-found"
    assert (body["title"], body["status"]) == ("Not found", 404)
    assert body["detail"] == "no such campaign in this workspace"


def without_instance(response: httpx.Response) -> dict[str, Any]:
    return {k: v for k, v in response.json().items() if k != "instance"}


@dataclass(frozen=True)
class World:
    a_admin: Tenant
    a_member: Tenant
    b: Tenant
    b_headers: dict[str, str]
    b_ids: list[str]


@pytest.fixture
async def world(http: httpx.AsyncClient, engine: Engine) -> World:
    a_admin = make_tenant(engine)
    a_member = add_member(engine, a_admin, Role.BRAND_MEMBER)
    b = make_tenant(engine)
    b_headers = await login(http, b)
    b_ids = []
    for title in ("B launch", "B teaser"):
        response = await http.post(
            "/campaigns", headers=b_headers, json=campaign_body(b.brand_id, title=title)
        )
        assert response.status_code == 201, response.text
        b_ids.append(response.json()["id"])
    return World(a_admin, a_member, b, b_headers, b_ids)


async def a_key(http: httpx.AsyncClient, admin: Tenant) -> dict[str, str]:
    response = await http.post(
        "/api-keys",
        headers=await login(http, admin),
        json={"name": "A partner", "scopes": ["campaigns:read", "campaigns:write"]},
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['key']}"}


async def assert_b_untouched(http: httpx.AsyncClient, client: Client, world: World) -> None:
    for campaign_id in world.b_ids:
        own = await http.get(f"/campaigns/{campaign_id}", headers=world.b_headers)
        assert own.status_code == 200
        assert own.json()["stage"] == "draft"
        assert own.json()["live"]["stage"] == "draft"
        assert own.json()["live"]["cancel_reason"] is None
        described = await client.get_workflow_handle(f"campaign-{campaign_id}").describe()
        assert described.status == WorkflowExecutionStatus.RUNNING


@pytest.mark.parametrize("who", ["admin", "member"])
async def test_another_workspace_cannot_see_or_cancel_a_campaign(
    http: httpx.AsyncClient, client: Client, world: World, who: str
) -> None:
    intruder = world.a_admin if who == "admin" else world.a_member
    headers = await login(http, intruder)
    b_id = world.b_ids[0]

    fetched = await http.get(f"/campaigns/{b_id}", headers=headers)
    cancelled = await http.post(
        f"/campaigns/{b_id}/cancel", headers=headers, json={"reason": "sabotage"}
    )
    listed = await http.get("/campaigns", headers=headers)

    assert_not_found(fetched)
    assert_not_found(cancelled)
    for response in (fetched, cancelled):
        assert "B launch" not in response.text
        assert str(world.b.brand_id) not in response.text
    assert listed.status_code == 200
    assert listed.json()["items"] == []
    await assert_b_untouched(http, client, world)


async def test_a_campaign_that_exists_elsewhere_looks_like_one_that_does_not_exist(
    http: httpx.AsyncClient, world: World
) -> None:
    headers = await login(http, world.a_admin)

    elsewhere = await http.get(f"/campaigns/{world.b_ids[0]}", headers=headers)
    nowhere = await http.get("/campaigns/00000000-0000-4000-8000-000000000000", headers=headers)

    assert elsewhere.status_code == nowhere.status_code == 404
    assert without_instance(elsewhere) == without_instance(nowhere)


async def test_lists_only_hold_the_callers_campaigns(
    http: httpx.AsyncClient, engine: Engine, world: World
) -> None:
    a_headers = await login(http, world.a_member)
    a_made = await http.post(
        "/campaigns", headers=a_headers, json=campaign_body(world.a_admin.brand_id, title="A own")
    )
    assert a_made.status_code == 201

    a_list = (await http.get("/campaigns", headers=a_headers, params={"limit": 200})).json()
    b_list = (await http.get("/campaigns", headers=world.b_headers)).json()

    assert [c["id"] for c in a_list["items"]] == [a_made.json()["id"]]
    assert sorted(c["id"] for c in b_list["items"]) == sorted(world.b_ids)
    assert count_rows(engine, "campaigns") == 3


async def test_an_api_key_of_another_workspace_cannot_reach_a_campaign(
    http: httpx.AsyncClient, client: Client, world: World
) -> None:
    key = await a_key(http, world.a_admin)
    b_id = world.b_ids[1]

    fetched = await http.get(f"/campaigns/{b_id}", headers=key)
    cancelled = await http.post(f"/campaigns/{b_id}/cancel", headers=key, json={"reason": "x"})
    listed = await http.get("/campaigns", headers=key)

    assert_not_found(fetched)
    assert_not_found(cancelled)
    assert listed.json()["items"] == []
    await assert_b_untouched(http, client, world)


@pytest.mark.parametrize("caller", ["admin", "member", "api-key"])
async def test_a_campaign_cannot_be_created_for_another_workspaces_brand(
    http: httpx.AsyncClient, engine: Engine, client: Client, world: World, caller: str
) -> None:
    if caller == "api-key":
        headers = await a_key(http, world.a_admin)
    else:
        headers = await login(http, world.a_admin if caller == "admin" else world.a_member)

    response = await http.post(
        "/campaigns",
        headers=headers | {"Idempotency-Key": "steal"},
        json=campaign_body(world.b.brand_id),
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == "/problems/validation-failed"
    assert body["errors"] == [
        {"field": "body.brand_id", "reason": "no such brand in this workspace"}
    ]
    assert count_rows(engine, "campaigns") == 2
    query = f'WorkspaceId="{world.a_admin.workspace_id}"'
    for pause in (0.0, 0.2):
        await asyncio.sleep(pause)
        assert [w async for w in client.list_workflows(query)] == []
    b_list = (await http.get("/campaigns", headers=world.b_headers)).json()
    assert sorted(c["id"] for c in b_list["items"]) == sorted(world.b_ids)


async def test_brands_are_listed_only_for_the_callers_workspace(
    http: httpx.AsyncClient, engine: Engine, world: World
) -> None:
    a_headers = await login(http, world.a_admin)
    made = await http.post(
        "/brands", headers=a_headers, json={"name": "A second", "website": "https://a.example"}
    )
    assert made.status_code == 201, made.text

    a_brands = (await http.get("/brands", headers=a_headers)).json()
    member_brands = (await http.get("/brands", headers=await login(http, world.a_member))).json()
    b_brands = (await http.get("/brands", headers=world.b_headers)).json()

    a_ids = {str(world.a_admin.brand_id), made.json()["id"]}
    assert {b["id"] for b in a_brands} == a_ids
    assert {b["id"] for b in member_brands} == a_ids
    assert [b["id"] for b in b_brands] == [str(world.b.brand_id)]
    assert count_rows(engine, "brands") == 3
