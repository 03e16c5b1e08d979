"""CampaignWorkflow (`campaign-<id>`): the life of one campaign, from draft on."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.campaigns import CampaignActivities
    from models.enums import CampaignStage
    from workflows import search_attributes as sa
    from workflows.contracts.campaign import (
        CampaignDraft,
        CampaignStatus,
        CancelCampaign,
        StageChange,
    )

DB_TIMEOUT = timedelta(seconds=30)
DB_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))

CLOSED_STAGES = frozenset({CampaignStage.COMPLETED, CampaignStage.CANCELLED})


def workflow_id(campaign_id: object) -> str:
    return f"campaign-{campaign_id}"


@workflow.defn
class CampaignWorkflow:
    @workflow.init
    def __init__(self, draft: CampaignDraft) -> None:
        self._campaign_id = draft.campaign_id
        self._stage = CampaignStage.DRAFT
        self._recorded = False
        self._cancel_reason: str | None = None
        self._stage_recorded = True

    @workflow.run
    async def run(self, draft: CampaignDraft) -> CampaignStatus:
        await workflow.execute_activity_method(
            CampaignActivities.create_record,
            draft,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        self._recorded = True
        await workflow.wait_condition(lambda: self._cancel_reason is not None)
        await self._enter(CampaignStage.CANCELLED)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    async def _enter(self, stage: CampaignStage) -> None:
        self._stage, self._stage_recorded = stage, False
        workflow.upsert_search_attributes([sa.STAGE.value_set(stage.value)])
        await workflow.execute_activity_method(
            CampaignActivities.record_stage,
            StageChange(campaign_id=self._campaign_id, stage=stage),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        self._stage_recorded = True

    @workflow.query
    def status(self) -> CampaignStatus:
        return CampaignStatus(
            campaign_id=self._campaign_id,
            stage=self._stage,
            recorded=self._recorded,
            cancel_reason=self._cancel_reason,
        )

    @workflow.update
    async def wait_recorded(self) -> CampaignStatus:
        """Answers once the draft is in the read model, so the API can return it at once."""
        await workflow.wait_condition(lambda: self._recorded)
        return self.status()

    @workflow.update
    async def cancel(self, request: CancelCampaign) -> CampaignStatus:
        self._cancel_reason = request.reason
        # Answer once the read model shows it too, so a following read agrees.
        await workflow.wait_condition(
            lambda: self._stage == CampaignStage.CANCELLED and self._stage_recorded
        )
        return self.status()

    @cancel.validator
    def _validate_cancel(self, request: CancelCampaign) -> None:
        if self._stage in CLOSED_STAGES or self._cancel_reason is not None:
            raise ApplicationError(f"campaign is already {self._stage}", type="InvalidStage")
