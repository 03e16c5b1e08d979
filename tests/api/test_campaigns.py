from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowExecutionStatus

from api.app import close_app, create_app
from domain.enums import CampaignStage, Role
from nexus.settings import Settings
from tests.support import (
    Tenant,
    add_member,
    campaign_body,
    count_rows,
    fund,
    login,
    make_creator,
    make_tenant,
)
from workflows.campaign import CampaignWorkflow
from workflows.contracts.campaign import CampaignStatus, DeliveryOutcome

PROBLEM = "application/problem+json"
TABLES = ("campaigns", "briefs", "deliverables")


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body.get("errors", [])]


def rows(engine: Engine) -> dict[str, int]:
    return {table: count_rows(engine, table) for table in TABLES}


async def workflow_ids(client: Client, query: str) -> list[str]:
    return [w.id async for w in client.list_workflows(query)]


async def eventually_workflow_ids(
    client: Client, query: str, expected: list[str], within: float = 5.0
) -> None:
    """Visibility is eventually consistent: poll until the query answers `expected`."""
    deadline = asyncio.get_running_loop().time() + within
    found: list[str] = []
    while asyncio.get_running_loop().time() < deadline:
        found = await workflow_ids(client, query)
        if sorted(found) == sorted(expected):
            return
        await asyncio.sleep(0.1)
    assert sorted(found) == sorted(expected)


async def assert_no_workflow(client: Client, tenant: Tenant) -> None:
    # Visibility lags a started workflow by milliseconds on the dev server; look twice.
    for pause in (0.0, 0.2):
        await asyncio.sleep(pause)
        assert await workflow_ids(client, f'WorkspaceId="{tenant.workspace_id}"') == []


