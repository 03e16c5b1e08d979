"""Chaos: 200 payouts, started the way approvals start them, while the worker running them is
SIGKILLed again and again. Afterwards every payout is paid, Stripe holds exactly 200 transfers
(one per payout, none twice) and the ledger balances to the cent."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowHandle

from activities.money import ledger
from integrations.payments.stripe_connect import StripePayments
from models import money
from models.db import session_scope
from nexus.settings import PaymentSettings, Settings
from tests.e2e.support import ok
from tests.e2e.test_worker_crash import CpuWorkers, _client
from tests.payments import support as ps
from tests.support import campaign_body, fund_in_ledger, login, make_creator, make_tenant
from workflows.contracts.payouts import PayoutRequest, PayoutState
from workflows.payout import PayoutWorkflow
from workflows.payout import workflow_id as payout_workflow_id
from workflows.task_queues import cpu_queue

PAYOUTS = 200
CREATORS = 10
PRICE = 1_234
KILLS = 4


@pytest.fixture
def payments(stripe_emulator: str, monkeypatch: pytest.MonkeyPatch) -> PaymentSettings:
    """Stripe for the worker processes (through their environment) and for this test."""
    payments = PaymentSettings(
        provider="stripe",
        stripe_api_key=ps.TEST_KEY,
        stripe_api_base=stripe_emulator,
        stripe_webhook_secret=ps.WEBHOOK_SECRET,
    )
    for name in ("provider", "stripe_api_key", "stripe_api_base", "stripe_webhook_secret"):
        value = getattr(payments, name)
        plain = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        monkeypatch.setenv(f"NEXUS_PAYMENTS__{name.upper()}", str(plain))
    return payments


async def test_payouts_survive_repeated_sigkills_and_pay_exactly_once(
    settings: Settings,
    engine: Engine,
    client: Client,
    payments: PaymentSettings,
    stripe_emulator: str,
    tmp_path: Path,
) -> None:
    workers = CpuWorkers(settings, tmp_path)
    try:
        await workers.start()
        campaign_id, workspace_id = await _funded_campaign(settings, engine, client)
        creators = _onboarded_creators(engine, payments, stripe_emulator)
        handles: list[WorkflowHandle[PayoutWorkflow, PayoutState]] = []
        for n in range(PAYOUTS):
            creator_id, user_id = creators[n % CREATORS]
            payout_id = str(uuid.uuid4())
            handles.append(
                await client.start_workflow(
                    PayoutWorkflow.run,
                    PayoutRequest(
                        payout_id=payout_id, workspace_id=workspace_id, campaign_id=campaign_id,
                        creator_id=creator_id, creator_user_id=user_id, amount_minor=PRICE,
                        currency="USD", reason="delivery", source_id=payout_id,
                    ),
                    id=payout_workflow_id(payout_id),
                    task_queue=cpu_queue(settings.temporal.task_queue),
                )
            )  # fmt: skip

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
    ours = {c for c, _ in creators}
    transfers = [t for t in ps.transfers(stripe_emulator) if t["metadata"].get("reference")]
    destinations = {t["destination"] for t in transfers}
    with session_scope(engine) as session:
        accounts = {money.payout_account(session, c).account_ref for c in ours}  # type: ignore[union-attr]
        escrow = money.balance(session, ledger.account(ledger.ESCROW, campaign_id), "USD")
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


async def _funded_campaign(
    settings: Settings, engine: Engine, client: Client
) -> tuple[uuid.UUID, uuid.UUID]:
    brand = make_tenant(engine)
    async with _client(settings, engine, client) as http:
        b = await login(http, brand)
        body = campaign_body(brand.brand_id)
        body["budget"]["amount_minor"] = PAYOUTS * PRICE
        body["deliverables"][0] |= {"quantity": 1, "price_minor": PRICE}
        campaign = ok(await http.post("/campaigns", json=body, headers=b), 201)
    campaign_id = uuid.UUID(campaign["id"])
    fund_in_ledger(engine, campaign_id, brand.workspace_id, PAYOUTS * PRICE, "USD")
    return campaign_id, brand.workspace_id


def _onboarded_creators(
    engine: Engine, payments: PaymentSettings, stripe_emulator: str
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    stripe = StripePayments(payments)
    creators = []
    for _ in range(CREATORS):
        creator = make_creator(engine)
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
        creators.append((creator.creator_id, creator.user_id))
    return creators
