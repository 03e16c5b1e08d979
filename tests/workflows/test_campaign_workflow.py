from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from domain.enums import ApplicationStatus, CampaignStage, DeliverableFormat
from models.applications import Application
from models.campaigns import Campaign, get_campaign
from models.notifications import Notification
from nexus.settings import Settings
from tests.support import CreatorAccount, fund_in_ledger, make_creator, make_tenant
from workers.cpu.main import WORKFLOWS, build_worker
from workflows import search_attributes as sa
from workflows.campaign import CampaignWorkflow, workflow_id
from workflows.contracts.campaign import (
    ApplicationState,
    Apply,
    BriefSpec,
    CampaignDraft,
    CampaignEdit,
    CampaignStatus,
    CancelCampaign,
    Decide,
    DeliverableSpec,
    DeliveryOutcome,
    Invite,
    Money,
)
from workflows.delivery import workflow_id as delivery_workflow_id
from workflows.task_queues import cpu_queue


def draft_for(engine: Engine) -> CampaignDraft:
    tenant = make_tenant(engine)
    return CampaignDraft(
        campaign_id=uuid.uuid4(),
        workspace_id=tenant.workspace_id,
        brand_id=tenant.brand_id,
        created_by=tenant.user_id,
        title="Winter hydration",
        budget=Money(amount_minor=300_000, currency="EUR"),
        brief=BriefSpec(product="Hydra cream", objective="Conversions"),
        deliverables=[
            DeliverableSpec(
                id=uuid.uuid4(), format=DeliverableFormat.VIDEO_9_16, price_minor=50_000
            )
        ],
        created_at=datetime.now(UTC),
    )


async def run_draft_then_cancel(client: Client, settings: Settings, engine: Engine) -> None:
    draft = draft_for(engine)
    async with build_worker(client, settings, engine):
        handle = await client.start_workflow(
            CampaignWorkflow.run,
            draft,
            id=workflow_id(draft.campaign_id),
            task_queue=cpu_queue(settings.temporal.task_queue),
            execution_timeout=timedelta(minutes=5),
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(sa.CAMPAIGN_ID, str(draft.campaign_id))]
            ),
        )
        recorded = await handle.execute_update(CampaignWorkflow.wait_recorded)
        assert recorded.stage == CampaignStage.DRAFT and recorded.recorded
        with Session(engine) as session:
            stored = session.get(Campaign, draft.campaign_id)
            assert stored is not None and stored.stage == CampaignStage.DRAFT

        cancelled = await handle.execute_update(
            CampaignWorkflow.cancel, CancelCampaign(reason="brand paused spend")
        )
        assert cancelled.stage == CampaignStage.CANCELLED
        assert cancelled.cancel_reason == "brand paused spend"
        result = await handle.result()
        assert result.stage == CampaignStage.CANCELLED

        # Cancelling a closed campaign is refused and changes nothing.
        with pytest.raises((WorkflowUpdateFailedError, RPCError)):
            await handle.execute_update(CampaignWorkflow.cancel, CancelCampaign(reason="again"))

        description = await handle.describe()
        assert description.typed_search_attributes.get(sa.STAGE) == "cancelled"
        assert description.typed_search_attributes.get(sa.CAMPAIGN_ID) == str(draft.campaign_id)
    with Session(engine) as session:
        stored = session.get(Campaign, draft.campaign_id)
        assert stored is not None and stored.stage == CampaignStage.CANCELLED


