"""Bad requests over HTTP on the real dev server: each answers a clear 4xx problem+json with
the reason, changes nothing, and leaves the process able to take the next valid step."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from activities.campaigns import CampaignActivities
from activities.deliveries import DeliveryActivities
from domain.enums import ApplicationStatus
from nexus.settings import Settings
from tests.e2e.support import Headers, draft_body, ok, until, upload
from tests.gateway import Gateway, api_client
from tests.media import sponsored_clip
from tests.support import (
    CreatorAccount,
    Tenant,
    campaign_body,
    count_rows,
    fund,
    login,
    make_creator,
    make_tenant,
    replacing,
)
from workers.cpu.main import WORKFLOWS, cpu_activities
from workers.gpu.main import build_worker as build_gpu_worker
from workflows.contracts.campaign import ApplicationChange
from workflows.contracts.delivery import DeliveryRecord
from workflows.task_queues import cpu_queue

T = TypeVar("T")


# --- helpers ------------------------------------------------------------------------------


def problem(response: httpx.Response, status: int, *reason: str) -> dict[str, Any]:
    """A problem+json answer with `status` whose detail mentions each of `reason`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    for part in reason:
        assert part in body["detail"], body
    return body


def fields(response: httpx.Response) -> set[str]:
    body = problem(response, 422)
    return {e["field"] for e in body["errors"]}


