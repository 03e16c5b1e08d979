"""Recruiting over HTTP on the real dev server: invitations, counter-offers, marketplace fit,
and cancelling a campaign while its creators are in production."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from activities.moderation.activities import MediaActivities
from domain.enums import Role
from integrations.storage import store_from_settings
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
from workflows.contracts.moderation import ProbeRequest, ProbeResult
from workflows.task_queues import cpu_queue

T = TypeVar("T")


# --- helpers ------------------------------------------------------------------------------


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
) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = campaign_body(brand.brand_id, visibility=visibility)
    body["budget"]["amount_minor"] = budget_minor
    body["deliverables"][0] |= {"quantity": quantity, "price_minor": price_minor}
    body["brief"] |= {
        "application_deadline": (now + timedelta(seconds=application_window_s)).isoformat(),
        "delivery_deadline": (now + timedelta(days=14)).isoformat(),
        **(brief or {}),
    }
    campaign = ok(await http.post("/campaigns", json=body, headers=headers), 201)
    await fund(http, engine, headers, campaign["id"])
    published = ok(await http.post(f"/campaigns/{campaign['id']}/publish", headers=headers))
    assert published["stage"] == "published"
    return dict(published)


async def apply(
    http: httpx.AsyncClient, headers: Headers, campaign: dict[str, Any], price_minor: int
) -> dict[str, Any]:
    response = await http.post(
        f"/marketplace/campaigns/{campaign['id']}/applications",
        json={
            "deliverable_id": campaign["deliverables"][0]["id"],
            "pitch": "Morning routines are my thing",
            "price_minor": price_minor,
        },
        headers=headers,
    )
    return dict(ok(response, 201))


async def decide(
    http: httpx.AsyncClient, headers: Headers, campaign_id: str, app_id: str, **body: Any
) -> httpx.Response:
    return await http.post(
        f"/campaigns/{campaign_id}/applications/{app_id}/decision", json=body, headers=headers
    )


async def delivery_in(
    http: httpx.AsyncClient, headers: Headers, delivery_id: str, *stages: str
) -> dict[str, Any]:
    """The delivery once the read model shows one of `stages`."""

    async def check() -> dict[str, Any]:
        response = await http.get(f"/deliveries/{delivery_id}", headers=headers)
        if response.status_code != 200:
            return {}
        body: dict[str, Any] = response.json()
        return body if body["stage"] in stages else {}

    return await until(check)


async def kinds(http: httpx.AsyncClient, headers: Headers) -> list[str]:
    return [n["kind"] for n in ok(await http.get("/notifications", headers=headers))]


async def to_review(http: httpx.AsyncClient, creator: Headers, delivery_id: str) -> dict[str, Any]:
    """Accept the brief and submit a clean draft; answer once it waits for the brand."""
    await delivery_in(http, creator, delivery_id, "awaiting_brief_acceptance")
    ok(await http.post(f"/deliveries/{delivery_id}/brief-acceptance", headers=creator))
    ok(
        await http.post(
            f"/deliveries/{delivery_id}/drafts",
            json=await draft_body(http, creator),
            headers=creator,
        )
    )
    return await delivery_in(http, creator, delivery_id, "in_review")


# --- invitations --------------------------------------------------------------------------


async def test_invitations_accepted_and_declined(http: httpx.AsyncClient, engine: Engine) -> None:
    brand = make_tenant(engine)
    alice = make_creator(engine, niches=["beauty", "wellness"], country="US")
    bob = make_creator(engine, niches=["beauty"], country="US")
    outsider = make_creator(engine, niches=["gaming"], country="DE")
    b = await login(http, brand)
    a, o = await login(http, alice.tenant), await login(http, bob.tenant)
    campaign = await published_campaign(http, engine, brand, b, visibility="invite_only")
    cid, deliverable_id = campaign["id"], campaign["deliverables"][0]["id"]

    found = ok(await http.get("/creators?niche=beauty&country=US", headers=b))
    assert {c["id"] for c in found} == {str(alice.creator_id), str(bob.creator_id)}
    assert str(outsider.creator_id) not in {c["id"] for c in found}

    invitations = {}
    for who, price in ((alice, 120_000), (bob, 110_000)):
        invitations[who.creator_id] = ok(
            await http.post(
                f"/campaigns/{cid}/invitations",
                json={
                    "creator_id": str(who.creator_id),
                    "deliverable_id": deliverable_id,
                    "price_minor": price,
                    "message": "We love your routines",
                },
                headers=b,
            ),
            201,
        )
    assert {i["origin"] for i in invitations.values()} == {"invitation"}
    assert {i["status"] for i in invitations.values()} == {"pending"}

    mine = ok(await http.get("/creator/applications", headers=a))
    assert [(x["id"], x["status"], x["price_minor"]) for x in mine] == [
        (invitations[alice.creator_id]["id"], "pending", 120_000)
    ]
    assert "invitation" in await kinds(http, a)

    accepted = ok(
        await http.post(
            f"/creator/applications/{mine[0]['id']}/response", json={"accept": True}, headers=a
        )
    )
    assert accepted["status"] == "accepted"
    delivery_id = accepted["delivery_id"]
    assert delivery_id is not None
    delivery = await delivery_in(http, a, delivery_id, "awaiting_brief_acceptance")
    assert delivery["price_minor"] == 120_000
    assert delivery["creator_id"] == str(alice.creator_id)
    assert delivery["live"]["next_task"] == "accept_brief"

    bobs = invitations[bob.creator_id]["id"]
    declined = ok(
        await http.post(f"/creator/applications/{bobs}/response", json={"accept": False}, headers=o)
    )
    assert declined["status"] == "declined"
    assert declined["delivery_id"] is None
    assert count_rows(engine, "deliveries") == 1
    listed = ok(await http.get(f"/campaigns/{cid}/applications", headers=b))
    assert {x["creator_id"]: x["status"] for x in listed} == {
        str(alice.creator_id): "accepted",
        str(bob.creator_id): "declined",
    }
    assert (await kinds(http, b)).count("declined") == 1
    live = ok(await http.get(f"/campaigns/{cid}", headers=b))["live"]
    assert live["stage"] == "recruiting"
    assert live["committed_minor"] == 120_000
    assert live["open_slots"] == {deliverable_id: 1}

    again = await http.post(
        f"/creator/applications/{bobs}/response", json={"accept": True}, headers=o
    )
    assert again.status_code == 409, again.text
    assert "declined" in again.json()["detail"]


# --- counter-offers -----------------------------------------------------------------------


async def test_counter_offers_accepted_and_declined(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    alice, bob = make_creator(engine), make_creator(engine)
    b = await login(http, brand)
    a, o = await login(http, alice.tenant), await login(http, bob.tenant)
    campaign = await published_campaign(http, engine, brand, b)
    cid = campaign["id"]

    app_a = await apply(http, a, campaign, 150_000)
    app_b = await apply(http, o, campaign, 140_000)
    assert (await kinds(http, b)).count("application") == 2

    countered = ok(
        await decide(http, b, cid, app_a["id"], action="counter", counter_price_minor=95_000)
    )
    assert (countered["status"], countered["price_minor"], countered["counter_price_minor"]) == (
        "countered",
        150_000,
        95_000,
    )
    mine = ok(await http.get("/creator/applications", headers=a))
    assert [(x["status"], x["counter_price_minor"]) for x in mine] == [("countered", 95_000)]
    assert "counter_offer" in await kinds(http, a)
    # The brand has made its move: it cannot also accept at the original price now.
    assert (await decide(http, b, cid, app_a["id"], action="accept")).status_code == 409

    accepted = ok(
        await http.post(
            f"/creator/applications/{app_a['id']}/response", json={"accept": True}, headers=a
        )
    )
    assert accepted["status"] == "accepted"
    delivery = await delivery_in(http, a, accepted["delivery_id"], "awaiting_brief_acceptance")
    assert delivery["price_minor"] == 95_000
    live = ok(await http.get(f"/campaigns/{cid}", headers=b))["live"]
    assert live["committed_minor"] == 95_000

    ok(await decide(http, b, cid, app_b["id"], action="counter", counter_price_minor=80_000))
    declined = ok(
        await http.post(
            f"/creator/applications/{app_b['id']}/response", json={"accept": False}, headers=o
        )
    )
    assert (declined["status"], declined["delivery_id"]) == ("declined", None)
    assert count_rows(engine, "deliveries") == 1
    assert (await kinds(http, b)).count("declined") == 1
    live = ok(await http.get(f"/campaigns/{cid}", headers=b))["live"]
    assert live["committed_minor"] == 95_000
    assert live["open_slots"] == {campaign["deliverables"][0]["id"]: 1}


# --- marketplace fit ----------------------------------------------------------------------


async def test_marketplace_shows_only_fitting_open_campaigns(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    fits = make_creator(engine, niches=["fitness", "beauty"], country="US")
    wrong_niche = make_creator(engine, niches=["gaming"], country="US")
    wrong_country = make_creator(engine, niches=["beauty"], country="DE")
    b = await login(http, brand)
    targeted = await published_campaign(
        http,
        engine,
        brand,
        b,
        brief={"target_niches": ["beauty"], "target_countries": ["US", "CA"]},
    )
    untargeted = await published_campaign(http, engine, brand, b)
    private = await published_campaign(http, engine, brand, b, visibility="invite_only")

    async def visible(creator: CreatorAccount) -> set[str]:
        headers = await login(http, creator.tenant)
        return {c["id"] for c in ok(await http.get("/marketplace/campaigns", headers=headers))}

    assert await visible(fits) == {targeted["id"], untargeted["id"]}
    assert await visible(wrong_niche) == {untargeted["id"]}
    assert await visible(wrong_country) == {untargeted["id"]}

    # Invite-only campaigns are not in the marketplace at all, not even by ID.
    c = await login(http, fits.tenant)
    assert (await http.get(f"/marketplace/campaigns/{private['id']}", headers=c)).status_code == 404
    rows_before = count_rows(engine, "applications")
    refused = await http.post(
        f"/marketplace/campaigns/{private['id']}/applications",
        json={
            "deliverable_id": private["deliverables"][0]["id"],
            "pitch": "Let me in",
            "price_minor": 50_000,
        },
        headers=c,
    )
    assert refused.status_code == 404, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert count_rows(engine, "applications") == rows_before
    assert ok(await http.get(f"/campaigns/{private['id']}/applications", headers=b)) == []

    # A draft is not listed either.
    body = campaign_body(brand.brand_id)
    draft = ok(await http.post("/campaigns", json=body, headers=b), 201)
    assert draft["id"] not in await visible(fits)
    assert (await http.get(f"/marketplace/campaigns/{draft['id']}", headers=c)).status_code == 404


# --- cancellation mid-production ----------------------------------------------------------


async def test_cancel_in_production_stops_open_work_and_keeps_approved_owed(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    alice, bob = make_creator(engine), make_creator(engine)
    b = await login(http, brand)
    a, o = await login(http, alice.tenant), await login(http, bob.tenant)
    # Long enough for both to apply and be accepted on a busy machine; production follows.
    campaign = await published_campaign(http, engine, brand, b, application_window_s=10)
    cid = campaign["id"]
    deliveries = {}
    for who, headers, price in ((alice, a, 90_000), (bob, o, 80_000)):
        app = await apply(http, headers, campaign, price)
        deliveries[who.creator_id] = ok(await decide(http, b, cid, app["id"], action="accept"))[
            "delivery_id"
        ]
    approved_id, open_id = deliveries[alice.creator_id], deliveries[bob.creator_id]

    await to_review(http, a, approved_id)
    approved = ok(
        await http.post(
            f"/deliveries/{approved_id}/review", json={"decision": "approve"}, headers=b
        )
    )
    assert approved["stage"] == "awaiting_final"
    await delivery_in(http, o, open_id, "awaiting_brief_acceptance")
    ok(await http.post(f"/deliveries/{open_id}/brief-acceptance", headers=o))

    async def in_production() -> bool:
        body = ok(await http.get(f"/campaigns/{cid}", headers=b))
        return bool(body["stage"] == "in_production")

    await until(in_production)

    cancelled = ok(
        await http.post(f"/campaigns/{cid}/cancel", json={"reason": "Product recall"}, headers=b)
    )
    assert cancelled["stage"] == "cancelled"
    assert cancelled["live"]["stage"] == "cancelled"
    assert cancelled["live"]["cancel_reason"] == "Product recall"
    assert cancelled["live"]["owed_minor"] == 90_000
    assert cancelled["live"]["committed_minor"] == 90_000

    stopped = await delivery_in(http, o, open_id, "cancelled")
    assert stopped["live"]["cancel_reason"] == "Product recall"
    assert stopped["live"]["next_task"] is None
    kept = ok(await http.get(f"/deliveries/{approved_id}", headers=a))
    assert kept["stage"] == "awaiting_final"
    assert kept["approved_at"] is not None

    async def told() -> list[str]:
        return [k for k in await kinds(http, o) if k == "campaign_cancelled"]

    assert await until(told) == ["campaign_cancelled"]

    # The stopped delivery takes no more work; the approved one is still delivered and owed.
    late_draft = await http.post(
        f"/deliveries/{open_id}/drafts",
        json=await draft_body(http, o),
        headers=o,
    )
    assert late_draft.status_code == 409, late_draft.text
    final = ok(
        await http.post(
            f"/deliveries/{approved_id}/final",
            json={"media_key": await upload(http, a, sponsored_clip())},
            headers=a,
        )
    )
    assert final["stage"] == "checking"  # the final files are checked, then delivered

    async def delivered() -> bool:
        done = ok(await http.get(f"/deliveries/{approved_id}", headers=a))
        return bool(done["stage"] == "completed")

    await until(delivered, timeout_s=60)
    again = ok(await http.get(f"/campaigns/{cid}", headers=b))
    assert again["stage"] == "cancelled"
    assert again["live"]["owed_minor"] == 90_000
    second = await http.post(f"/campaigns/{cid}/cancel", json={"reason": "again"}, headers=b)
    assert second.status_code == 409, second.text


# --- cancellation while a draft is being checked --------------------------------------------


class GatedChecks:
    """The moderation's first step (the probe) held at a gate, so a test can act while a
    draft is being checked. The real pipeline runs once the gate opens."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.started = asyncio.Event()
        self.gate = asyncio.Event()
        self.media = MediaActivities(
            store_from_settings(settings.storage), engine, settings.media, settings.moderation
        )

    @activity.defn(name="media.probe")
    async def probe(self, request: ProbeRequest) -> ProbeResult:
        self.started.set()
        await self.gate.wait()
        return await asyncio.to_thread(self.media.probe, request)