async def test_campaign_records_draft_and_cancels_on_the_time_skipping_server(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    await run_draft_then_cancel(time_skipping_env.client, settings, engine)


async def test_campaign_records_draft_and_cancels_on_the_dev_server(
    client: Client, settings: Settings, engine: Engine
) -> None:
    await run_draft_then_cancel(client, settings, engine)


async def test_recording_is_idempotent_when_the_activity_runs_twice(
    settings: Settings, engine: Engine
) -> None:
    from activities.campaigns import CampaignActivities
    from tests.support import count_rows

    draft = draft_for(engine)
    activities = CampaignActivities(engine)
    activities.create_record(draft)
    activities.create_record(draft)
    assert count_rows(engine, "campaigns") == 1
    assert count_rows(engine, "deliverables") == 1


# --- stages that follow the work, closing early, editing the draft ------------------------


def history_kept(name: str) -> Path | None:
    """Where to record a replay history (NEXUS_RECORD_HISTORIES=1), or None."""
    if not os.environ.get("NEXUS_RECORD_HISTORIES"):
        return None
    return Path(__file__).parent.parent / "histories" / f"{name}.json"


async def replays(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """The run's history replays against today's code (and is recorded when asked)."""
    history = await handle.fetch_history()
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
    if (path := history_kept(name)) is not None:
        path.write_text(history.to_json())


@dataclass
class Live:
    """A campaign workflow under test on a CPU worker, with its read model."""

    client: Client
    engine: Engine
    draft: CampaignDraft
    handle: WorkflowHandle[Any, Any]

    @property
    def deliverable_id(self) -> uuid.UUID:
        return self.draft.deliverables[0].id

    async def fund_and_publish(self) -> None:
        d = self.draft
        funding = fund_in_ledger(
            self.engine, d.campaign_id, d.workspace_id, d.budget.amount_minor, d.budget.currency
        )
        await self.handle.signal(CampaignWorkflow.funded, funding)
        published = await self.handle.execute_update(CampaignWorkflow.publish)
        assert published.stage == CampaignStage.PUBLISHED

    async def apply(self, creator: CreatorAccount, price: int = 40_000) -> ApplicationState:
        state: ApplicationState = await self.handle.execute_update(
            CampaignWorkflow.apply,
            Apply(
                application_id=uuid.uuid4(),
                creator_id=creator.creator_id,
                creator_user_id=creator.user_id,
                deliverable_id=self.deliverable_id,
                pitch="Morning routine with the cream",
                price_minor=price,
            ),
        )
        return state

    async def invite(self, creator: CreatorAccount) -> ApplicationState:
        state: ApplicationState = await self.handle.execute_update(
            CampaignWorkflow.invite,
            Invite(
                application_id=uuid.uuid4(),
                creator_id=creator.creator_id,
                creator_user_id=creator.user_id,
                deliverable_id=self.deliverable_id,
                price_minor=45_000,
            ),
        )
        return state

    async def accept(self, application: ApplicationState) -> ApplicationState:
        state: ApplicationState = await self.handle.execute_update(
            CampaignWorkflow.decide, Decide(application_id=application.id, action="accept")
        )
        return state

    async def status(self) -> CampaignStatus:
        status: CampaignStatus = await self.handle.query(CampaignWorkflow.status)
        return status

    def row(self) -> Campaign:
        with Session(self.engine) as session:
            found = session.get(Campaign, self.draft.campaign_id)
            assert found is not None
            return found

    def application(self, state: ApplicationState) -> ApplicationStatus:
        with Session(self.engine) as session:
            found = session.get(Application, state.id)
            assert found is not None
            return found.status

    def inbox(self, user_id: uuid.UUID) -> list[tuple[str, str]]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(Notification)
                .where(Notification.user_id == user_id)
                .order_by(col(Notification.created_at))
            ).all()
            return [(n.kind, n.title) for n in rows]

    async def stop_deliveries(self) -> None:
        """The accepted creators' deliveries outlive the campaign: stop them with the test."""
        with Session(self.engine) as session:
            ids = session.exec(
                select(Application.delivery_id).where(
                    Application.campaign_id == self.draft.campaign_id,
                    col(Application.delivery_id).is_not(None),
                )
            ).all()
        for delivery_id in ids:
            with contextlib.suppress(RPCError):
                await self.client.get_workflow_handle(delivery_workflow_id(delivery_id)).terminate()


@contextlib.asynccontextmanager
async def live_campaign(
    client: Client, settings: Settings, engine: Engine, *, quantity: int = 1
) -> AsyncIterator[Live]:
    """A recorded draft (one deliverable of `quantity` creator slots at 40,000 EUR cents,
    applications open for a day) on a CPU worker."""
    draft = draft_for(engine)
    draft.deliverables[0].quantity = quantity
    draft.deliverables[0].price_minor = 40_000
    draft.brief.application_deadline = datetime.now(UTC) + timedelta(days=1)
    async with build_worker(client, settings, engine):
        handle = await client.start_workflow(
            CampaignWorkflow.run,
            draft,
            id=workflow_id(draft.campaign_id),
            task_queue=cpu_queue(settings.temporal.task_queue),
            execution_timeout=timedelta(minutes=5),
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(sa.CAMPAIGN_ID, str(draft.campaign_id))]
            ),
        )
        live = Live(client, engine, draft, handle)
        await handle.execute_update(CampaignWorkflow.wait_recorded)
        try:
            yield live
        finally:
            await live.stop_deliveries()
            with contextlib.suppress(RPCError):
                await handle.terminate()


