from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.enums import CampaignStage, DeliverableFormat
from models.campaigns import Campaign
from nexus.settings import Settings
from tests.support import make_tenant
from workers.cpu.main import build_worker
from workflows import search_attributes as sa
from workflows.campaign import CampaignWorkflow, workflow_id
from workflows.contracts.campaign import (
    BriefSpec,
    CampaignDraft,
    CancelCampaign,
    DeliverableSpec,
    Money,
)
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