async def published_campaign(
    http: httpx.AsyncClient,
    engine: Engine,
    brand: Tenant,
    headers: Headers,
    *,
    brief: dict[str, Any] | None = None,
    visibility: str = "open",
    quantity: int = 2,
    price_minor: int = 100_000,
    budget_minor: int = 500_000,
    application_window_s: float = 600,
    delivery_window_s: float = 14 * 24 * 3600,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = campaign_body(brand.brand_id, visibility=visibility)
    body["budget"]["amount_minor"] = budget_minor
    body["deliverables"][0] |= {"quantity": quantity, "price_minor": price_minor}
    body["brief"] |= {
        "application_deadline": (now + timedelta(seconds=application_window_s)).isoformat(),
        "delivery_deadline": (now + timedelta(seconds=delivery_window_s)).isoformat(),
        **(brief or {}),
    }
    campaign = ok(await http.post("/campaigns", json=body, headers=headers), 201)
    await fund(http, engine, headers, campaign["id"])
    published = ok(await http.post(f"/campaigns/{campaign['id']}/publish", headers=headers))
    assert published["stage"] == "published"
    return dict(published)


def application_body(campaign: dict[str, Any], price_minor: int = 100_000) -> dict[str, Any]:
    return {
        "deliverable_id": campaign["deliverables"][0]["id"],
        "pitch": "Morning routines are my thing",
        "price_minor": price_minor,
    }


async def apply(
    http: httpx.AsyncClient, headers: Headers, campaign: dict[str, Any], price_minor: int
) -> dict[str, Any]:
    response = await http.post(
        f"/marketplace/campaigns/{campaign['id']}/applications",
        json=application_body(campaign, price_minor),
        headers=headers,
    )
    return dict(ok(response, 201))


async def decide(
    http: httpx.AsyncClient, headers: Headers, campaign_id: str, app_id: str, **body: Any
) -> httpx.Response:
    return await http.post(
        f"/campaigns/{campaign_id}/applications/{app_id}/decision", json=body, headers=headers
    )


async def live_campaign(http: httpx.AsyncClient, headers: Headers, cid: str) -> dict[str, Any]:
    """The campaign with its workflow's live answer (the workflow is not stuck)."""
    body: dict[str, Any] = ok(await http.get(f"/campaigns/{cid}", headers=headers))
    assert body["live"] is not None, "the campaign workflow does not answer its query"
    return body


async def delivery_in(
    http: httpx.AsyncClient, headers: Headers, delivery_id: str, *stages: str, **fields: Any
) -> dict[str, Any]:
    """The delivery once the read model shows one of `stages` (and the given field values)."""

    async def check() -> dict[str, Any]:
        response = await http.get(f"/deliveries/{delivery_id}", headers=headers)
        if response.status_code != 200:
            return {}
        body: dict[str, Any] = response.json()
        matches = body["stage"] in stages and all(body[k] == v for k, v in fields.items())
        return body if matches else {}

    return await until(check)


async def live_delivery(http: httpx.AsyncClient, headers: Headers, delivery_id: str) -> Any:
    body = ok(await http.get(f"/deliveries/{delivery_id}", headers=headers))
    assert body["live"] is not None, "the delivery workflow does not answer its query"
    assert body["live"]["stage"] == body["stage"]
    return body


class Setup:
    """A brand with a published open campaign and one creator whose delivery is accepted."""

    def __init__(
        self,
        brand: Tenant,
        b: Headers,
        creator: CreatorAccount,
        c: Headers,
        campaign: dict[str, Any],
        delivery_id: str,
    ) -> None:
        self.brand, self.b, self.creator, self.c = brand, b, creator, c
        self.campaign, self.delivery_id = campaign, delivery_id


async def accepted_delivery(http: httpx.AsyncClient, engine: Engine, **campaign: Any) -> Setup:
    brand = make_tenant(engine)
    creator = make_creator(engine)
    b, c = await login(http, brand), await login(http, creator.tenant)
    published = await published_campaign(http, engine, brand, b, **campaign)
    app = await apply(http, c, published, published["deliverables"][0]["price_minor"])
    delivery_id = ok(await decide(http, b, published["id"], app["id"], action="accept"))[
        "delivery_id"
    ]
    await delivery_in(http, c, delivery_id, "awaiting_brief_acceptance")
    return Setup(brand, b, creator, c, published, delivery_id)


async def in_review(http: httpx.AsyncClient, engine: Engine, revision_rounds: int) -> Setup:
    s = await accepted_delivery(http, engine, brief={"revision_rounds": revision_rounds})
    ok(await http.post(f"/deliveries/{s.delivery_id}/brief-acceptance", headers=s.c))
    ok(
        await http.post(
            f"/deliveries/{s.delivery_id}/drafts",
            json=await draft_body(http, s.c),
            headers=s.c,
        )
    )
    await delivery_in(http, s.c, s.delivery_id, "in_review")
    return s


# --- recruiting -----------------------------------------------------------------------------


async def test_applying_twice_is_409_and_keeps_one_application(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand, creator = make_tenant(engine), make_creator(engine)
    b, c = await login(http, brand), await login(http, creator.tenant)
    campaign = await published_campaign(http, engine, brand, b)
    first = await apply(http, c, campaign, 90_000)
    again = await http.post(
        f"/marketplace/campaigns/{campaign['id']}/applications",
        json=application_body(campaign, 70_000),
        headers=c,
    )
    problem(again, 409, "You have already applied for this deliverable")
    apps = ok(await http.get(f"/campaigns/{campaign['id']}/applications", headers=b))
    assert [(a["id"], a["price_minor"]) for a in apps] == [(first["id"], 90_000)]
    assert count_rows(engine, "applications") == 1
    assert (await live_campaign(http, b, campaign["id"]))["live"]["stage"] == "recruiting"
    accepted = ok(await decide(http, b, campaign["id"], first["id"], action="accept"))
    assert accepted["status"] == "accepted"


async def test_accepting_over_budget_is_409_and_commits_nothing(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    alice, bob = make_creator(engine), make_creator(engine)
    b = await login(http, brand)
    a, o = await login(http, alice.tenant), await login(http, bob.tenant)
    # Two slots of 50 000 fit the budget of 100 000, but not two creators asking 90 000.
    campaign = await published_campaign(
        http, engine, brand, b, quantity=2, price_minor=50_000, budget_minor=100_000
    )
    cid, deliverable_id = campaign["id"], campaign["deliverables"][0]["id"]
    app_a = await apply(http, a, campaign, 90_000)
    app_b = await apply(http, o, campaign, 90_000)
    first = ok(await decide(http, b, cid, app_a["id"], action="accept"))
    await delivery_in(http, a, first["delivery_id"], "awaiting_brief_acceptance")

    over = await decide(http, b, cid, app_b["id"], action="accept")
    problem(over, 409, "budget", "$900.00", "$100.00")
    assert count_rows(engine, "deliveries") == 1
    statuses = {
        x["id"]: x["status"]
        for x in ok(await http.get(f"/campaigns/{cid}/applications", headers=b))
    }
    assert statuses == {app_a["id"]: "accepted", app_b["id"]: "pending"}
    live = (await live_campaign(http, b, cid))["live"]
    assert (live["committed_minor"], live["open_slots"]) == (90_000, {deliverable_id: 1})

    # Countering within the remaining budget still works, and so does accepting it.
    over_counter = await decide(
        http, b, cid, app_b["id"], action="counter", counter_price_minor=10_001
    )
    problem(over_counter, 409, "budget")
    ok(await decide(http, b, cid, app_b["id"], action="counter", counter_price_minor=10_000))
    accepted = ok(
        await http.post(
            f"/creator/applications/{app_b['id']}/response", json={"accept": True}, headers=o
        )
    )
    assert accepted["status"] == "accepted"
    live = (await live_campaign(http, b, cid))["live"]
    assert (live["committed_minor"], live["open_slots"]) == (100_000, {deliverable_id: 0})


async def test_accepting_when_every_slot_is_taken_is_409(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    alice, bob = make_creator(engine), make_creator(engine)
    b = await login(http, brand)
    a, o = await login(http, alice.tenant), await login(http, bob.tenant)
    campaign = await published_campaign(http, engine, brand, b, quantity=1)
    cid = campaign["id"]
    app_a = await apply(http, a, campaign, 100_000)
    app_b = await apply(http, o, campaign, 50_000)
    first = ok(await decide(http, b, cid, app_a["id"], action="accept"))
    await delivery_in(http, a, first["delivery_id"], "awaiting_brief_acceptance")

    full = await decide(http, b, cid, app_b["id"], action="accept")
    problem(full, 409, "slot", "taken")
    assert count_rows(engine, "deliveries") == 1
    # The slot filled: the other application closed, and its creator was told.
    mine = ok(await http.get("/creator/applications", headers=o))
    assert [(x["status"], x["delivery_id"]) for x in mine] == [("expired", None)]
    # A third creator cannot apply for the filled slot either.
    carol = make_creator(engine)
    late = await http.post(
        f"/marketplace/campaigns/{cid}/applications",
        json=application_body(campaign),
        headers=await login(http, carol.tenant),
    )
    problem(late, 409, "slot")
    assert count_rows(engine, "applications") == 2

    # Closed already, it cannot be rejected too: its creator heard the places were filled.
    problem(await decide(http, b, cid, app_b["id"], action="reject"), 409, "slot", "closed")
    inbox = ok(await http.get("/notifications", headers=o))
    assert [n["kind"] for n in inbox] == ["application_slots_filled"]


class Gate:
    """Holds one local activity of a process at a gate. The process waits on it, so updates
    sent meanwhile queue up and reach the process together, as they do when two people click
    at the same moment (or a client retries). The real activity, used by every other test,
    runs once the gate opens."""

    def __init__(self) -> None:
        self.armed = False
        self.started = asyncio.Event()
        self.gate = asyncio.Event()

    async def hold(self, matches: bool) -> None:
        if self.armed and matches and not self.started.is_set():
            self.started.set()
            await self.gate.wait()


class HeldActivities:
    """The CPU pool's activities; the application and delivery read-model writes can be held."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.settings, self.engine = settings, engine
        self.campaigns = CampaignActivities(engine)
        self.deliveries = DeliveryActivities(engine)
        self.rejection = Gate()  # the first rejected application's write
        self.record = Gate()  # the first delivery write once armed
        self.rejection.armed = True

    @activity.defn(name="campaigns.record_application")
    async def record_application(self, change: ApplicationChange) -> None:
        await self.rejection.hold(change.application.status == ApplicationStatus.REJECTED)
        await asyncio.to_thread(self.campaigns.record_application, change)

    @activity.defn(name="deliveries.record")
    async def record_delivery(self, record: DeliveryRecord) -> None:
        await self.record.hold(True)
        await asyncio.to_thread(self.deliveries.record, record)

    def all(self) -> list[Callable[..., Any]]:
        real = cpu_activities(self.settings, self.engine)
        return replacing(real, self.record_application, self.record_delivery)


@pytest.fixture
async def held_http(
    settings: Settings, engine: Engine, client: Client, front: Gateway | None
) -> AsyncIterator[tuple[httpx.AsyncClient, HeldActivities]]:
    held = HeldActivities(engine, settings)
    gpu = build_gpu_worker(client, settings, "cpu")
    worker = Worker(
        client,
        task_queue=cpu_queue(settings.temporal.task_queue),
        workflows=WORKFLOWS,
        activities=held.all(),
        activity_executor=ThreadPoolExecutor(8),
    )
    async with worker, gpu, api_client(settings, engine, client, front) as http:
        yield http, held
        held.rejection.gate.set()
        held.record.gate.set()


async def test_simultaneous_accepts_cannot_overfill_the_last_slot(
    held_http: tuple[httpx.AsyncClient, HeldActivities], engine: Engine
) -> None:
    """Two accepts validated in one workflow task: the second must see the slot and budget
    the first holds (CampaignWorkflow._accept holds them before it awaits anything)."""
    http, activities = held_http
    held = activities.rejection
    brand = make_tenant(engine)
    alice, bob, carol = make_creator(engine), make_creator(engine), make_creator(engine)
    b = await login(http, brand)
    # One slot, and a budget that pays for one creator only.
    campaign = await published_campaign(
        http, engine, brand, b, quantity=1, price_minor=100_000, budget_minor=100_000
    )
    cid = campaign["id"]
    app_a = await apply(http, await login(http, alice.tenant), campaign, 100_000)
    app_b = await apply(http, await login(http, bob.tenant), campaign, 100_000)
    app_c = await apply(http, await login(http, carol.tenant), campaign, 100_000)

    rejection = asyncio.create_task(decide(http, b, cid, app_c["id"], action="reject"))
    await asyncio.wait_for(held.started.wait(), 15)
    accepts = [
        asyncio.create_task(decide(http, b, cid, app["id"], action="accept"))
        for app in (app_a, app_b)
    ]
    await asyncio.sleep(1)  # both accepts reach the server and wait for the process
    held.gate.set()
    assert ok(await rejection)["status"] == "rejected"
    answers = await asyncio.gather(*accepts)
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    refused = next(r for r in answers if r.status_code == 409)
    problem(refused, 409, "slot")
    live = (await live_campaign(http, b, cid))["live"]
    assert (live["committed_minor"], live["open_slots"]) == (
        100_000,
        {campaign["deliverables"][0]["id"]: 0},
    )
    apps = ok(await http.get(f"/campaigns/{cid}/applications", headers=b))
    # The last slot taken closes the application still waiting.
    assert sorted(a["status"] for a in apps) == ["accepted", "expired", "rejected"]


async def test_two_finals_at_once_deliver_once(
    held_http: tuple[httpx.AsyncClient, HeldActivities], engine: Engine
) -> None:
    http, activities = held_http
    s = await accepted_delivery(http, engine)
    ok(await http.post(f"/deliveries/{s.delivery_id}/brief-acceptance", headers=s.c))
    ok(
        await http.post(
            f"/deliveries/{s.delivery_id}/drafts",
            json=await draft_body(http, s.c),
            headers=s.c,
        )
    )
    await delivery_in(http, s.c, s.delivery_id, "in_review")
    approve = {"decision": "approve"}
    ok(await http.post(f"/deliveries/{s.delivery_id}/review", json=approve, headers=s.b))

    keys = [await upload(http, s.c, sponsored_clip()) for _ in range(2)]
    # The brand moves the deadline while the creator double-clicks "deliver".
    held = activities.record
    held.armed = True
    due = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    extension = asyncio.create_task(
        http.post(f"/deliveries/{s.delivery_id}/deadline", json={"due_at": due}, headers=s.b)
    )
    await asyncio.wait_for(held.started.wait(), 15)
    finals = [
        asyncio.create_task(
            http.post(f"/deliveries/{s.delivery_id}/final", json={"media_key": key}, headers=s.c)
        )
        for key in keys
    ]
    await asyncio.sleep(1)  # both finals reach the server and wait for the process
    held.gate.set()
    # The Update's own answer; the stored row may already show a final that came after.
    assert ok(await extension)["live"]["stage"] == "awaiting_final"
    answers = await asyncio.gather(*finals)

    # The final files are checked first; the second click finds them being checked.
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    problem(
        next(r for r in answers if r.status_code == 409), 409, "while the delivery is being checked"
    )

    async def completed() -> dict[str, Any]:
        body: dict[str, Any] = ok(await http.get(f"/deliveries/{s.delivery_id}", headers=s.c))
        return body if body["stage"] == "completed" else {}

    done = await until(completed, timeout_s=60)
    assert [x["kind"] for x in done["submissions"]] == ["draft", "final"]

    async def brand_inbox() -> list[str]:
        kinds = [n["kind"] for n in ok(await http.get("/notifications", headers=s.b))]
        # The notice follows the completion the read model already shows.
        return kinds if "delivered" in kinds else []

    assert (await until(brand_inbox, timeout_s=30)).count("delivered") == 1


async def test_decision_on_an_unknown_application_is_409(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand, creator = make_tenant(engine), make_creator(engine)
    b, c = await login(http, brand), await login(http, creator.tenant)
    campaign = await published_campaign(http, engine, brand, b)
    app = await apply(http, c, campaign, 90_000)
    unknown = await decide(http, b, campaign["id"], str(uuid.uuid4()), action="accept")
    problem(unknown, 409, "no such application")
    assert count_rows(engine, "applications") == 1
    assert count_rows(engine, "deliveries") == 0
    # An application of another campaign of the same brand is unknown to this one too.
    other = await published_campaign(http, engine, brand, b)
    problem(await decide(http, b, other["id"], app["id"], action="accept"), 409, "no such")
    await live_campaign(http, b, campaign["id"])
    assert ok(await decide(http, b, campaign["id"], app["id"], action="accept"))["status"] == (
        "accepted"
    )


async def test_responding_to_someone_elses_invitation_is_404(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    alice, mallory = make_creator(engine), make_creator(engine)
    b = await login(http, brand)
    a, m = await login(http, alice.tenant), await login(http, mallory.tenant)
    campaign = await published_campaign(http, engine, brand, b, visibility="invite_only")
    invitation = ok(
        await http.post(
            f"/campaigns/{campaign['id']}/invitations",
            json={
                "creator_id": str(alice.creator_id),
                "deliverable_id": campaign["deliverables"][0]["id"],
                "price_minor": 100_000,
            },
            headers=b,
        ),
        201,
    )
    for accept in (True, False):
        stolen = await http.post(
            f"/creator/applications/{invitation['id']}/response",
            json={"accept": accept},
            headers=m,
        )
        problem(stolen, 404, "no such application")
    unknown = await http.post(
        f"/creator/applications/{uuid.uuid4()}/response", json={"accept": True}, headers=a
    )
    problem(unknown, 404)
    assert ok(await http.get("/creator/applications", headers=m)) == []
    assert [x["status"] for x in ok(await http.get("/creator/applications", headers=a))] == [
        "pending"
    ]
    assert count_rows(engine, "deliveries") == 0
    accepted = ok(
        await http.post(
            f"/creator/applications/{invitation['id']}/response", json={"accept": True}, headers=a
        )
    )
    assert accepted["status"] == "accepted"
    # An application (not an invitation) is the brand's to decide, not the creator's.
    assert (
        await http.post(
            f"/creator/applications/{invitation['id']}/response", json={"accept": True}, headers=a
        )
    ).status_code == 409


async def test_applying_after_recruiting_closed_is_409(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    alice, bob = make_creator(engine), make_creator(engine)
    b = await login(http, brand)
    a, o = await login(http, alice.tenant), await login(http, bob.tenant)
    # Open long enough to fund, publish, apply and accept on a loaded machine (3 s was not).
    campaign = await published_campaign(http, engine, brand, b, application_window_s=15)
    cid = campaign["id"]
    app = await apply(http, a, campaign, 100_000)
    ok(await decide(http, b, cid, app["id"], action="accept"))

    async def in_production() -> bool:
        return bool((await live_campaign(http, b, cid))["stage"] == "in_production")

    await until(in_production)
    assert cid not in {c["id"] for c in ok(await http.get("/marketplace/campaigns", headers=o))}
    closed = await http.post(
        f"/marketplace/campaigns/{cid}/applications", json=application_body(campaign), headers=o
    )
    problem(closed, 409, "not taking applications")
    assert count_rows(engine, "applications") == 1
    live = (await live_campaign(http, b, cid))["live"]
    assert live["stage"] == "in_production"
    # The unfilled second slot lapsed with recruiting.
    assert live["open_slots"] == {campaign["deliverables"][0]["id"]: 0}


# --- publishing -----------------------------------------------------------------------------


async def test_publishing_without_an_application_deadline_is_409(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    b = await login(http, brand)
    campaign = ok(await http.post("/campaigns", json=campaign_body(brand.brand_id), headers=b), 201)
    cid = campaign["id"]
    refused = await http.post(f"/campaigns/{cid}/publish", headers=b)
    problem(refused, 409, "application deadline")
    body = await live_campaign(http, b, cid)
    assert (body["stage"], body["live"]["stage"]) == ("draft", "draft")
    cancelled = ok(await http.post(f"/campaigns/{cid}/cancel", json={"reason": "x"}, headers=b))
    assert cancelled["stage"] == "cancelled"


async def test_publishing_before_the_money_arrived_is_409(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    b = await login(http, brand)
    body = campaign_body(brand.brand_id)
    body["brief"]["application_deadline"] = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    cid = ok(await http.post("/campaigns", json=body, headers=b), 201)["id"]
    problem(await http.post(f"/campaigns/{cid}/publish", headers=b), 409, "campaign is not funded")
    # A bank transfer on its way is not money in escrow yet.
    ok(
        await http.post(f"/campaigns/{cid}/fundings", json={"method": "bank_transfer"}, headers=b),
        201,
    )
    problem(await http.post(f"/campaigns/{cid}/publish", headers=b), 409, "campaign is not funded")
    assert (await live_campaign(http, b, cid))["stage"] == "draft"


async def test_publishing_twice_is_409(http: httpx.AsyncClient, engine: Engine) -> None:
    brand, creator = make_tenant(engine), make_creator(engine)
    b, c = await login(http, brand), await login(http, creator.tenant)
    campaign = await published_campaign(http, engine, brand, b)
    again = await http.post(f"/campaigns/{campaign['id']}/publish", headers=b)
    problem(again, 409, "only a draft can be published", "published")
    body = await live_campaign(http, b, campaign["id"])
    assert (body["stage"], body["live"]["stage"]) == ("published", "published")
    assert (await apply(http, c, campaign, 90_000))["status"] == "pending"


# --- deliveries -----------------------------------------------------------------------------


async def test_approving_a_draft_not_in_review_is_409(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    s = await accepted_delivery(http, engine)
    refused = await http.post(
        f"/deliveries/{s.delivery_id}/review", json={"decision": "approve"}, headers=s.b
    )
    problem(refused, 409, "no draft in review", "waiting for the creator to accept the brief")
    body = await live_delivery(http, s.b, s.delivery_id)
    assert (body["stage"], body["approved_at"], body["submissions"]) == (
        "awaiting_brief_acceptance",
        None,
        [],
    )
    step = ok(await http.post(f"/deliveries/{s.delivery_id}/brief-acceptance", headers=s.c))
    assert step["stage"] == "awaiting_draft"
    refused = await http.post(
        f"/deliveries/{s.delivery_id}/review", json={"decision": "approve"}, headers=s.b
    )
    problem(refused, 409, "no draft in review", "waiting for a draft")
    assert (await live_delivery(http, s.c, s.delivery_id))["stage"] == "awaiting_draft"


async def test_other_workspaces_and_creators_get_404_for_a_delivery(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    s = await in_review(http, engine, revision_rounds=1)
    other_brand = await login(http, make_tenant(engine))
    other_creator = await login(http, make_creator(engine).tenant)
    path = f"/deliveries/{s.delivery_id}"
    problem(await http.get(path, headers=other_brand), 404, "no such delivery")
    problem(
        await http.post(f"{path}/review", json={"decision": "approve"}, headers=other_brand), 404
    )
    problem(
        await http.post(
            f"{path}/review", json={"decision": "revise", "notes": "no"}, headers=other_brand
        ),
        404,
    )
    assert ok(await http.get("/deliveries", headers=other_brand)) == []
    problem(await http.get(path, headers=other_creator), 404, "no such delivery")
    problem(
        await http.post(
            f"{path}/drafts", json={"media_key": "up/x.mp4", "caption": "x"}, headers=other_creator
        ),
        404,
    )
    assert ok(await http.get("/deliveries", headers=other_creator)) == []
    body = await live_delivery(http, s.b, s.delivery_id)
    assert (body["stage"], body["revisions_used"], len(body["submissions"])) == (
        "in_review",
        0,
        1,
    )
    assert ok(await http.post(f"{path}/review", json={"decision": "approve"}, headers=s.b))[
        "stage"
    ] == ("awaiting_final")


async def test_uploading_after_the_deadline_is_409_until_extended(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    # Long enough to fund, publish, apply and accept on a loaded machine; then it runs late.
    s = await accepted_delivery(http, engine, application_window_s=15, delivery_window_s=20)
    ok(await http.post(f"/deliveries/{s.delivery_id}/brief-acceptance", headers=s.c))
    late = await delivery_in(http, s.c, s.delivery_id, "awaiting_draft", late=True)
    assert late["live"]["late"] is True

    refused = await http.post(
        f"/deliveries/{s.delivery_id}/drafts",
        json=await draft_body(http, s.c),
        headers=s.c,
    )
    problem(refused, 409, "deadline")
    body = await live_delivery(http, s.c, s.delivery_id)
    assert (body["stage"], body["late"], body["submissions"]) == ("awaiting_draft", True, [])
    assert count_rows(engine, "submissions") == 0

    async def told_late() -> list[str]:
        inbox = ok(await http.get("/notifications", headers=s.c))
        return [n["kind"] for n in inbox if n["kind"] == "late"]

    assert await until(told_late) == ["late"]

    new_due = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    extended = ok(
        await http.post(
            f"/deliveries/{s.delivery_id}/deadline", json={"due_at": new_due}, headers=s.b
        )
    )
    assert extended["late"] is False
    accepted = ok(
        await http.post(
            f"/deliveries/{s.delivery_id}/drafts",
            json=await draft_body(http, s.c),
            headers=s.c,
        )
    )
    assert accepted["stage"] == "checking"
    await delivery_in(http, s.c, s.delivery_id, "in_review")


async def test_revision_beyond_the_cap_is_409(http: httpx.AsyncClient, engine: Engine) -> None:
    s = await in_review(http, engine, revision_rounds=0)
    refused = await http.post(
        f"/deliveries/{s.delivery_id}/review",
        json={"decision": "revise", "notes": "Closer on the texture"},
        headers=s.b,
    )
    problem(refused, 409, "revision rounds are used")
    body = await live_delivery(http, s.b, s.delivery_id)
    assert (body["stage"], body["revisions_used"]) == ("in_review", 0)
    assert body["live"]["revision_cap"] == 0
    assert body["submissions"][0]["review"] is None
    approved = ok(
        await http.post(
            f"/deliveries/{s.delivery_id}/review", json={"decision": "approve"}, headers=s.b
        )
    )
    assert approved["stage"] == "awaiting_final"


async def test_revision_without_notes_is_409(http: httpx.AsyncClient, engine: Engine) -> None:
    s = await in_review(http, engine, revision_rounds=1)
    for notes in ({}, {"notes": ""}, {"notes": "   \n"}):
        refused = await http.post(
            f"/deliveries/{s.delivery_id}/review",
            json={"decision": "revise", **notes},
            headers=s.b,
        )
        problem(refused, 409, "needs notes")
    body = await live_delivery(http, s.b, s.delivery_id)
    assert (body["stage"], body["revisions_used"]) == ("in_review", 0)
    assert "revision_requested" not in [
        n["kind"] for n in ok(await http.get("/notifications", headers=s.c))
    ]
    revising = ok(
        await http.post(
            f"/deliveries/{s.delivery_id}/review",
            json={"decision": "revise", "notes": "Closer on the texture"},
            headers=s.b,
        )
    )
    assert (revising["stage"], revising["revisions_used"]) == ("revising", 1)


# --- request validation -------------------------------------------------------------------


async def test_unknown_fields_and_wrong_types_are_422_with_fields(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    s = await accepted_delivery(http, engine)
    cid, did = s.campaign["id"], s.campaign["deliverables"][0]["id"]
    other = make_creator(engine)
    o = await login(http, other.tenant)
    apps_before = ok(await http.get(f"/campaigns/{cid}/applications", headers=s.b))
    app_id = apps_before[0]["id"]
    good_app = application_body(s.campaign)

    cases: list[tuple[str, dict[str, Any], Headers, set[str]]] = [
        (
            f"/marketplace/campaigns/{cid}/applications",
            good_app | {"discount": 10},
            o,
            {"body.discount"},
        ),
        (
            f"/marketplace/campaigns/{cid}/applications",
            good_app | {"price_minor": "a lot", "deliverable_id": "nope"},
            o,
            {"body.price_minor", "body.deliverable_id"},
        ),
        (
            f"/marketplace/campaigns/{cid}/applications",
            good_app | {"price_minor": 0},
            o,
            {"body.price_minor"},
        ),
        (
            f"/campaigns/{cid}/invitations",
            {"creator_id": str(other.creator_id), "deliverable_id": did, "price_minor": []},
            s.b,
            {"body.price_minor"},
        ),
        (
            f"/campaigns/{cid}/invitations",
            {"creator_id": str(other.creator_id), "deliverable_id": did, "price_minor": 1, "x": 1},
            s.b,
            {"body.x"},
        ),
        (
            f"/campaigns/{cid}/applications/{app_id}/decision",
            {"action": "maybe"},
            s.b,
            {"body.action"},
        ),
        (
            f"/campaigns/{cid}/applications/{app_id}/decision",
            {"action": "counter", "counter_price_minor": -5, "note": "hi"},
            s.b,
            {"body.counter_price_minor", "body.note"},
        ),
        (
            f"/campaigns/{cid}/applications/not-a-uuid/decision",
            {"action": "accept"},
            s.b,
            {"path.application_id"},
        ),
        (
            f"/creator/applications/{app_id}/response",
            {"accept": "perhaps"},
            s.c,
            {"body.accept"},
        ),
        (
            f"/creator/applications/{app_id}/response",
            {"accept": True, "counter": 3},
            s.c,
            {"body.counter"},
        ),
        (
            f"/deliveries/{s.delivery_id}/drafts",
            {"media_key": "", "caption": 5},
            s.c,
            {"body.media_key", "body.caption"},
        ),
        (
            f"/deliveries/{s.delivery_id}/review",
            {"decision": "approve", "stars": 5},
            s.b,
            {"body.stars"},
        ),
        (
            f"/deliveries/{s.delivery_id}/review",
            {"decision": "reject"},
            s.b,
            {"body.decision"},
        ),
        (
            f"/deliveries/{s.delivery_id}/deadline",
            {"due_at": "2030-01-01T00:00:00"},
            s.b,
            {"body.due_at"},
        ),
        (f"/campaigns/{cid}/cancel", {"reason": "", "now": True}, s.b, {"body.reason", "body.now"}),
    ]
    for path, body, headers, expected in cases:
        response = await http.post(path, json=body, headers=headers)
        assert fields(response) == expected, (path, body, response.text)

    assert ok(await http.get(f"/campaigns/{cid}/applications", headers=s.b)) == apps_before
    assert count_rows(engine, "applications") == 1
    assert count_rows(engine, "submissions") == 0
    assert (await live_campaign(http, s.b, cid))["live"]["stage"] == "recruiting"
    body = await live_delivery(http, s.c, s.delivery_id)
    assert body["stage"] == "awaiting_brief_acceptance"
    step = ok(await http.post(f"/deliveries/{s.delivery_id}/brief-acceptance", headers=s.c))
    assert step["stage"] == "awaiting_draft"


async def test_roles_cannot_call_the_other_sides_endpoints(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    s = await accepted_delivery(http, engine)
    cid, did = s.campaign["id"], s.campaign["deliverables"][0]["id"]
    app_id = ok(await http.get(f"/campaigns/{cid}/applications", headers=s.b))[0]["id"]
    brand_calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/marketplace/campaigns", None),
        ("GET", f"/marketplace/campaigns/{cid}", None),
        ("POST", f"/marketplace/campaigns/{cid}/applications", application_body(s.campaign)),
        ("GET", "/creator/applications", None),
        ("POST", f"/creator/applications/{app_id}/response", {"accept": False}),
        ("POST", f"/deliveries/{s.delivery_id}/brief-acceptance", None),
        ("POST", f"/deliveries/{s.delivery_id}/drafts", {"media_key": "up/x.mp4"}),
        ("POST", f"/deliveries/{s.delivery_id}/final", {"media_key": "up/x.mp4"}),
    ]
    for method, path, body in brand_calls:
        response = await http.request(method, path, json=body, headers=s.b)
        problem(response, 403, "only creators")
    creator_calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/creators", None),
        ("POST", "/campaigns", campaign_body(s.brand.brand_id)),
        ("GET", f"/campaigns/{cid}", None),
        ("POST", f"/campaigns/{cid}/publish", None),
        ("POST", f"/campaigns/{cid}/cancel", {"reason": "mine now"}),
        (
            "POST",
            f"/campaigns/{cid}/invitations",
            {"creator_id": str(s.creator.creator_id), "deliverable_id": did, "price_minor": 1},
        ),
        ("POST", f"/campaigns/{cid}/applications/{app_id}/decision", {"action": "reject"}),
        ("POST", f"/deliveries/{s.delivery_id}/review", {"decision": "approve"}),
        ("POST", f"/deliveries/{s.delivery_id}/reassignment", {"reason": "x"}),
    ]
    for method, path, body in creator_calls:
        response = await http.request(method, path, json=body, headers=s.c)
        problem(response, 403, "creator")

    assert count_rows(engine, "campaigns") == 1
    assert count_rows(engine, "applications") == 1
    apps = ok(await http.get(f"/campaigns/{cid}/applications", headers=s.b))
    assert [a["status"] for a in apps] == ["accepted"]
    assert (await live_campaign(http, s.b, cid))["live"]["stage"] == "recruiting"
    body = await live_delivery(http, s.c, s.delivery_id)
    assert (body["stage"], body["submissions"]) == ("awaiting_brief_acceptance", [])
    step = ok(await http.post(f"/deliveries/{s.delivery_id}/brief-acceptance", headers=s.c))
    assert step["stage"] == "awaiting_draft"


async def test_a_draft_must_name_an_upload_that_arrived_in_the_creators_workspace(
    http: httpx.AsyncClient, engine: Engine, front: Gateway | None
) -> None:
    s = await accepted_delivery(http, engine)
    ok(await http.post(f"/deliveries/{s.delivery_id}/brief-acceptance", headers=s.c))
    other = make_creator(engine)
    foreign = await upload(http, await login(http, other.tenant), sponsored_clip())
    for key, reason in (
        (foreign, "not an upload of this workspace"),
        (f"uploads/{s.creator.workspace_id}/never-sent.mp4", "nothing was uploaded"),
        (f"uploads/{s.creator.workspace_id}/../{other.workspace_id}/x.mp4", "nothing was uploaded"),
    ):
        for step, extra in (("drafts", {"caption": "#ad Glow serum"}), ("final", {})):
            refused = await http.post(
                f"/deliveries/{s.delivery_id}/{step}",
                json={"media_key": key, **extra},
                headers=s.c,
            )
            if front is not None and "/../" in key:
                # A path traversal is the firewall's to refuse: the app never sees it.
                assert refused.status_code == 403 and "nginx" in refused.text
                continue
            [error] = problem(refused, 422, "names no upload")["errors"]
            assert error["field"] == "body.media_key"
            assert error["reason"].startswith(reason)
    delivery = await live_delivery(http, s.c, s.delivery_id)
    assert (delivery["stage"], delivery["submissions"]) == ("awaiting_draft", [])