async def test_production_starts_once_every_slot_is_taken_and_the_campaign_completes_when_all_is_delivered(  # noqa: E501
    client: Client, settings: Settings, engine: Engine
) -> None:
    async with live_campaign(client, settings, engine, quantity=2) as c:
        await c.fund_and_publish()
        first, second, third = make_creator(engine), make_creator(engine), make_creator(engine)
        apps = [await c.apply(first), await c.apply(second), await c.apply(third)]
        invited = await c.invite(make_creator(engine))

        await c.accept(apps[0])
        assert (await c.status()).stage == CampaignStage.RECRUITING
        await c.accept(apps[1])

        # The last slot taken: production starts at once, a day before the deadline.
        status = await c.status()
        assert status.stage == CampaignStage.IN_PRODUCTION
        assert status.open_slots == {str(c.deliverable_id): 0}
        row = c.row()
        assert (row.stage, row.open_slots) == (
            CampaignStage.IN_PRODUCTION,
            {str(c.deliverable_id): 0},
        )
        # Whoever still waited is told the places are filled.
        assert c.application(apps[2]) == ApplicationStatus.EXPIRED
        assert c.application(invited) == ApplicationStatus.EXPIRED
        assert ("application_slots_filled", "Places filled: Winter hydration") in c.inbox(
            third.user_id
        )
        assert ("production_started", "Every creator place is filled") in c.inbox(
            c.draft.created_by
        )
        late = make_creator(engine)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await c.apply(late)
        assert "not taking applications" in str(refused.value.cause)

        # Every delivery done: the campaign completes.
        for app in apps[:2]:
            with Session(engine) as session:
                stored = session.get(Application, app.id)
                assert stored is not None and stored.delivery_id is not None
                delivery_id = stored.delivery_id
            await c.handle.signal(
                CampaignWorkflow.delivery_outcome,
                DeliveryOutcome(delivery_id=delivery_id, outcome="completed"),
            )
        result = await c.handle.result()
        assert result.stage == CampaignStage.COMPLETED
        assert c.row().stage == CampaignStage.COMPLETED
        await replays(c.handle, "campaign_slots_filled_to_completed")


async def test_closing_applications_early_starts_production_with_the_creators_accepted(
    client: Client, settings: Settings, engine: Engine
) -> None:
    async with live_campaign(client, settings, engine, quantity=3) as c:
        await c.fund_and_publish()
        chosen, waiting, invited = make_creator(engine), make_creator(engine), make_creator(engine)
        await c.accept(await c.apply(chosen))
        pending = await c.apply(waiting)
        invitation = await c.invite(invited)

        closed = await c.handle.execute_update(CampaignWorkflow.close_recruiting)

        assert closed.stage == CampaignStage.IN_PRODUCTION
        # The places nobody took lapse: nothing is open any more.
        assert closed.open_slots == {str(c.deliverable_id): 0}
        assert c.row().stage == CampaignStage.IN_PRODUCTION
        assert c.application(pending) == ApplicationStatus.EXPIRED
        assert c.application(invitation) == ApplicationStatus.EXPIRED
        for creator in (waiting, invited):
            assert ("applications_closed", "Applications closed: Winter hydration") in c.inbox(
                creator.user_id
            )
        with pytest.raises(WorkflowUpdateFailedError) as again:
            await c.handle.execute_update(CampaignWorkflow.close_recruiting)
        assert "in production" in str(again.value.cause)