async def create(
    http: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post("/campaigns", headers=headers, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def iso(moment: datetime) -> str:
    return moment.isoformat()


def in_days(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


@pytest.fixture
def member(engine: Engine) -> Tenant:
    return add_member(engine, make_tenant(engine), Role.BRAND_MEMBER)


async def test_a_brand_member_creates_a_draft_campaign(
    http: httpx.AsyncClient, engine: Engine, member: Tenant
) -> None:
    deadlines = {
        "application_deadline": iso(in_days(7)),
        "delivery_deadline": iso(in_days(21)),
    }
    body = campaign_body(member.brand_id)
    body["brief"] |= deadlines | {"hooks": ["Morning routine"], "ships_product": True}

    response = await http.post("/campaigns", headers=await login(http, member), json=body)

    assert response.status_code == 201, response.text
    created = response.json()
    campaign_id = uuid.UUID(created["id"])
    assert response.headers["location"] == f"/campaigns/{campaign_id}"
    assert created["stage"] == "draft"
    deliverable_id = created["deliverables"][0]["id"]
    assert created["live"] == {
        "stage": "draft",
        "workflow_id": f"campaign-{campaign_id}",
        "cancel_reason": None,
        "committed_minor": 0,
        "owed_minor": 0,
        "open_slots": {deliverable_id: created["deliverables"][0]["quantity"]},
        "open_deliveries": 0,
    }
    assert created["brand_id"] == str(member.brand_id)
    assert created["title"] == "Spring glow launch"
    assert created["budget"] == {"amount_minor": 500_000, "currency": "USD"}
    assert created["brief"]["hooks"] == ["Morning routine"]
    assert created["brief"]["ships_product"] is True
    stored_deadline = datetime.fromisoformat(created["brief"]["application_deadline"])
    assert stored_deadline == datetime.fromisoformat(deadlines["application_deadline"])
    assert [(d["format"], d["quantity"], d["price_minor"]) for d in created["deliverables"]] == [
        ("video_9x16", 2, 100_000)
    ]
    assert rows(engine) == {"campaigns": 1, "briefs": 1, "deliverables": 1}


async def test_a_created_campaign_can_be_read_back_and_listed(
    http: httpx.AsyncClient, engine: Engine, member: Tenant
) -> None:
    headers = await login(http, member)
    body = campaign_body(
        member.brand_id,
        deliverables=[
            {"format": "video_9x16", "duration_s": 30, "quantity": 2, "price_minor": 100_000},
            {"format": "photo", "quantity": 3, "price_minor": 20_000},
        ],
    )
    created = await create(http, headers, body)

    fetched = await http.get(f"/campaigns/{created['id']}", headers=headers)
    listed = await http.get("/campaigns", headers=headers)

    assert fetched.status_code == 200, fetched.text
    campaign = fetched.json()
    assert campaign["id"] == created["id"]
    assert campaign["stage"] == "draft"
    assert campaign["live"]["stage"] == "draft"
    brief = campaign["brief"]
    for key, value in body["brief"].items():
        assert brief[key] == value, key
    assert brief["disclosure_required"] is True
    assert brief["application_deadline"] is None
    stored = sorted(
        (d["format"], d["duration_s"], d["quantity"], d["price_minor"])
        for d in campaign["deliverables"]
    )
    assert stored == [("photo", None, 3, 20_000), ("video_9x16", 30, 2, 100_000)]
    assert all(uuid.UUID(d["id"]) for d in campaign["deliverables"])
    assert listed.status_code == 200
    page = listed.json()
    assert (page["limit"], page["offset"]) == (50, 0)
    assert [(c["id"], c["stage"], c["budget"]) for c in page["items"]] == [
        (created["id"], "draft", {"amount_minor": 500_000, "currency": "USD"})
    ]


async def test_the_list_pages_newest_first(
    http: httpx.AsyncClient, engine: Engine, member: Tenant
) -> None:
    headers = await login(http, member)
    ids = [
        (await create(http, headers, campaign_body(member.brand_id, title=f"C{n}")))["id"]
        for n in range(3)
    ]

    first = (await http.get("/campaigns", headers=headers, params={"limit": 2})).json()
    rest = (await http.get("/campaigns", headers=headers, params={"limit": 2, "offset": 2})).json()

    assert [c["id"] for c in first["items"]] == [ids[2], ids[1]]
    assert [c["id"] for c in rest["items"]] == [ids[0]]
    assert (rest["limit"], rest["offset"]) == (2, 2)


async def test_the_campaign_workflow_is_running_and_findable_by_search_attributes(
    http: httpx.AsyncClient, client: Client, member: Tenant
) -> None:
    created = await create(http, await login(http, member), campaign_body(member.brand_id))
    workflow_id = f"campaign-{created['id']}"

    for query in (
        f'CampaignId="{created["id"]}"',
        f'BrandId="{member.brand_id}"',
        f'WorkspaceId="{member.workspace_id}"',
        f'WorkspaceId="{member.workspace_id}" AND Stage="draft"',
    ):
        await eventually_workflow_ids(client, query, [workflow_id])

    handle = client.get_workflow_handle(workflow_id)
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert description.workflow_type == "CampaignWorkflow"
    status = await handle.query(CampaignWorkflow.status)
    assert status.stage == CampaignStage.DRAFT
    assert status.recorded is True
    assert str(status.campaign_id) == created["id"]


async def test_repeating_a_create_with_the_same_idempotency_key_returns_the_same_campaign(
    http: httpx.AsyncClient, engine: Engine, client: Client, member: Tenant
) -> None:
    headers = await login(http, member) | {"Idempotency-Key": "order-42"}
    body = campaign_body(member.brand_id)

    first = await http.post("/campaigns", headers=headers, json=body)
    second = await http.post("/campaigns", headers=headers, json=body)

    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["location"] == first.headers["location"]
    assert second.json()["deliverables"] == first.json()["deliverables"]
    assert rows(engine) == {"campaigns": 1, "briefs": 1, "deliverables": 1}
    query = f'WorkspaceId="{member.workspace_id}"'
    await eventually_workflow_ids(client, query, [f"campaign-{first.json()['id']}"])
    await asyncio.sleep(0.3)
    assert len(await workflow_ids(client, query)) == 1


async def test_concurrent_creates_with_one_idempotency_key_make_one_campaign(
    http: httpx.AsyncClient, engine: Engine, client: Client, member: Tenant
) -> None:
    headers = await login(http, member) | {"Idempotency-Key": "burst"}
    body = campaign_body(member.brand_id)

    responses = await asyncio.gather(
        *(http.post("/campaigns", headers=headers, json=body) for _ in range(4))
    )

    assert [r.status_code for r in responses] == [201] * 4, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert rows(engine) == {"campaigns": 1, "briefs": 1, "deliverables": 1}


async def test_different_idempotency_keys_or_workspaces_make_different_campaigns(
    http: httpx.AsyncClient, engine: Engine, client: Client, member: Tenant
) -> None:
    other = make_tenant(engine)
    mine = await login(http, member)

    a = await create(http, mine | {"Idempotency-Key": "k1"}, campaign_body(member.brand_id))
    b = await create(http, mine | {"Idempotency-Key": "k2"}, campaign_body(member.brand_id))
    c = await create(
        http, await login(http, other) | {"Idempotency-Key": "k1"}, campaign_body(other.brand_id)
    )

    assert len({a["id"], b["id"], c["id"]}) == 3
    assert count_rows(engine, "campaigns") == 3
    assert c["brand_id"] == str(other.brand_id)


async def test_an_overlong_idempotency_key_is_rejected(
    http: httpx.AsyncClient, engine: Engine, client: Client, member: Tenant
) -> None:
    headers = await login(http, member) | {"Idempotency-Key": "k" * 201}

    response = await http.post("/campaigns", headers=headers, json=campaign_body(member.brand_id))

    body = assert_problem(response, 422, "validation-failed")
    assert fields(body) == ["header.idempotency-key"]
    assert count_rows(engine, "campaigns") == 0
    await assert_no_workflow(client, member)


async def test_cancelling_a_campaign_closes_it_and_a_second_cancel_conflicts(
    http: httpx.AsyncClient, engine: Engine, client: Client, member: Tenant
) -> None:
    headers = await login(http, member)
    created = await create(http, headers, campaign_body(member.brand_id))
    workflow_id = f"campaign-{created['id']}"

    response = await http.post(
        f"/campaigns/{created['id']}/cancel", headers=headers, json={"reason": "Budget moved"}
    )

    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["stage"] == "cancelled"
    assert cancelled["live"]["stage"] == "cancelled"
    assert cancelled["live"]["workflow_id"] == workflow_id
    assert cancelled["live"]["cancel_reason"] == "Budget moved"
    assert cancelled["live"]["owed_minor"] == 0
    fetched = (await http.get(f"/campaigns/{created['id']}", headers=headers)).json()
    assert fetched["stage"] == "cancelled"
    listed = (await http.get("/campaigns", headers=headers)).json()
    assert [c["stage"] for c in listed["items"]] == ["cancelled"]

    again = await http.post(
        f"/campaigns/{created['id']}/cancel", headers=headers, json={"reason": "Twice"}
    )

    body = assert_problem(again, 409, "conflict")
    assert "cancelled" in body["detail"]
    handle = client.get_workflow_handle(workflow_id, result_type=CampaignStatus)
    result = await asyncio.wait_for(handle.result(), timeout=10)
    assert result.stage == CampaignStage.CANCELLED
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    await eventually_workflow_ids(
        client, f'WorkspaceId="{member.workspace_id}" AND Stage="cancelled"', [workflow_id]
    )
    status = await handle.query(CampaignWorkflow.status)
    assert status.cancel_reason == "Budget moved"


async def test_repeating_a_create_after_cancelling_does_not_revive_the_campaign(
    http: httpx.AsyncClient, engine: Engine, client: Client, member: Tenant
) -> None:
    headers = await login(http, member) | {"Idempotency-Key": "order-7"}
    body = campaign_body(member.brand_id)
    created = await create(http, headers, body)
    cancel = await http.post(
        f"/campaigns/{created['id']}/cancel", headers=headers, json={"reason": "Dropped"}
    )
    assert cancel.status_code == 200, cancel.text
    handle = client.get_workflow_handle(f"campaign-{created['id']}")
    await asyncio.wait_for(handle.result(), timeout=10)

    retried = await http.post("/campaigns", headers=headers, json=body)

    assert retried.json()["id"] == created["id"]
    assert rows(engine) == {"campaigns": 1, "briefs": 1, "deliverables": 1}
    assert retried.json()["stage"] == "cancelled"
    # The campaign's process stays finished: no new run in "draft" next to a cancelled record.
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    live = retried.json()["live"]
    assert live is None or live["stage"] == "cancelled"


async def test_cancel_needs_a_reason_and_a_known_campaign(
    http: httpx.AsyncClient, engine: Engine, member: Tenant
) -> None:
    headers = await login(http, member)
    created = await create(http, headers, campaign_body(member.brand_id))

    no_reason = await http.post(f"/campaigns/{created['id']}/cancel", headers=headers, json={})
    empty = await http.post(
        f"/campaigns/{created['id']}/cancel", headers=headers, json={"reason": ""}
    )
    unknown = await http.post(
        f"/campaigns/{uuid.uuid4()}/cancel", headers=headers, json={"reason": "x"}
    )

    assert fields(assert_problem(no_reason, 422, "validation-failed")) == ["body.reason"]
    assert fields(assert_problem(empty, 422, "validation-failed")) == ["body.reason"]
    assert_problem(unknown, 404, "not-found")
    fetched = (await http.get(f"/campaigns/{created['id']}", headers=headers)).json()
    assert fetched["stage"] == "draft"
    assert fetched["live"]["stage"] == "draft"


async def test_a_creator_may_not_create_or_read_campaigns(
    http: httpx.AsyncClient, engine: Engine, client: Client
) -> None:
    brand = make_tenant(engine)
    created = await create(http, await login(http, brand), campaign_body(brand.brand_id))
    creator = make_tenant(engine, Role.CREATOR)
    headers = await login(http, creator)

    posted = await http.post("/campaigns", headers=headers, json=campaign_body(creator.brand_id))
    listed = await http.get("/campaigns", headers=headers)
    fetched = await http.get(f"/campaigns/{created['id']}", headers=headers)

    body = assert_problem(posted, 403, "forbidden")
    assert body["detail"] == "role creator may not do this"
    assert_problem(listed, 403, "forbidden")
    assert_problem(fetched, 403, "forbidden")
    assert count_rows(engine, "campaigns") == 1
    await assert_no_workflow(client, creator)


async def test_an_unknown_campaign_is_not_found(http: httpx.AsyncClient, member: Tenant) -> None:
    response = await http.get(f"/campaigns/{uuid.uuid4()}", headers=await login(http, member))

    body = assert_problem(response, 404, "not-found")
    assert body["detail"] == "no such campaign in this workspace"


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    *parents, leaf = path.split(".")

    def apply(body: dict[str, Any]) -> None:
        target = body
        for key in parents:
            target = target[key]
        target[leaf] = value

    return apply


def _deadlines(application: datetime | str, delivery: datetime | str | None = None) -> Any:
    def apply(body: dict[str, Any]) -> None:
        body["brief"]["application_deadline"] = (
            application if isinstance(application, str) else iso(application)
        )
        if delivery is not None:
            body["brief"]["delivery_deadline"] = (
                delivery if isinstance(delivery, str) else iso(delivery)
            )

    return apply


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    def apply(body: dict[str, Any]) -> None:
        del body[key]

    return apply


BAD_BODIES: list[Any] = [
    pytest.param(_set("foo", 1), "body.foo", id="unknown-top-level-field"),
    pytest.param(_set("brief.foo", "x"), "body.brief.foo", id="unknown-brief-field"),
    pytest.param(_set("budget.cents", 1), "body.budget.cents", id="unknown-budget-field"),
    pytest.param(
        _set("deliverables", [{"format": "photo", "price_minor": 1, "colour": "red"}]),
        "body.deliverables.0.colour",
        id="unknown-deliverable-field",
    ),
    pytest.param(_set("budget.amount_minor", "abc"), "body.budget.amount_minor", id="amount-str"),
    pytest.param(_set("budget.amount_minor", -5), "body.budget.amount_minor", id="amount-negative"),
    pytest.param(_set("budget.amount_minor", 0), "body.budget.amount_minor", id="amount-zero"),
    pytest.param(_set("budget.amount_minor", 1.5), "body.budget.amount_minor", id="amount-float"),
    pytest.param(_set("budget.currency", "usd"), "body.budget.currency", id="currency-lowercase"),
    pytest.param(_set("budget.currency", "US"), "body.budget.currency", id="currency-short"),
    pytest.param(_set("deliverables", []), "body.deliverables", id="no-deliverables"),
    pytest.param(
        _set("deliverables", [{"format": "hologram", "price_minor": 1}]),
        "body.deliverables.0.format",
        id="unknown-format",
    ),
    pytest.param(
        _set("deliverables", [{"format": "photo", "price_minor": 0}]),
        "body.deliverables.0.price_minor",
        id="free-deliverable",
    ),
    pytest.param(
        _set("deliverables", [{"format": "video_1x1", "quantity": 6, "price_minor": 100_000}]),
        "body.deliverables",
        id="deliverables-over-budget",
    ),
    pytest.param(_set("brand_id", str(uuid.uuid4())), "body.brand_id", id="unknown-brand"),
    pytest.param(_set("brand_id", "acme"), "body.brand_id", id="brand-not-uuid"),
    pytest.param(_set("title", ""), "body.title", id="empty-title"),
    pytest.param(_drop("title"), "body.title", id="missing-title"),
    pytest.param(_set("brief.revision_rounds", 11), "body.brief.revision_rounds", id="rounds"),
    pytest.param(
        _deadlines(in_days(30), in_days(10)), "body.brief", id="application-after-delivery"
    ),
    pytest.param(
        _deadlines(in_days(-1)), "body.brief.application_deadline", id="deadline-in-the-past"
    ),
    pytest.param(
        _deadlines(in_days(5), in_days(-1) - timedelta(days=1)),
        "body.brief",
        id="delivery-in-the-past-and-before-application",
    ),
    pytest.param(
        _deadlines((datetime.now() + timedelta(days=7)).isoformat()),
        "body.brief.application_deadline",
        id="naive-datetime",
    ),
]


@pytest.mark.parametrize(("mutate", "field"), BAD_BODIES)
async def test_an_invalid_campaign_is_rejected_and_nothing_is_created(
    http: httpx.AsyncClient,
    engine: Engine,
    client: Client,
    member: Tenant,
    mutate: Callable[[dict[str, Any]], None],
    field: str,
) -> None:
    body = campaign_body(member.brand_id)
    mutate(body)

    response = await http.post("/campaigns", headers=await login(http, member), json=body)

    problem = assert_problem(response, 422, "validation-failed")
    assert field in fields(problem), problem
    assert all(e["reason"] for e in problem["errors"])
    assert rows(engine) == {"campaigns": 0, "briefs": 0, "deliverables": 0}
    await assert_no_workflow(client, member)


async def test_a_delivery_deadline_in_the_past_names_that_field(
    http: httpx.AsyncClient, engine: Engine, client: Client, member: Tenant
) -> None:
    body = campaign_body(member.brand_id)
    body["brief"]["delivery_deadline"] = iso(in_days(-2))

    response = await http.post("/campaigns", headers=await login(http, member), json=body)

    assert fields(assert_problem(response, 422, "validation-failed")) == [
        "body.brief.delivery_deadline"
    ]
    assert count_rows(engine, "campaigns") == 0


async def test_a_brand_of_another_workspace_is_rejected(
    http: httpx.AsyncClient, engine: Engine, client: Client, member: Tenant
) -> None:
    other = make_tenant(engine)

    response = await http.post(
        "/campaigns", headers=await login(http, member), json=campaign_body(other.brand_id)
    )

    problem = assert_problem(response, 422, "validation-failed")
    assert problem["errors"] == [
        {"field": "body.brand_id", "reason": "no such brand in this workspace"}
    ]
    assert rows(engine) == {"campaigns": 0, "briefs": 0, "deliverables": 0}
    await assert_no_workflow(client, member)
    await assert_no_workflow(client, other)


async def test_the_over_budget_problem_says_by_how_much(
    http: httpx.AsyncClient, engine: Engine, member: Tenant
) -> None:
    body = campaign_body(
        member.brand_id,
        budget={"amount_minor": 150_000, "currency": "EUR"},
        deliverables=[{"format": "photo", "quantity": 2, "price_minor": 80_000}],
    )

    response = await http.post("/campaigns", headers=await login(http, member), json=body)

    problem = assert_problem(response, 422, "validation-failed")
    [error] = problem["errors"]
    assert error["field"] == "body.deliverables"
    assert error["reason"] == (
        "the deliverables cost €1,600.00, €100.00 over the budget of €1,500.00"
    )
    assert count_rows(engine, "campaigns") == 0


async def test_deliverables_costing_exactly_the_budget_are_accepted(
    http: httpx.AsyncClient, engine: Engine, member: Tenant
) -> None:
    body = campaign_body(
        member.brand_id,
        budget={"amount_minor": 160_000, "currency": "EUR"},
        deliverables=[{"format": "photo", "quantity": 2, "price_minor": 80_000}],
    )

    created = await create(http, await login(http, member), body)

    assert created["budget"] == {"amount_minor": 160_000, "currency": "EUR"}


async def test_a_body_over_the_size_limit_is_refused(
    http: httpx.AsyncClient, engine: Engine, client: Client, settings: Settings, member: Tenant
) -> None:
    body = campaign_body(member.brand_id)
    body["brief"]["dos"] = ["x" * 1024] * (settings.api.max_body_bytes // 1024 + 1)

    response = await http.post("/campaigns", headers=await login(http, member), json=body)

    problem = assert_problem(response, 413, "payload-too-large")
    assert str(settings.api.max_body_bytes) in problem["detail"]
    assert rows(engine) == {"campaigns": 0, "briefs": 0, "deliverables": 0}
    await assert_no_workflow(client, member)


async def test_a_streamed_body_over_the_size_limit_is_refused(
    http: httpx.AsyncClient, engine: Engine, settings: Settings, member: Tenant
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"brand_id": "' + str(member.brand_id).encode() + b'", "title": "'
        for _ in range(settings.api.max_body_bytes // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    headers = await login(http, member) | {"Content-Type": "application/json"}

    response = await http.post("/campaigns", headers=headers, content=chunks())

    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload-too-large")
    assert count_rows(engine, "campaigns") == 0


async def test_malformed_json_is_rejected(
    http: httpx.AsyncClient, engine: Engine, member: Tenant
) -> None:
    headers = await login(http, member) | {"Content-Type": "application/json"}

    response = await http.post("/campaigns", headers=headers, content=b'{"brand_id": ')

    problem = assert_problem(response, 422, "validation-failed")
    assert problem["errors"]
    assert count_rows(engine, "campaigns") == 0


async def test_a_campaign_id_that_is_not_a_uuid_is_rejected(
    http: httpx.AsyncClient, member: Tenant
) -> None:
    headers = await login(http, member)

    fetched = await http.get("/campaigns/not-a-uuid", headers=headers)
    cancelled = await http.post(
        "/campaigns/not-a-uuid/cancel", headers=headers, json={"reason": "x"}
    )

    assert fields(assert_problem(fetched, 422, "validation-failed")) == ["path.campaign_id"]
    assert fields(assert_problem(cancelled, 422, "validation-failed")) == ["path.campaign_id"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 1000}, "query.limit"),
        ({"limit": "many"}, "query.limit"),
        ({"offset": -1}, "query.offset"),
    ],
    ids=["limit-zero", "limit-huge", "limit-text", "offset-negative"],
)
async def test_out_of_range_paging_is_rejected(
    http: httpx.AsyncClient, member: Tenant, params: dict[str, Any], field: str
) -> None:
    response = await http.get("/campaigns", headers=await login(http, member), params=params)

    assert fields(assert_problem(response, 422, "validation-failed")) == [field]


async def test_reusing_an_idempotency_key_for_another_request_is_a_conflict(
    http: httpx.AsyncClient, engine: Engine, member: Tenant
) -> None:
    headers = await login(http, member) | {"Idempotency-Key": "order-9"}
    first = await create(http, headers, campaign_body(member.brand_id))

    other = await http.post(
        "/campaigns", headers=headers, json=campaign_body(member.brand_id, title="Another one")
    )

    problem = assert_problem(other, 409, "conflict")
    assert "Idempotency-Key" in problem["detail"]
    assert rows(engine) == {"campaigns": 1, "briefs": 1, "deliverables": 1}
    fetched = await http.get(f"/campaigns/{first['id']}", headers=headers)
    assert fetched.json()["title"] == first["title"]


async def test_every_change_of_the_live_state_shows_on_the_very_next_read(
    http: httpx.AsyncClient, engine: Engine, client: Client, member: Tenant
) -> None:
    headers = await login(http, member)
    body = campaign_body(member.brand_id)
    body["brief"]["application_deadline"] = iso(in_days(7))
    campaign = await create(http, headers, body)
    cid, slot = campaign["id"], campaign["deliverables"][0]["id"]
    creator = make_creator(engine)
    creator_headers = await login(http, creator.tenant)

    async def live() -> dict[str, Any]:
        response = await http.get(f"/campaigns/{cid}", headers=headers)
        assert response.status_code == 200, response.text
        state: dict[str, Any] = response.json()["live"]
        return state

    assert (await live())["open_slots"] == {slot: 2}
    await fund(http, engine, headers, cid)
    assert (await http.post(f"/campaigns/{cid}/publish", headers=headers)).status_code == 200
    assert (await live())["stage"] == "published"

    applied = await http.post(
        f"/marketplace/campaigns/{cid}/applications",
        json={"deliverable_id": slot, "pitch": "Morning routines", "price_minor": 90_000},
        headers=creator_headers,
    )
    assert applied.status_code == 201, applied.text
    assert (await live())["stage"] == "recruiting"

    accepted = await http.post(
        f"/campaigns/{cid}/applications/{applied.json()['id']}/decision",
        json={"action": "accept"},
        headers=headers,
    )
    assert accepted.status_code == 200, accepted.text
    after_accept = await live()
    assert (after_accept["committed_minor"], after_accept["open_deliveries"]) == (90_000, 1)
    assert after_accept["open_slots"] == {slot: 1}

    # A delivery reports its approval by signal: the workflow writes what is now owed.
    handle = client.get_workflow_handle(after_accept["workflow_id"])
    delivery_id = uuid.UUID(accepted.json()["delivery_id"])
    await handle.signal(
        CampaignWorkflow.delivery_outcome,
        DeliveryOutcome(delivery_id=delivery_id, outcome="approved"),
    )
    deadline = asyncio.get_running_loop().time() + 5
    while (await live())["owed_minor"] != 90_000:
        assert asyncio.get_running_loop().time() < deadline, "the approval is not owed"
        await asyncio.sleep(0.05)

    cancelled = await http.post(
        f"/campaigns/{cid}/cancel", json={"reason": "Budget moved"}, headers=headers
    )
    assert cancelled.status_code == 200, cancelled.text
    after_cancel = await live()
    assert (after_cancel["stage"], after_cancel["cancel_reason"]) == ("cancelled", "Budget moved")
    # The approved delivery stays owed and open for its final files.
    assert (after_cancel["owed_minor"], after_cancel["open_deliveries"]) == (90_000, 1)


async def test_a_campaign_reads_with_its_live_state_while_the_workflow_engine_is_unreachable(
    http: httpx.AsyncClient, engine: Engine, settings: Settings, member: Tenant
) -> None:
    headers = await login(http, member)
    campaign = await create(http, headers, campaign_body(member.brand_id))
    unreachable = settings.model_copy(
        update={"temporal": settings.temporal.model_copy(update={"address": "127.0.0.1:9"})}
    )
    app = create_app(unreachable, engine=engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as offline:
        response = await offline.get(f"/campaigns/{campaign['id']}", headers=headers)
    await close_app(app)

    assert response.status_code == 200, response.text
    assert response.json()["live"] == campaign["live"]
    assert response.json()["live"]["open_slots"] == {campaign["deliverables"][0]["id"]: 2}


# --- editing a draft, closing applications, stages that follow the work ----------------------


async def test_a_draft_is_edited_through_the_api_and_reads_back_as_edited(
    http: httpx.AsyncClient, engine: Engine, member: Tenant
) -> None:
    headers = await login(http, member)
    campaign = await create(http, headers, campaign_body(member.brand_id))
    cid = campaign["id"]
    # Read once first: the answer kept from this read must not outlive the edit.
    before = await http.get(f"/campaigns/{cid}", headers=headers)
    assert before.json()["title"] == campaign["title"]
    brief = campaign_body(member.brand_id)["brief"] | {
        "product": "Glow serum 50 ml",
        "application_deadline": iso(in_days(5)),
    }

    edited = await http.patch(
        f"/campaigns/{cid}",
        headers=headers,
        json={
            "title": "Summer glow launch",
            "brief": brief,
            "deliverables": [{"format": "photo", "quantity": 3, "price_minor": 50_000}],
        },
    )

    assert edited.status_code == 200, edited.text
    body = edited.json()
    [photo] = body["deliverables"]
    assert (photo["format"], photo["quantity"]) == ("photo", 3)
    assert (body["title"], body["brief"]["product"]) == ("Summer glow launch", "Glow serum 50 ml")
    assert body["live"]["open_slots"] == {photo["id"]: 3}
    # Only what a request names changes: the budget alone leaves the rest as it is.
    budget_only = await http.patch(
        f"/campaigns/{cid}", headers=headers, json={"budget": {"amount_minor": 600_000,
                                                               "currency": "USD"}}
    )  # fmt: skip
    assert budget_only.status_code == 200, budget_only.text
    read = (await http.get(f"/campaigns/{cid}", headers=headers)).json()
    assert read["budget"] == {"amount_minor": 600_000, "currency": "USD"}
    assert (read["title"], read["deliverables"]) == ("Summer glow launch", [photo])
    assert read["brief"]["product"] == "Glow serum 50 ml"
    assert rows(engine) == {"campaigns": 1, "briefs": 1, "deliverables": 1}


async def test_an_edit_that_breaks_a_rule_names_the_field_and_changes_nothing(
    http: httpx.AsyncClient, engine: Engine, member: Tenant
) -> None:
    headers = await login(http, member)
    campaign = await create(http, headers, campaign_body(member.brand_id))
    cid = campaign["id"]

    over = await http.patch(
        f"/campaigns/{cid}",
        headers=headers,
        json={"deliverables": [{"format": "photo", "quantity": 6, "price_minor": 100_000}]},
    )
    problem = assert_problem(over, 422, "validation-failed")
    assert problem["errors"] == [
        {
            "field": "body.deliverables",
            "reason": "the deliverables cost $6,000.00, $1,000.00 over the budget of $5,000.00",
        }
    ]
    past = campaign_body(member.brand_id)["brief"] | {"application_deadline": iso(in_days(-1))}
    late = await http.patch(f"/campaigns/{cid}", headers=headers, json={"brief": past})
    assert fields(assert_problem(late, 422, "validation-failed")) == [
        "body.brief.application_deadline"
    ]
    unknown = await http.patch(f"/campaigns/{cid}", headers=headers, json={"brand_id": cid})
    assert fields(assert_problem(unknown, 422, "validation-failed")) == ["body.brand_id"]

    await fund(http, engine, headers, cid)
    for change, field, reason in [
        ({"amount_minor": 400_000, "currency": "USD"}, "body.budget.amount_minor",
         "$5,000.00 is paid in or on its way; the budget cannot be lower"),
        ({"amount_minor": 500_000, "currency": "EUR"}, "body.budget.currency",
         "the budget is funded in USD; its currency cannot change"),
    ]:  # fmt: skip
        refused = await http.patch(f"/campaigns/{cid}", headers=headers, json={"budget": change})
        assert assert_problem(refused, 422, "validation-failed")["errors"] == [
            {"field": field, "reason": reason}
        ]
    after = (await http.get(f"/campaigns/{cid}", headers=headers)).json()
    assert (after["title"], after["budget"], after["deliverables"]) == (
        campaign["title"],
        campaign["budget"],
        campaign["deliverables"],
    )


async def test_a_published_campaign_is_not_edited(
    http: httpx.AsyncClient, engine: Engine, member: Tenant
) -> None:
    headers = await login(http, member)
    body = campaign_body(member.brand_id)
    body["brief"]["application_deadline"] = iso(in_days(7))
    cid = (await create(http, headers, body))["id"]
    await fund(http, engine, headers, cid)
    assert (await http.post(f"/campaigns/{cid}/publish", headers=headers)).status_code == 200

    refused = await http.patch(f"/campaigns/{cid}", headers=headers, json={"title": "Later"})

    assert (
        "only a draft can be edited; this campaign is published"
        in (assert_problem(refused, 409, "conflict")["detail"])
    )
    assert (await http.get(f"/campaigns/{cid}", headers=headers)).json()["title"] == body["title"]


async def published(
    http: httpx.AsyncClient, engine: Engine, member: Tenant, quantity: int
) -> tuple[dict[str, str], str, str]:
    """A funded campaign taking applications: (brand headers, campaign id, deliverable id)."""
    headers = await login(http, member)
    body = campaign_body(member.brand_id)
    body["brief"]["application_deadline"] = iso(in_days(7))
    body["deliverables"][0]["quantity"] = quantity
    campaign = await create(http, headers, body)
    await fund(http, engine, headers, campaign["id"])
    assert (await http.post(f"/campaigns/{campaign['id']}/publish", headers=headers)).is_success
    return headers, campaign["id"], campaign["deliverables"][0]["id"]


async def applied(
    http: httpx.AsyncClient, engine: Engine, cid: str, slot: str
) -> tuple[dict[str, str], dict[str, Any]]:
    creator = await login(http, make_creator(engine).tenant)
    response = await http.post(
        f"/marketplace/campaigns/{cid}/applications",
        json={"deliverable_id": slot, "pitch": "Morning routines", "price_minor": 90_000},
        headers=creator,
    )
    assert response.status_code == 201, response.text
    application: dict[str, Any] = response.json()
    return creator, application


async def test_taking_the_last_slot_starts_production_on_the_next_read_and_leaves_the_marketplace(
    http: httpx.AsyncClient, engine: Engine, member: Tenant
) -> None:
    headers, cid, slot = await published(http, engine, member, quantity=1)
    _, application = await applied(http, engine, cid, slot)
    looking, _ = await applied(http, engine, cid, slot)
    listed = await http.get(
        "/marketplace/campaigns", headers=await login(http, make_creator(engine).tenant)
    )
    assert cid in [c["id"] for c in listed.json()]

    accepted = await http.post(
        f"/campaigns/{cid}/applications/{application['id']}/decision",
        json={"action": "accept"},
        headers=headers,
    )

    assert accepted.status_code == 200, accepted.text
    campaign = (await http.get(f"/campaigns/{cid}", headers=headers)).json()
    assert (campaign["stage"], campaign["live"]["stage"]) == ("in_production", "in_production")
    assert campaign["live"]["open_slots"] == {slot: 0}
    newcomer = await login(http, make_creator(engine).tenant)
    assert cid not in [
        c["id"] for c in (await http.get("/marketplace/campaigns", headers=newcomer)).json()
    ]
    # The creator still waiting hears the places are filled.
    mine = (await http.get("/creator/applications", headers=looking)).json()
    assert [a["status"] for a in mine] == ["expired"]
    inbox = (await http.get("/notifications", headers=looking)).json()
    assert any(n["kind"] == "application_slots_filled" for n in _items(inbox))


def _items(page: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page["items"] if isinstance(page, dict) else page
    return found


async def test_closing_applications_early_starts_production_with_whoever_was_accepted(
    http: httpx.AsyncClient, engine: Engine, member: Tenant
) -> None:
    headers, cid, slot = await published(http, engine, member, quantity=2)
    _, chosen = await applied(http, engine, cid, slot)
    _, pending = await applied(http, engine, cid, slot)
    accept = {"action": "accept"}
    decided = f"/campaigns/{cid}/applications/{chosen['id']}/decision"
    assert (await http.post(decided, json=accept, headers=headers)).status_code == 200

    closed = await http.post(f"/campaigns/{cid}/close-applications", headers=headers)

    assert closed.status_code == 200, closed.text
    assert closed.json()["live"]["stage"] == "in_production"
    assert closed.json()["live"]["open_slots"] == {slot: 0}
    apps = (await http.get(f"/campaigns/{cid}/applications", headers=headers)).json()
    assert {a["id"]: a["status"] for a in apps} == {
        chosen["id"]: "accepted",
        pending["id"]: "expired",
    }
    again = await http.post(f"/campaigns/{cid}/close-applications", headers=headers)
    assert "this one is in production" in assert_problem(again, 409, "conflict")["detail"]
    late = await http.post(
        f"/marketplace/campaigns/{cid}/applications",
        json={"deliverable_id": slot, "pitch": "Me too", "price_minor": 90_000},
        headers=await login(http, make_creator(engine).tenant),
    )
    assert late.status_code == 409, late.text


async def test_closing_a_draft_is_refused_and_an_unknown_campaign_is_not_found(
    http: httpx.AsyncClient, member: Tenant
) -> None:
    headers = await login(http, member)
    cid = (await create(http, headers, campaign_body(member.brand_id)))["id"]
    draft = await http.post(f"/campaigns/{cid}/close-applications", headers=headers)
    assert "this one is draft" in assert_problem(draft, 409, "conflict")["detail"]
    for response in (
        await http.post(f"/campaigns/{uuid.uuid4()}/close-applications", headers=headers),
        await http.patch(f"/campaigns/{uuid.uuid4()}", headers=headers, json={"title": "x"}),
    ):
        assert_problem(response, 404, "not-found")
