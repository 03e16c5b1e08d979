"""The audit log through the API: a change records who made it, what, on what and from where;
a refused request records nothing; the platform's own processes record theirs; ops read and
export it (JSON, CSV, the portal page) and nobody else can."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine
from temporalio.client import Client

from api.app import close_app, create_app
from domain.enums import Role
from nexus.settings import Settings
from tests.api.test_portal import csrf_from, sign_in
from tests.e2e.support import ok, until
from tests.support import (
    Tenant,
    campaign_body,
    count_rows,
    free_port,
    fund,
    login,
    make_tenant,
)

AGENT = {"User-Agent": "shop-sync/2.1", "X-Request-Id": "req-0042"}


async def events(http: httpx.AsyncClient, ops: dict[str, str], **params: str) -> list[Any]:
    page = ok(await http.get("/ops/audit", headers=ops, params=params))
    items: list[Any] = page["items"]
    return items


async def ops_headers(http: httpx.AsyncClient, engine: Engine) -> dict[str, str]:
    return await login(http, make_tenant(engine, Role.OPS))


def user_name(tenant: Tenant) -> str:
    return f"User {tenant.email.removeprefix('user-').split('@')[0]}"


async def test_a_change_records_who_what_on_what_and_from_where(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    headers = await login(http, admin) | AGENT

    created = await http.post("/brands", json={"name": "Glow Labs"}, headers=headers)

    assert created.status_code == 201, created.text
    assert created.headers["x-request-id"] == "req-0042"
    ops = await ops_headers(http, engine)
    (event,) = await events(http, ops, workspace_id=str(admin.workspace_id))
    assert event["actor_kind"] == "user"
    assert (event["actor_id"], event["actor_name"]) == (str(admin.user_id), user_name(admin))
    assert event["workspace_name"].startswith("Workspace ")
    assert (event["action"], event["description"]) == ("brands.create_brand", "Create brand")
    assert (event["target_type"], event["target_id"]) == ("brand", created.json()["id"])
    assert event["target_name"] == "Glow Labs"
    assert (event["ip"], event["user_agent"], event["request_id"]) == (
        "127.0.0.1", "shop-sync/2.1", "req-0042",
    )  # fmt: skip
    assert event["details"] == {"route": "POST /brands", "status": 201}
    assert datetime.fromisoformat(event["at"]).utcoffset() == timedelta(0)


async def test_refused_requests_and_replays_record_nothing(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin, member = make_tenant(engine), make_tenant(engine, Role.BRAND_MEMBER)
    headers = await login(http, admin) | {"Idempotency-Key": "once"}
    refused = [
        await http.post("/brands", json={"name": ""}, headers=headers),
        await http.post("/brands", json={"name": "Glow"}, headers=await login(http, member)),
        await http.post("/brands", json={"name": "Glow"}),
        await http.delete(f"/api-keys/{uuid.uuid4()}", headers=await login(http, admin)),
    ]
    assert [r.status_code for r in refused] == [422, 403, 401, 404]
    assert count_rows(engine, "audit_events") == 0

    for _ in range(2):
        retried = headers | {"Idempotency-Key": "b"}
        ok(await http.post("/brands", json={"name": "Glow"}, headers=retried), 201)

    assert count_rows(engine, "audit_events") == 1


async def test_the_platforms_own_changes_and_money_movements_are_recorded(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    headers = await login(http, admin)
    body = campaign_body(admin.brand_id)
    body["brief"]["application_deadline"] = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    campaign = ok(await http.post("/campaigns", json=body, headers=headers), 201)
    await fund(http, engine, headers, campaign["id"])
    ok(await http.post(f"/campaigns/{campaign['id']}/publish", headers=headers))
    ops = await ops_headers(http, engine)

    async def published() -> list[Any]:
        found = await events(http, ops, action="campaign.stage_changed", actor_kind="system")
        return [e for e in found if e["details"]["to"] == "published"]

    (stage,) = await until(published)
    assert stage["actor_name"] == "system"
    assert (stage["target_id"], stage["target_name"]) == (campaign["id"], "Spring glow launch")
    assert stage["details"]["from"] == "draft"
    (money,) = await events(http, ops, action="ledger.entry_posted")
    assert money["description"] == "Money moved: funding"
    assert money["details"]["amount_minor"] > 0
    (confirmed,) = await events(http, ops, action="money.confirm_bank_transfer")
    assert confirmed["actor_kind"] == "user"
    assert confirmed["workspace_id"] != str(admin.workspace_id)  # the ops user's own
    assert confirmed["target_type"] == "funding"
    assert confirmed["target_name"] == "Spring glow launch"
    (received,) = await events(http, ops, action="funding.succeeded")
    assert received["workspace_id"] == str(admin.workspace_id)


async def test_ops_filter_and_export_the_log(http: httpx.AsyncClient, engine: Engine) -> None:
    one, two = make_tenant(engine), make_tenant(engine)
    for tenant, name in ((one, "=HYPERLINK(1)"), (two, "Shine")):
        ok(await http.post("/brands", json={"name": name}, headers=await login(http, tenant)), 201)
    ops = await ops_headers(http, engine)

    assert [e["target_name"] for e in await events(http, ops)] == ["Shine", "=HYPERLINK(1)"]
    assert [e["target_name"] for e in await events(http, ops, actor_id=str(one.user_id))] == [
        "=HYPERLINK(1)"
    ]
    assert [e["target_name"] for e in await events(http, ops, limit="1", offset="1")] == [
        "=HYPERLINK(1)"
    ]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert await events(http, ops, since=tomorrow) == []

    exported = await http.get(
        "/ops/audit", headers=ops, params={"format": "csv", "workspace_id": str(one.workspace_id)}
    )

    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 1
    assert rows[0]["actor"] == user_name(one)
    assert rows[0]["action"] == "brands.create_brand"
    assert rows[0]["target"] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet


async def test_only_ops_read_the_log(http: httpx.AsyncClient, engine: Engine) -> None:
    admin = make_tenant(engine)
    headers = await login(http, admin)
    key = ok(
        await http.post(
            "/api-keys", json={"name": "k", "scopes": ["campaigns:read"]}, headers=headers
        ),
        201,
    )["key"]

    for caller in (headers, {"Authorization": f"Bearer {key}"}):
        for params in ({}, {"format": "csv"}):
            response = await http.get("/ops/audit", headers=caller, params=params)
            assert response.status_code == 403, response.text
    assert (await http.get("/ops/audit")).status_code == 401


async def test_the_ops_page_shows_names_and_filters(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    headers = await login(http, admin)
    ok(await http.post("/brands", json={"name": "Glow Labs"}, headers=headers), 201)
    ops = make_tenant(engine, Role.OPS)
    await sign_in(http, ops)

    page = await http.get("/portal/ops/audit")
    filtered = await http.get(
        "/portal/ops/audit", params={"actor": str(uuid.uuid4()), "since": "2026-01-01"}
    )
    exported = await http.get("/portal/ops/audit", params={"export": "true"})
    bad = await http.get("/portal/ops/audit", params={"since": "yesterday"})

    assert page.status_code == 200
    assert user_name(admin) in page.text
    assert "Glow Labs" in page.text
    assert "Create brand" in page.text
    assert f'<option value="{admin.workspace_id}"' in page.text
    assert "Glow Labs" not in filtered.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert "Glow Labs" in exported.text
    assert bad.status_code == 422
    assert "Enter a date like" in bad.text
    await sign_in(http, admin)
    refused = await http.get("/portal/ops/audit")
    assert refused.status_code == 303
    assert refused.headers["location"] == "/portal"


async def test_portal_changes_are_recorded_and_its_refusals_are_not(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    await sign_in(http, admin)
    csrf = csrf_from(await http.get("/portal/team"))
    email = f"inv-{uuid.uuid4().hex[:6]}@example.com"
    invite = {"csrf_token": csrf, "email": email, "role": "brand_member"}

    assert (await http.post("/portal/team/invitations", data=invite)).status_code == 200
    assert (await http.post("/portal/team/invitations", data=invite)).status_code == 409
    forged = invite | {"csrf_token": "forged"}
    assert (await http.post("/portal/team/invitations", data=forged)).status_code == 403

    ops = await ops_headers(http, engine)
    (event,) = await events(http, ops, workspace_id=str(admin.workspace_id))
    assert event["actor_name"] == user_name(admin)
    assert event["action"].startswith("portal.team.")
    assert event["description"].endswith("(portal)")


async def test_a_change_while_the_database_is_down_is_told_to_retry(
    settings: Settings, client: Client
) -> None:
    nothing_there = create_engine(f"postgresql+psycopg://nexus:nexus@127.0.0.1:{free_port()}/x")
    app = create_app(settings, engine=nothing_there, temporal=client)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    key = {"Authorization": "Bearer nxk_0123456789ab_secret", "Idempotency-Key": "k"}
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as http:
        answer = await http.post("/brands", json={"name": "Glow"}, headers=key)
    await close_app(app)
    nothing_there.dispose()

    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "1"
