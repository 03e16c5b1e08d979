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

from domain import bank, ledger
from domain.enums import CampaignStage, Role
from models import money
from models.campaigns import Brief, Campaign, CampaignRecord, insert_campaign_if_absent
from models.db import session_scope
from models.notifications import Notification
from models.workspaces import Membership
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
    """The creator gives bank details: their manual payout account can receive money."""
    with session_scope(engine) as session:
        account = bank.IbanAccount("Ada Lovelace", "DE89370400440532013000")
        money.store_bank_details(session, creator.creator_id, account, bytes(range(32)))


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


def told(engine: Engine, kind: str) -> list[tuple[uuid.UUID, str, str]]:
    """(user, title, body) of every notification of `kind`."""
    with Session(engine) as session:
        rows = session.exec(
            select(Notification.user_id, Notification.title, Notification.body).where(
                Notification.kind == kind
            )
        ).all()
    return [(u, t, b) for u, t, b in rows]


def brand_users(engine: Engine, workspace_id: uuid.UUID) -> set[uuid.UUID]:
    with Session(engine) as session:
        rows = session.exec(
            select(Membership.user_id).where(Membership.workspace_id == workspace_id)
        ).all()
    return set(rows)


async def test_abandoning_a_waiting_payout_releases_the_money_and_tells_everyone(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    ops = make_tenant(engine, Role.OPS)
    async with payout(time_skipping_env, settings, engine, escrow=100_000) as (h, r, creator):
        await status_is(h, "awaiting_onboarding")
        await h.signal(PayoutWorkflow.abandon, "creator left the platform")
        done = await h.result()
    assert (done.status, done.failure) == ("failed", "creator left the platform")
    assert balance(engine, ledger.PAYABLE, r.payout_id) == 0
    assert balance(engine, ledger.ESCROW, r.campaign_id) == 100_000
    assert kinds(engine, [ops.user_id]) == ["payout_failed"]
    # The creator and the brand are told why, with names and money, not IDs.
    abandoned = told(engine, "payout_abandoned")
    assert {u for u, _, _ in abandoned} == {creator.user_id} | brand_users(engine, r.workspace_id)
    for _, title, body in abandoned:
        assert "$400.00" in title + body and "creator left the platform" in body
        assert "“Licensing”" in body and "minor units" not in body
    [brand_message] = [m for m in abandoned if m[0] != creator.user_id]
    assert "stays in the campaign's escrow" in brand_message[2]


async def test_a_payout_abandoned_after_its_campaign_closed_goes_back_to_the_brand(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with payout(time_skipping_env, settings, engine, escrow=100_000) as (h, r, creator):
        await status_is(h, "awaiting_onboarding")
        with session_scope(engine) as session:
            campaign = session.get(Campaign, r.campaign_id)
            assert campaign is not None
            campaign.stage = CampaignStage.CANCELLED
            session.add(campaign)
        await h.signal(PayoutWorkflow.abandon, "the bank returned the transfer")
        done = await h.result()
    assert done.status == "failed"
    # Released to the escrow, then refunded with its share of the 10 % platform fee.
    fee_back = 10_000 * PRICE // 100_000
    assert balance(engine, ledger.ESCROW, r.campaign_id) == 100_000 - PRICE
    assert balance(engine, ledger.BRAND_REFUNDS, r.workspace_id) == PRICE + fee_back
    [brand_message] = [m for m in told(engine, "payout_abandoned") if m[0] != creator.user_id]
    assert "$440.00" in brand_message[2] and "refunded to you" in brand_message[2]


async def test_an_escrow_too_small_moves_nothing(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with payout(time_skipping_env, settings, engine, escrow=PRICE - 1) as (h, r, _):
        done = await h.result()
    assert done.status == "failed" and "cannot pay" in done.failure
    assert balance(engine, ledger.PAYABLE, r.payout_id) == 0
    assert balance(engine, ledger.ESCROW, r.campaign_id) == PRICE - 1