@pytest.fixture
async def gated(
    settings: Settings,
    engine: Engine,
    client: Client,
    gpu_worker: Worker,
    front: Gateway | None,
) -> AsyncIterator[tuple[httpx.AsyncClient, GatedChecks]]:
    checks = GatedChecks(settings, engine)
    worker = Worker(
        client,
        task_queue=cpu_queue(settings.temporal.task_queue),
        workflows=WORKFLOWS,
        activities=replacing(cpu_activities(settings, engine), checks.probe),
        activity_executor=ThreadPoolExecutor(8),
    )
    async with worker, api_client(settings, engine, client, front) as http:
        yield http, checks
        checks.gate.set()


async def test_cancel_while_a_draft_is_checked_keeps_the_delivery_cancelled(
    gated: tuple[httpx.AsyncClient, GatedChecks], engine: Engine
) -> None:
    """A check result arriving after the campaign cancelled the delivery must not bring it
    back into review (DeliveryWorkflow._run_checks returns when the stage is terminal)."""
    http, checks = gated
    brand = make_tenant(engine, Role.BRAND_ADMIN)
    creator = make_creator(engine)
    b, c = await login(http, brand), await login(http, creator.tenant)
    campaign = await published_campaign(http, engine, brand, b, quantity=1)
    app = await apply(http, c, campaign, 100_000)
    delivery_id = ok(await decide(http, b, campaign["id"], app["id"], action="accept"))[
        "delivery_id"
    ]
    await delivery_in(http, c, delivery_id, "awaiting_brief_acceptance")
    ok(await http.post(f"/deliveries/{delivery_id}/brief-acceptance", headers=c))
    checking = ok(
        await http.post(
            f"/deliveries/{delivery_id}/drafts",
            json=await draft_body(http, c),
            headers=c,
        )
    )
    assert checking["stage"] == "checking"
    await asyncio.wait_for(checks.started.wait(), 15)

    cancelled = ok(
        await http.post(
            f"/campaigns/{campaign['id']}/cancel", json={"reason": "Budget cut"}, headers=b
        )
    )
    assert cancelled["live"]["owed_minor"] == 0
    await delivery_in(http, c, delivery_id, "cancelled")
    checks.gate.set()

    # Give the delivery time to take in the late check result; it must stay cancelled.
    seen: set[str] = set()
    deadline = asyncio.get_running_loop().time() + 3
    while asyncio.get_running_loop().time() < deadline:
        body = ok(await http.get(f"/deliveries/{delivery_id}", headers=c))
        seen |= {body["stage"]} | ({body["live"]["stage"]} if body["live"] else set())
        await asyncio.sleep(0.1)
    assert seen == {"cancelled"}
    assert "draft_ready" not in await kinds(http, b)
    queue = ok(await http.get("/deliveries?stage=in_review", headers=b))
    assert queue == []
