"""Campaign activities: persist the campaign read model."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.enums import CampaignStage
from models.applications import Application, upsert_application
from models.campaigns import (
    Brief,
    Campaign,
    CampaignRecord,
    Deliverable,
    insert_campaign_if_absent,
    record_live,
    replace_draft,
    set_campaign_stage,
)
from models.db import session_scope
from workflows.contracts.campaign import (
    ApplicationChange,
    CampaignDraft,
    CampaignLive,
    DraftChange,
    StageChange,
)


def initial_live(draft: CampaignDraft) -> CampaignLive:
    """The live state of a new draft: every slot open, nothing committed (seq 1, as the
    workflow counts on)."""
    return CampaignLive(
        campaign_id=draft.campaign_id,
        seq=1,
        open_slots={str(d.id): d.quantity for d in draft.deliverables},
    )


def _record_from_draft(draft: CampaignDraft) -> CampaignRecord:
    brief = draft.brief
    live = initial_live(draft)
    return CampaignRecord(
        campaign=Campaign(
            id=draft.campaign_id,
            workspace_id=draft.workspace_id,
            brand_id=draft.brand_id,
            title=draft.title,
            visibility=draft.visibility,
            stage=CampaignStage.DRAFT,
            currency=draft.budget.currency,
            budget_minor=draft.budget.amount_minor,
            created_by=draft.created_by,
            created_at=draft.created_at,
            updated_at=draft.created_at,
            open_slots=live.open_slots,
            live_seq=live.seq,
        ),
        brief=Brief(
            campaign_id=draft.campaign_id,
            workspace_id=draft.workspace_id,
            **brief.model_dump(exclude={"usage_rights"}),
            usage_rights=brief.usage_rights.model_dump(),
        ),
        deliverables=[
            Deliverable(
                campaign_id=draft.campaign_id, workspace_id=draft.workspace_id, **d.model_dump()
            )
            for d in draft.deliverables
        ],
    )


class CampaignActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="campaigns.create_record")
    def create_record(self, draft: CampaignDraft) -> None:
        # Idempotent: a retried or replayed attempt finds the row and does nothing.
        with session_scope(self._engine) as session:
            insert_campaign_if_absent(session, _record_from_draft(draft))

    @activity.defn(name="campaigns.record_draft")
    def record_draft(self, change: DraftChange) -> None:
        """The edited draft: campaign, brief and deliverables as the brand left them (a retry
        writes the same again)."""
        with session_scope(self._engine) as session:
            if not replace_draft(session, _record_from_draft(change.draft), change.live):
                raise ApplicationError(
                    f"campaign {change.draft.campaign_id} is not stored",
                    type="CampaignMissing",
                    non_retryable=True,
                )

    @activity.defn(name="campaigns.record_stage")
    def record_stage(self, change: StageChange) -> None:
        """The stage, and the live state with it (also sent alone, with an unchanged stage)."""
        with session_scope(self._engine) as session:
            if not set_campaign_stage(session, change.campaign_id, change.stage, change.live):
                raise ApplicationError(
                    f"campaign {change.campaign_id} is not stored",
                    type="CampaignMissing",
                    non_retryable=True,
                )

    @activity.defn(name="campaigns.record_application")
    def record_application(self, change: ApplicationChange) -> None:
        a = change.application
        with session_scope(self._engine) as session:
            upsert_application(
                session,
                Application(
                    id=a.id,
                    campaign_id=change.campaign_id,
                    workspace_id=change.workspace_id,
                    deliverable_id=a.deliverable_id,
                    creator_id=a.creator_id,
                    origin=a.origin,
                    status=a.status,
                    pitch=a.pitch,
                    price_minor=a.price_minor,
                    counter_price_minor=a.counter_price_minor,
                    delivery_id=a.delivery_id,
                ),
            )
            if change.live is not None:
                record_live(session, change.live)
