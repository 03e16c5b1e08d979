"""Chaos: 200 approved deliveries are paid out while the worker running the payouts is
SIGKILLed again and again. The approvals happen first, through the real campaign and delivery
processes (their payouts then wait for the creators' payout accounts); the creators onboard and
the kills start together. Afterwards every payout is paid, Stripe holds exactly 200 transfers
(one per payout, none twice) and the ledger balances to the cent."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.worker import Worker

from domain import ledger
from domain.enums import DeliveryStage
from integrations.payments.stripe_connect import StripePayments
from integrations.storage import store_from_settings
from models import money
from models.db import session_scope
from nexus.settings import PaymentSettings, Settings
from tests.e2e.support import GOOD_CAPTION, ok, until
from tests.e2e.test_worker_crash import CpuWorkers
from tests.gateway import Gateway, api_client
from tests.media import sponsored_clip
from tests.payments import support as ps
from tests.support import (
    CreatorAccount,
    campaign_body,
    fund_in_ledger,
    login,
    make_creator,
    make_tenant,
)
from workflows.campaign import CampaignWorkflow
from workflows.campaign import workflow_id as campaign_workflow_id
from workflows.contracts.campaign import Apply, CampaignStatus, Decide
from workflows.contracts.delivery import BriefAcceptance, DeliveryStatus, Review, SubmitDraft
from workflows.contracts.payouts import PayoutState
from workflows.delivery import DeliveryWorkflow
from workflows.delivery import workflow_id as delivery_workflow_id
from workflows.payout import PayoutWorkflow
from workflows.payout import workflow_id as payout_workflow_id

PAYOUTS = 200
CREATORS = 100  # each delivers both deliverables
PRICE = 1_234
KILLS = 4
DRAFT = "uploads/chaos/draft.mp4"


@pytest.fixture
def payments(stripe_emulator: str, monkeypatch: pytest.MonkeyPatch) -> PaymentSettings:
    """Stripe for the worker processes (through their environment) and for this test."""
    payments = ps.payment_settings(stripe_emulator)
    for name in ("provider", "stripe_api_key", "stripe_api_base", "stripe_webhook_secret"):
        value = getattr(payments, name)
        plain = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        monkeypatch.setenv(f"NEXUS_PAYMENTS__{name.upper()}", str(plain))
    return payments


@pytest.mark.heavy
@pytest.mark.timeout(600)
async def test_payouts_survive_repeated_sigkills_and_pay_exactly_once(
    settings: Settings,
    engine: Engine,
    client: Client,
    payments: PaymentSettings,
    stripe_emulator: str,
    tmp_path: Path,
    gpu_worker: Worker,
    front: Gateway | None,
) -> None:
    store_from_settings(settings.storage).put_file(DRAFT, sponsored_clip(), "video/mp4")
    workers = CpuWorkers(settings, tmp_path)
    try:
        await workers.start()
        campaign = await _funded_campaign(settings, engine, client, front)
        creators = [make_creator(engine) for _ in range(CREATORS)]
        gate = asyncio.Semaphore(20)

        async def approve(creator: CreatorAccount, deliverable_id: uuid.UUID) -> str:
            async with gate:
                return await _approved_delivery(client, campaign, creator, deliverable_id)

        # The first draft's moderation analyses the clip; the other 199 reuse that analysis.
        pairs = [(c, d) for c in creators for d in campaign.deliverable_ids]
        approved = [await approve(*pairs[0])]
        approved += await asyncio.gather(*(approve(c, d) for c, d in pairs[1:]))
        handles: list[WorkflowHandle[Any, PayoutState]] = [
            client.get_workflow_handle(payout_workflow_id(delivery_id), result_type=PayoutState)
            for delivery_id in approved
        ]

        async def all_waiting() -> bool:
            states = [await h.query(PayoutWorkflow.state) for h in handles]
            return Counter(s.status for s in states) == {"awaiting_onboarding": PAYOUTS}

        await until(all_waiting, timeout_s=60)

        for creator in creators:
            _onboard(engine, payments, stripe_emulator, creator)
        for handle in handles:
            await handle.signal(PayoutWorkflow.creator_onboarded)
        results = asyncio.gather(*(h.result() for h in handles))
        rng = random.Random(7)
        for kill in range(KILLS):
            await asyncio.sleep(rng.uniform(0.3, 1.5))
            assert kill > 0 or not results.done(), "the payouts finished before the first kill"
            await workers.kill()
            await workers.start()
        states = await asyncio.wait_for(results, timeout=240)
    finally:
        workers.reap()
        for process in workers.processes:
            await asyncio.wait_for(process.wait(), 15)

    assert Counter(s.status for s in states) == {"paid": PAYOUTS}
    ours = {c.creator_id for c in creators}
    transfers = [t for t in ps.transfers(stripe_emulator) if t["metadata"].get("reference")]
    destinations = {t["destination"] for t in transfers}
    with session_scope(engine) as session:
        accounts = {money.payout_account(session, c).account_ref for c in ours}  # type: ignore[union-attr]
        escrow = money.balance(session, ledger.account(ledger.ESCROW, campaign.id), "USD")
        payable = sum(
            money.balance(session, ledger.account(ledger.PAYABLE, s.payout_id), "USD")
            for s in states
        )
        paid = sum(
            money.balance(session, ledger.account(ledger.CREATOR_PAID, c), "USD") for c in ours
        )
    mine = [t for t in transfers if t["destination"] in accounts]
    assert destinations >= accounts
    assert len(mine) == PAYOUTS
    assert Counter(t["transfer_group"] for t in mine) == Counter(
        {f"payout-{s.payout_id}": 1 for s in states}
    )
    assert {t["id"] for t in mine} == {s.transfer_ref for s in states}
    assert (escrow, payable, paid) == (0, 0, PAYOUTS * PRICE)
    # The ledger invariant itself is checked when the test's engine closes.
    assert len(workers.processes) == KILLS + 1


@dataclass(frozen=True)
class FundedCampaign:
    id: uuid.UUID
    handle: WorkflowHandle[Any, CampaignStatus]
    deliverable_ids: list[uuid.UUID]
    # The server takes at most 10 Updates in flight per workflow.
    updates: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(8))


async def _funded_campaign(
    settings: Settings, engine: Engine, client: Client, front: Gateway | None
) -> FundedCampaign:
    """Published, funded for exactly the 200 fees, with two deliverables of 100 slots each."""
    brand = make_tenant(engine)
    body = campaign_body(brand.brand_id)
    body["budget"]["amount_minor"] = PAYOUTS * PRICE
    body["brief"]["application_deadline"] = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    body["deliverables"] = [
        {"format": "video_9x16", "duration_s": 30, "quantity": PAYOUTS // 2, "price_minor": PRICE}
    ] * 2
    async with api_client(settings, engine, client, front) as http:
        b = await login(http, brand)
        created = ok(await http.post("/campaigns", json=body, headers=b), 201)
        campaign_id = uuid.UUID(created["id"])
        handle: WorkflowHandle[Any, CampaignStatus] = client.get_workflow_handle(
            campaign_workflow_id(campaign_id), result_type=CampaignStatus
        )
        funding = fund_in_ledger(engine, campaign_id, brand.workspace_id, PAYOUTS * PRICE, "USD")
        await handle.signal(CampaignWorkflow.funded, funding)
        ok(await http.post(f"/campaigns/{campaign_id}/publish", headers=b))
    deliverables = [uuid.UUID(d["id"]) for d in created["deliverables"]]
    return FundedCampaign(campaign_id, handle, deliverables)


async def _approved_delivery(
    client: Client, campaign: FundedCampaign, creator: CreatorAccount, deliverable_id: uuid.UUID
) -> str:
    """The creator applies and is accepted, accepts the brief, passes the checks, and the
    brand approves: the delivery starts its payout. Returns the delivery id."""
    async with campaign.updates:
        applied = await campaign.handle.execute_update(
            CampaignWorkflow.apply,
            Apply(
                application_id=uuid.uuid4(),
                creator_id=creator.creator_id,
                creator_user_id=creator.user_id,
                deliverable_id=deliverable_id,
                pitch="On it",
                price_minor=PRICE,
            ),
        )
        accepted = await campaign.handle.execute_update(
            CampaignWorkflow.decide, Decide(application_id=applied.id, action="accept")
        )
    assert accepted.delivery_id is not None
    delivery: WorkflowHandle[Any, DeliveryStatus] = client.get_workflow_handle(
        delivery_workflow_id(accepted.delivery_id), result_type=DeliveryStatus
    )
    me = creator.creator_id
    await until(lambda: _running(delivery))
    await delivery.execute_update(DeliveryWorkflow.accept_brief, BriefAcceptance(creator_id=me))
    await delivery.execute_update(
        DeliveryWorkflow.submit_draft,
        SubmitDraft(creator_id=me, media_key=DRAFT, caption=GOOD_CAPTION),
    )
    await until(lambda: _in_review(delivery), timeout_s=60)
    await delivery.execute_update(DeliveryWorkflow.review, Review(decision="approve"))
    return str(accepted.delivery_id)


async def _running(delivery: WorkflowHandle[Any, DeliveryStatus]) -> bool:
    try:
        await delivery.describe()
    except RPCError:
        return False
    return True


async def _in_review(delivery: WorkflowHandle[Any, DeliveryStatus]) -> bool:
    status = await delivery.query(DeliveryWorkflow.status)
    return status.stage == DeliveryStage.IN_REVIEW


def _onboard(
    engine: Engine, payments: PaymentSettings, stripe_emulator: str, creator: CreatorAccount
) -> None:
    """The creator finishes Stripe Connect onboarding; payouts to them can go out now."""
    stripe = StripePayments(payments)
    opened = stripe.open_account(
        f"acct-{creator.creator_id}", creator.creator_id, creator.email, "US"
    )
    ps.finish_onboarding(stripe_emulator, opened.account_ref)
    with session_scope(engine) as session:
        money.save(
            session,
            money.PayoutAccount(
                creator_id=creator.creator_id,
                provider="stripe",
                account_ref=opened.account_ref,
                payouts_enabled=True,
            ),
        )
