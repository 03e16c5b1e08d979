"""PayoutWorkflow on the time-skipping server with the manual provider: it waits for the
creator's payout account with reminders, pays once the account exists, compensates when it
cannot pay, and never moves money it does not have."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain import ledger
from domain.enums import CampaignStage, Role
from models import money
from models.campaigns import Brief, Campaign, CampaignRecord, insert_campaign_if_absent
from models.db import session_scope
from models.notifications import Notification
from nexus.settings import Settings
from tests.e2e.money_support import verified_once
from tests.e2e.support import until
from tests.support import (
    CreatorAccount,
    fund_in_ledger,
    make_creator,
    make_tenant,
)
from workers.cpu.main import build_worker
from workflows.contracts.payouts import PayoutRequest, PayoutState
from workflows.payout import PayoutWorkflow, workflow_id
from workflows.task_queues import cpu_queue

PRICE = 40_000
Handle = WorkflowHandle[PayoutWorkflow, PayoutState]


@asynccontextmanager
async def payout(
    env: WorkflowEnvironment, settings: Settings, engine: Engine, *, escrow: int
) -> AsyncIterator[tuple[Handle, PayoutRequest, CreatorAccount]]:
    brand, creator = make_tenant(engine), make_creator(engine)
    campaign_id = _campaign_row(engine, brand.workspace_id, brand.brand_id, brand.user_id)
    if escrow:
        fund_in_ledger(engine, campaign_id, brand.workspace_id, escrow, "USD")
    request = PayoutRequest(
        payout_id=str(uuid.uuid4()), workspace_id=brand.workspace_id, campaign_id=campaign_id,
        creator_id=creator.creator_id, creator_user_id=creator.user_id, amount_minor=PRICE,
        currency="USD", reason="license_fee", source_id="license-1",
    )  # fmt: skip
    async with build_worker(env.client, settings, engine):
        handle = await env.client.start_workflow(
            PayoutWorkflow.run,
            request,
            id=workflow_id(request.payout_id),
            task_queue=cpu_queue(settings.temporal.task_queue),
            execution_timeout=timedelta(days=60),
        )
        try:
            yield handle, request, creator
        finally:
            with suppress(RPCError):  # it may have finished
                await handle.terminate("test over")


def _campaign_row(
    engine: Engine, workspace_id: uuid.UUID, brand_id: uuid.UUID, user_id: uuid.UUID
) -> uuid.UUID:
    campaign_id = uuid.uuid4()
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        insert_campaign_if_absent(
            session,
            CampaignRecord(
                campaign=Campaign(
                    id=campaign_id, workspace_id=workspace_id, brand_id=brand_id,
                    title="Licensing", stage=CampaignStage.IN_PRODUCTION, currency="USD",
                    budget_minor=1_000_000,
                    created_by=user_id, created_at=now, updated_at=now,
                ),
                brief=Brief(
                    campaign_id=campaign_id, workspace_id=workspace_id,
                    product="p", objective="o", usage_rights={},
                ),
                deliverables=[],
            ),
        )  # fmt: skip
    return campaign_id


def kinds(engine: Engine, user_ids: list[uuid.UUID]) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(Notification.kind)
            .where(col(Notification.user_id).in_(user_ids))
            .order_by(col(Notification.created_at))
        ).all()
    return list(rows)


def balance(engine: Engine, kind: str, owner: object) -> int:
    with session_scope(engine) as session:
        return money.balance(session, ledger.account(kind, str(owner)), "USD")


def onboard(engine: Engine, creator: CreatorAccount) -> None:
    with session_scope(engine) as session:
        money.save(
            session,
            money.PayoutAccount(
                creator_id=creator.creator_id, provider="manual",
                account_ref=f"manual:{creator.creator_id}", payouts_enabled=True,
            ),
        )  # fmt: skip


def settle_bank_transfer(engine: Engine, payout_workflow_id: str) -> None:
    """What ops' confirmation records: the bank settled the payout's transfer."""
    with session_scope(engine) as session:
        row = money.manual_transfer(session, f"{payout_workflow_id}:transfer")
        assert row is not None
        money.settle_manual_transfer(session, row.id)


async def status_is(handle: Handle, status: str) -> PayoutState:
    async def check() -> PayoutState | None:
        state = await handle.query(PayoutWorkflow.state)
        return state if state.status == status else None

    result = await until(check, timeout_s=20)
    assert result is not None
    return result


async def test_waits_for_a_payout_account_with_reminders_then_pays(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with payout(time_skipping_env, settings, engine, escrow=100_000) as (h, r, creator):
        await status_is(h, "awaiting_onboarding")
        # The fee is reserved for the creator while they onboard.
        assert balance(engine, ledger.PAYABLE, r.payout_id) == PRICE
        await time_skipping_env.sleep(timedelta(days=7, hours=1))
        state = await h.query(PayoutWorkflow.state)
        assert (state.status, state.reminders_sent) == ("awaiting_onboarding", 3)
        assert kinds(engine, [creator.user_id]) == ["payout_account_needed"] * 3

        onboard(engine, creator)
        await h.signal(PayoutWorkflow.creator_onboarded)
        await status_is(h, "awaiting_settlement")
        settle_bank_transfer(engine, h.id)
        await h.signal(PayoutWorkflow.settled)
        done = await h.result()
    assert done.status == "paid" and done.transfer_ref
    assert balance(engine, ledger.PAYABLE, r.payout_id) == 0
    assert balance(engine, ledger.CREATOR_PAID, creator.creator_id) == PRICE
    assert balance(engine, ledger.ESCROW, r.campaign_id) == 100_000 - PRICE
    assert kinds(engine, [creator.user_id])[-1] == "payout_sent"


async def test_a_settled_signal_for_a_transfer_the_bank_did_not_settle_pays_nothing(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with payout(time_skipping_env, settings, engine, escrow=100_000) as (h, r, creator):
        onboard(engine, creator)
        await h.signal(PayoutWorkflow.creator_onboarded)
        await status_is(h, "awaiting_settlement")
        await h.signal(PayoutWorkflow.settled)  # sent straight to Temporal, nothing settled
        await verified_once(h, "money.transfer_settled")
        assert (await h.query(PayoutWorkflow.state)).status == "awaiting_settlement"
        assert balance(engine, ledger.PAYABLE, r.payout_id) == PRICE
        assert balance(engine, ledger.CREATOR_PAID, creator.creator_id) == 0
        assert "payout_sent" not in kinds(engine, [creator.user_id])

        settle_bank_transfer(engine, h.id)
        await h.signal(PayoutWorkflow.settled)
        done = await h.result()
    assert done.status == "paid"
    assert balance(engine, ledger.PAYABLE, r.payout_id) == 0
    assert balance(engine, ledger.CREATOR_PAID, creator.creator_id) == PRICE


async def test_abandoning_a_waiting_payout_releases_the_money_and_alerts_ops(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    ops = make_tenant(engine, Role.OPS)
    async with payout(time_skipping_env, settings, engine, escrow=100_000) as (h, r, _):
        await status_is(h, "awaiting_onboarding")
        await h.signal(PayoutWorkflow.abandon, "creator left the platform")
        done = await h.result()
    assert (done.status, done.failure) == ("failed", "creator left the platform")
    assert balance(engine, ledger.PAYABLE, r.payout_id) == 0
    assert balance(engine, ledger.ESCROW, r.campaign_id) == 100_000
    assert kinds(engine, [ops.user_id]) == ["payout_failed"]


async def test_an_escrow_too_small_moves_nothing(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with payout(time_skipping_env, settings, engine, escrow=PRICE - 1) as (h, r, _):
        done = await h.result()
    assert done.status == "failed" and "cannot pay" in done.failure
    assert balance(engine, ledger.PAYABLE, r.payout_id) == 0
    assert balance(engine, ledger.ESCROW, r.campaign_id) == PRICE - 1
