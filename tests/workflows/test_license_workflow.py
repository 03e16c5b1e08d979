"""LicenseWorkflow over a one-year license on the time-skipping server: reminders 30 and 7
days before the end, renewal, expiry with withdrawal, termination and disputes.

The real CPU worker runs the real activities against a fresh PostgreSQL database; each test
checks what people notice: the live state, the license row, the inbox, the publications and
the rights ledger (which must verify after every path).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain import rights_ledger as ledger
from domain.enums import LicenseStatus, PublicationStatus
from domain.license_terms import Use
from models import licenses
from models.licenses import License, Publication
from models.notifications import Notification
from nexus.settings import Settings
from tests.e2e.support import until
from tests.support import CreatorAccount, Tenant, make_creator, make_delivered_asset, make_tenant
from workers.cpu.main import build_worker
from workflows.contracts.license import (
    ChangeAnswer,
    DisputeOpen,
    DisputeResolution,
    LicenseGrant,
    LicenseState,
    LicenseTerms,
    Termination,
    TermsChange,
)
from workflows.license import LicenseWorkflow, workflow_id
from workflows.task_queues import cpu_queue

YEAR = timedelta(days=365)

LicenseHandle = WorkflowHandle[LicenseWorkflow, LicenseState]


@dataclass
class Licensed:
    env: WorkflowEnvironment
    engine: Engine
    settings: Settings
    brand: Tenant
    creator: CreatorAccount
    grant: LicenseGrant
    handle: LicenseHandle

    @property
    def client(self) -> Client:
        return self.env.client

    async def advance_to(self, moment: datetime) -> None:
        delta = moment - await self.env.get_current_time()
        assert delta > timedelta(0), f"{moment} is already past"
        async with asyncio.timeout(120):
            await self.env.sleep(delta)
        await self.state()  # a query answers once the workflow has caught up with the skip

    async def state(self) -> LicenseState:
        return await self.handle.query(LicenseWorkflow.state)

    def row(self) -> License:
        with Session(self.engine) as session:
            row = session.get(License, self.grant.license_id)
            assert row is not None
            return row

    def kinds(self) -> list[str]:
        with Session(self.engine) as session:
            return [e.kind for e in licenses.license_entries(session, self.grant.license_id)]

    def inbox(self, user_id: uuid.UUID, kind: str) -> list[Notification]:
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(Notification)
                    .where(Notification.user_id == user_id, Notification.kind == kind)
                    .order_by(col(Notification.created_at))
                )
            )

    def publish(self) -> uuid.UUID:
        with Session(self.engine) as session:
            row = licenses.add_publication(
                session,
                Publication(
                    workspace_id=self.brand.workspace_id,
                    asset_id=self.grant.asset_id,
                    license_id=self.grant.license_id,
                    channel="paid_social",
                    territory="US",
                    target="meta-ad-1234",
                    status=PublicationStatus.LIVE,
                ),
            )
            session.commit()
            return row.id

    def publication(self, publication_id: uuid.UUID) -> Publication:
        with Session(self.engine) as session:
            row = session.get(Publication, publication_id)
            assert row is not None
            return row

    def usage(self, at: datetime) -> licenses.UsageAnswer | None:
        with Session(self.engine) as session:
            return licenses.check_usage(
                session,
                self.grant.asset_id,
                self.brand.workspace_id,
                None,
                Use(channel="paid_social", territory="US", at=at),
            )

    def ledger_verdict(self) -> ledger.Verdict:
        signer = ledger.Signer(self.settings.licensing.signing_seed())
        with Session(self.engine) as session:
            return licenses.verify(session, {signer.key_id: signer.public_key})

    async def granted(self) -> None:
        async def has_row() -> bool:
            with Session(self.engine) as session:
                return session.get(License, self.grant.license_id) is not None

        await until(has_row)


@pytest.fixture
async def licensed(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> AsyncIterator[Licensed]:
    """A one-year paid-social license in the US and Canada, granted now, on a running worker."""
    env = time_skipping_env
    async with build_worker(env.client, settings, engine):
        brand, creator = make_tenant(engine), make_creator(engine)
        asset = make_delivered_asset(engine, brand, creator)
        now = await env.get_current_time()
        grant = LicenseGrant(
            license_id=uuid.uuid4(),
            workspace_id=brand.workspace_id,
            brand_id=brand.brand_id,
            creator_id=creator.creator_id,
            creator_user_id=creator.user_id,
            campaign_id=asset.campaign_id,
            delivery_id=asset.delivery_id,
            asset_id=asset.asset_id,
            asset_key="uploads/approved.mp4",
            terms=LicenseTerms(
                channels=["organic_social", "paid_social"],
                territories=["us", "CA"],
                starts_at=now,
                ends_at=now + YEAR,
                currency="USD",
            ),
        )
        handle = await env.client.start_workflow(
            LicenseWorkflow.run,
            grant,
            id=workflow_id(grant.license_id),
            task_queue=cpu_queue(settings.temporal.task_queue),
            execution_timeout=timedelta(days=1200),
        )
        world = Licensed(env, engine, settings, brand, creator, grant, handle)
        await world.granted()
        try:
            yield world
        finally:
            state = await handle.describe()
            if state.status is not None and state.status.name == "RUNNING":
                await handle.terminate("test over")


async def rejection(call: Awaitable[object]) -> str:
    """The reason the workflow gave for refusing an Update."""
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await call
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.message


async def test_both_parties_are_told_the_grant_in_words(licensed: Licensed) -> None:
    w = licensed
    ends = w.grant.terms.ends_at
    assert ends is not None
    expected = (
        "Organic social media, Paid social ads in Canada, United States, "
        f"until {ends.day} {ends:%B %Y}."
    )
    for user in (w.brand.user_id, w.creator.user_id):

        async def told(user_id: uuid.UUID = user) -> list[Notification]:
            # Written after the license row: the fixture only waited for the row.
            return w.inbox(user_id, "license_granted")

        [granted] = await until(told)
        assert granted.body == expected


async def test_a_year_ends_with_two_reminders_then_expiry_and_withdrawal(
    licensed: Licensed,
) -> None:
    w = licensed
    start = w.grant.terms.starts_at
    end = start + YEAR
    live = w.publish()
    allowed = w.usage(start + timedelta(days=1))
    assert allowed is not None and allowed.allowed
    assert w.kinds() == ["grant"]
    assert (await w.state()).next_reminder_at == end - timedelta(days=30)

    await w.advance_to(end - timedelta(days=30, minutes=1))
    assert w.inbox(w.brand.user_id, "license_expiring") == []
    await w.advance_to(end - timedelta(days=30) + timedelta(minutes=1))
    reminders = w.inbox(w.brand.user_id, "license_expiring")
    assert [r.title for r in reminders] == ["A license ends in 30 days"]
    assert "Renew it for another 365 days" in reminders[0].body

    await w.advance_to(end - timedelta(days=7) + timedelta(minutes=1))
    titles = [r.title for r in w.inbox(w.brand.user_id, "license_expiring")]
    assert titles == ["A license ends in 30 days", "A license ends in 7 days"]
    assert w.row().status == LicenseStatus.ACTIVE
    assert w.publication(live).status == PublicationStatus.LIVE

    await w.advance_to(end + timedelta(minutes=1))
    assert await w.handle.result() == await w.state()
    row = w.row()
    assert (row.status, row.end_reason) == (LicenseStatus.EXPIRED, "the term ended")
    withdrawn = w.publication(live)
    assert withdrawn.status == PublicationStatus.WITHDRAWN
    assert withdrawn.withdraw_reason == "license expired"
    for user in (w.brand.user_id, w.creator.user_id):
        assert len(w.inbox(user, "license_expired")) == 1
    refused = w.usage(end + timedelta(minutes=5))
    assert refused is not None and not refused.allowed
    assert refused.reason == "the license is expired (the term ended)"
    assert w.kinds() == ["grant", "expiry"]
    assert w.ledger_verdict().ok


async def test_a_renewal_both_parties_agree_to_extends_the_term_and_hands_its_fee_to_payouts(
    licensed: Licensed,
) -> None:
    w = licensed
    end = w.grant.terms.starts_at + YEAR
    await w.advance_to(end - timedelta(days=29))
    new_end = end + YEAR
    proposed = await w.handle.execute_update(
        LicenseWorkflow.propose_change,
        TermsChange(by="brand", ends_at=new_end, fee_minor=50_000, note="Another year?"),
    )
    assert proposed.pending_change is not None
    assert [n.body for n in w.inbox(w.creator.user_id, "license_change_proposed")] == [
        "Another year?"
    ]
    same_side = await rejection(
        w.handle.execute_update(
            LicenseWorkflow.answer_change, ChangeAnswer(by="brand", accept=True)
        )
    )
    assert same_side == "the other party answers a proposed change"

    renewed = await w.handle.execute_update(
        LicenseWorkflow.answer_change, ChangeAnswer(by="creator", accept=True)
    )
    assert renewed.terms.ends_at == new_end
    assert renewed.version == 2
    assert [(f.amount_minor, f.currency, f.reason) for f in renewed.fees] == [
        (50_000, "USD", "renewal")
    ]
    assert w.row().ends_at == new_end
    assert w.kinds() == ["grant", "renewal"]

    await w.advance_to(end + timedelta(days=1))
    assert w.row().status == LicenseStatus.ACTIVE
    allowed = w.usage(end + timedelta(hours=1))
    assert allowed is not None and allowed.allowed
    await w.advance_to(new_end - timedelta(days=30) + timedelta(minutes=1))
    # One 30-day reminder for the first term (before it was renewed) and one for the new term.
    titles = [r.title for r in w.inbox(w.brand.user_id, "license_expiring")]
    assert titles == ["A license ends in 30 days", "A license ends in 30 days"]
    assert w.ledger_verdict().ok


async def test_a_declined_or_invalid_change_changes_nothing(licensed: Licensed) -> None:
    w = licensed
    past = await rejection(
        w.handle.execute_update(
            LicenseWorkflow.propose_change,
            TermsChange(by="creator", ends_at=w.grant.terms.starts_at - timedelta(days=1)),
        )
    )
    assert past == "the new end must be in the future"
    await w.handle.execute_update(
        LicenseWorkflow.propose_change, TermsChange(by="creator", territories=["WW"])
    )
    twice = await rejection(
        w.handle.execute_update(
            LicenseWorkflow.propose_change, TermsChange(by="brand", territories=["DE"])
        )
    )
    assert twice == "another change is waiting for an answer"
    declined = await w.handle.execute_update(
        LicenseWorkflow.answer_change, ChangeAnswer(by="brand", accept=False, note="Not now")
    )
    assert declined.pending_change is None
    assert declined.terms.territories == ["CA", "US"]
    assert declined.version == 1
    assert [n.body for n in w.inbox(w.creator.user_id, "license_change_declined")] == ["Not now"]
    assert w.kinds() == ["grant"]


async def test_perpetual_rights_proposed_by_the_brand_need_the_creator_to_accept(
    licensed: Licensed,
) -> None:
    w = licensed
    await w.handle.execute_update(
        LicenseWorkflow.propose_change, TermsChange(by="brand", perpetual=True, fee_minor=200_000)
    )
    state = await w.handle.execute_update(
        LicenseWorkflow.answer_change, ChangeAnswer(by="creator", accept=True)
    )
    assert state.terms.ends_at is None and state.terms.perpetual_consent
    assert state.next_reminder_at is None
    await w.advance_to(w.grant.terms.starts_at + YEAR + timedelta(days=1))
    assert w.row().status == LicenseStatus.ACTIVE
    assert w.kinds() == ["grant", "renewal"]


async def test_the_brand_terminates_early_and_the_asset_is_withdrawn(licensed: Licensed) -> None:
    w = licensed
    live = w.publish()
    state = await w.handle.execute_update(
        LicenseWorkflow.terminate, Termination(reason="Campaign pulled")
    )
    assert state.status == LicenseStatus.TERMINATED
    await w.handle.result()
    row = w.row()
    assert (row.status, row.end_reason) == (LicenseStatus.TERMINATED, "Campaign pulled")
    assert w.publication(live).status == PublicationStatus.WITHDRAWN
    assert [n.body for n in w.inbox(w.creator.user_id, "license_terminated")] == ["Campaign pulled"]
    assert w.kinds() == ["grant", "termination"]
    assert w.ledger_verdict().ok


async def test_a_dispute_suspends_use_until_ops_reinstate_or_terminate(
    licensed: Licensed,
) -> None:
    w = licensed
    live = w.publish()
    now = await w.env.get_current_time()
    suspended = await w.handle.execute_update(
        LicenseWorkflow.dispute, DisputeOpen(by="creator", reason="Used beyond the territory")
    )
    assert suspended.status == LicenseStatus.SUSPENDED
    assert suspended.dispute_reason == "Used beyond the territory"
    refused = w.usage(now + timedelta(minutes=1))
    assert refused is not None and not refused.allowed
    assert refused.reason == "the license is suspended while a dispute is open"
    assert w.publication(live).status == PublicationStatus.WITHDRAWN
    change = await rejection(
        w.handle.execute_update(
            LicenseWorkflow.propose_change, TermsChange(by="brand", territories=["WW"])
        )
    )
    assert change == "not possible while the license is suspended"

    reinstated = await w.handle.execute_update(
        LicenseWorkflow.resolve_dispute,
        DisputeResolution(outcome="reinstate", reason="Use was within the license"),
    )
    assert reinstated.status == LicenseStatus.ACTIVE and reinstated.dispute_reason is None
    allowed = w.usage(now + timedelta(minutes=2))
    assert allowed is not None and allowed.allowed
    again = await rejection(
        w.handle.execute_update(
            LicenseWorkflow.resolve_dispute, DisputeResolution(outcome="terminate", reason="x")
        )
    )
    assert again == "not possible while the license is active"

    await w.handle.execute_update(
        LicenseWorkflow.dispute, DisputeOpen(by="brand", reason="Creator revoked consent")
    )
    ended = await w.handle.execute_update(
        LicenseWorkflow.resolve_dispute,
        DisputeResolution(outcome="terminate", reason="Consent withdrawn"),
    )
    assert ended.status == LicenseStatus.TERMINATED
    await w.handle.result()
    assert w.kinds() == [
        "grant", "dispute_opened", "dispute_resolved", "dispute_opened", "dispute_resolved",
    ]  # fmt: skip
    assert w.row().status == LicenseStatus.TERMINATED
    assert w.ledger_verdict().ok