async def test_a_draft_is_edited_until_it_is_published_and_closing_with_nobody_cancels_it(
    client: Client, settings: Settings, engine: Engine
) -> None:
    async with live_campaign(client, settings, engine) as c:
        with pytest.raises(WorkflowUpdateFailedError) as not_yet:
            await c.handle.execute_update(CampaignWorkflow.close_recruiting)
        assert "the campaign is still a draft" in str(not_yet.value.cause)

        new_deliverable = DeliverableSpec(
            id=uuid.uuid4(), format=DeliverableFormat.PHOTO, quantity=3, price_minor=20_000
        )
        edited = await c.handle.execute_update(
            CampaignWorkflow.edit,
            CampaignEdit(
                title="Winter hydration, second cut",
                budget=Money(amount_minor=200_000, currency="EUR"),
                deliverables=[new_deliverable],
            ),
        )
        assert edited.budget_minor == 200_000
        assert edited.open_slots == {str(new_deliverable.id): 3}
        with Session(engine) as session:
            record = get_campaign(session, c.draft.workspace_id, c.draft.campaign_id)
        assert record is not None
        assert (record.campaign.title, record.campaign.budget_minor) == (
            "Winter hydration, second cut",
            200_000,
        )
        assert [(d.id, d.format, d.quantity) for d in record.deliverables] == [
            (new_deliverable.id, DeliverableFormat.PHOTO, 3)
        ]
        # What the edit left out stays as it was.
        assert record.brief.product == "Hydra cream"
        assert record.campaign.open_slots == {str(new_deliverable.id): 3}

        over = CampaignEdit(budget=Money(amount_minor=50_000, currency="EUR"))
        with pytest.raises(WorkflowUpdateFailedError) as too_dear:
            await c.handle.execute_update(CampaignWorkflow.edit, over)
        assert "over the budget of €500.00" in str(too_dear.value.cause)

        c.draft = c.draft.model_copy(update={"budget": Money(amount_minor=200_000, currency="EUR")})
        await c.fund_and_publish()
        with pytest.raises(WorkflowUpdateFailedError) as published:
            await c.handle.execute_update(CampaignWorkflow.edit, CampaignEdit(title="Later"))
        assert "only a draft can be edited" in str(published.value.cause)

        creator = make_creator(engine)
        application = await c.handle.execute_update(
            CampaignWorkflow.apply,
            Apply(
                application_id=uuid.uuid4(), creator_id=creator.creator_id,
                creator_user_id=creator.user_id, deliverable_id=new_deliverable.id,
                pitch="Flat lay", price_minor=20_000,
            ),
        )  # fmt: skip
        closed = await c.handle.execute_update(CampaignWorkflow.close_recruiting)
        assert closed.stage == CampaignStage.CANCELLED
        assert closed.cancel_reason == "applications closed before any creator was accepted"
        assert c.application(application) == ApplicationStatus.EXPIRED
        result = await c.handle.result()
        assert result.stage == CampaignStage.CANCELLED
        assert c.row().stage == CampaignStage.CANCELLED
        await replays(c.handle, "campaign_edited_then_closed_early")


async def test_the_budget_of_a_funded_draft_keeps_its_currency_and_does_not_drop_below_the_funding(
    client: Client, settings: Settings, engine: Engine
) -> None:
    async with live_campaign(client, settings, engine) as c:
        d = c.draft
        await c.handle.signal(
            CampaignWorkflow.funded,
            fund_in_ledger(engine, d.campaign_id, d.workspace_id, 300_000, "EUR"),
        )
        for budget, message in [
            (Money(amount_minor=200_000, currency="EUR"), "€3,000.00 is funded already"),
            (Money(amount_minor=300_000, currency="USD"), "funded in EUR"),
        ]:
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await c.handle.execute_update(CampaignWorkflow.edit, CampaignEdit(budget=budget))
            assert message in str(refused.value.cause)
        raised = await c.handle.execute_update(
            CampaignWorkflow.edit, CampaignEdit(budget=Money(amount_minor=400_000, currency="EUR"))
        )
        assert (raised.budget_minor, raised.funded_minor) == (400_000, 300_000)
