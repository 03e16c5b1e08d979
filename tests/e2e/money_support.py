"""A funded campaign with one creator's draft approved, driven over HTTP, for money tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine
from temporalio.client import WorkflowHandle

from domain.enums import Role
from models import money
from models.db import session_scope
from tests.e2e.support import Headers, draft_body, ok, until
from tests.payments import support as ps
from tests.support import (
    CreatorAccount,
    Tenant,
    campaign_body,
    login,
    make_creator,
    make_tenant,
)

BUDGET = 500_000
PRICE = 90_000


@dataclass
class Deal:
    http: httpx.AsyncClient
    brand: Tenant
    creator: CreatorAccount
    b: Headers
    c: Headers
    ops: Headers
    campaign_id: str

    async def new_campaign(self) -> str:
        body = campaign_body(self.brand.brand_id)
        body["budget"]["amount_minor"] = BUDGET
        body["deliverables"][0] |= {"quantity": 2, "price_minor": 100_000}
        body["brief"]["application_deadline"] = (
            datetime.now(UTC) + timedelta(minutes=10)
        ).isoformat()
        self.campaign_id = ok(await self.http.post("/campaigns", json=body, headers=self.b), 201)[
            "id"
        ]
        return self.campaign_id

    async def approved_delivery(self) -> str:
        """Publish (the campaign must be funded), the creator applies at PRICE, gets accepted,
        delivers a clean draft, the brand approves: the payout starts."""
        http, cid, b, c = self.http, self.campaign_id, self.b, self.c
        campaign = ok(await http.post(f"/campaigns/{cid}/publish", headers=b))
        app = ok(
            await http.post(
                f"/marketplace/campaigns/{cid}/applications",
                json={
                    "deliverable_id": campaign["deliverables"][0]["id"],
                    "pitch": "Serums are my thing",
                    "price_minor": PRICE,
                },
                headers=c,
            ),
            201,
        )
        decided = ok(
            await http.post(
                f"/campaigns/{cid}/applications/{app['id']}/decision",
                json={"action": "accept"},
                headers=b,
            )
        )
        delivery_id = str(decided["delivery_id"])
        await self.delivery_in(delivery_id, "awaiting_brief_acceptance")
        ok(await http.post(f"/deliveries/{delivery_id}/brief-acceptance", headers=c))
        ok(
            await http.post(
                f"/deliveries/{delivery_id}/drafts",
                json=await draft_body(http, c),
                headers=c,
            )
        )
        await self.delivery_in(delivery_id, "in_review")
        approved = ok(
            await http.post(
                f"/deliveries/{delivery_id}/review", json={"decision": "approve"}, headers=b
            )
        )
        assert approved["handoffs"]["payout"] == f"payout-{delivery_id}"
        return delivery_id

    async def delivery_in(self, delivery_id: str, stage: str) -> dict[str, Any]:
        async def check() -> dict[str, Any]:
            response = await self.http.get(f"/deliveries/{delivery_id}", headers=self.c)
            body: dict[str, Any] = response.json() if response.status_code == 200 else {}
            return body if body.get("stage") == stage else {}

        # Moderation runs the real models: on a busy machine a draft takes a while.
        return await until(check, timeout_s=90)

    async def payout_in(self, status: str, timeout_s: float = 40) -> dict[str, Any]:
        async def check() -> dict[str, Any]:
            payouts = ok(await self.http.get("/creator/payouts", headers=self.c))
            return payouts[0] if payouts and payouts[0]["status"] == status else {}

        return await until(check, timeout_s=timeout_s)

    async def statement(self) -> dict[str, Any]:
        path = f"/campaigns/{self.campaign_id}/statement"
        return dict(ok(await self.http.get(path, headers=self.b)))


IBAN = "DE89 3704 0044 0532 0130 00"


async def give_bank_details(http: httpx.AsyncClient, headers: Headers) -> dict[str, Any]:
    """The creator's payout bank details (manual payouts go out to them)."""
    account: dict[str, Any] = ok(
        await http.put(
            "/creator/payout-account/bank-details",
            json={"holder_name": "Ada Lovelace", "iban": IBAN},
            headers=headers,
        )
    )
    return account


async def deal(http: httpx.AsyncClient, engine: Engine) -> Deal:
    brand, creator = make_tenant(engine), make_creator(engine)
    b, c = await login(http, brand), await login(http, creator.tenant)
    ops = await login(http, make_tenant(engine, Role.OPS))
    new = Deal(http, brand, creator, b, c, ops, "")
    await new.new_campaign()
    return new


async def webhook(http: httpx.AsyncClient, engine: Engine, event: dict[str, Any]) -> dict[str, Any]:
    """Deliver a Stripe-signed event and wait until its process has handled it."""
    body, signature = ps.signed(event)
    answer = ok(
        await http.post(
            "/webhooks/stripe",
            content=body,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )
    )
    await handled(engine, str(event["id"]))
    return dict(answer)


async def handled(engine: Engine, event_id: str) -> None:
    def done() -> bool:
        with session_scope(engine) as session:
            row = session.get(money.ProviderEvent, event_id)
            return row is not None and row.processed_at is not None

    async def check() -> bool:
        return done()

    await until(check)


async def verified_once(
    handle: WorkflowHandle[Any, Any], activity: str = "money.funding_facts"
) -> None:
    """Wait until the process has checked a signalled fact (by default a funding against the
    ledger) through `activity`."""

    async def checked() -> bool:
        scheduled: set[int] = set()
        async for e in handle.fetch_history_events():
            kind = e.activity_task_scheduled_event_attributes.activity_type.name
            if kind == activity:
                scheduled.add(e.event_id)
            done = e.activity_task_completed_event_attributes.scheduled_event_id
            if e.HasField("activity_task_completed_event_attributes") and done in scheduled:
                return True
        return False

    await until(checked)
