"""The creator side of recruiting: open campaigns that fit, applications, invitations and
counter-offers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session

from api.deps import CreatorDep, DatabaseDep, SettingsDep, TemporalDep
from api.routers.campaigns import application_public
from api.schemas import (
    ApplicationCreate,
    ApplicationPublic,
    BriefPublic,
    DeliverablePublic,
    MarketplaceCampaign,
    Offset,
    ResponseCreate,
)
from api.workflow_calls import execute_update
from domain.enums import CampaignVisibility
from models import applications, campaigns, creators
from models.campaigns import Brief, Campaign, CampaignRecord
from nexus.errors import NotFound
from workflows.campaign import CampaignWorkflow, workflow_id
from workflows.contracts.campaign import ApplicationState, Apply, Respond

router = APIRouter(tags=["marketplace"])


def _listing(
    campaign: Campaign, brief: Brief, record: CampaignRecord | None
) -> MarketplaceCampaign:
    return MarketplaceCampaign(
        id=campaign.id,
        title=campaign.title,
        stage=campaign.stage,
        currency=campaign.currency,
        brief=BriefPublic.model_validate(brief, from_attributes=True),
        deliverables=[
            DeliverablePublic.model_validate(d, from_attributes=True)
            for d in (record.deliverables if record else [])
        ],
    )


@router.get("/marketplace/campaigns")
async def open_campaigns(
    creator: CreatorDep,
    db: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Offset = 0,
) -> list[MarketplaceCampaign]:
    """Open campaigns still recruiting that fit the creator's niches and country."""

    def query(session: Session) -> list[MarketplaceCampaign]:
        profile = creators.get_profile(session, creator.creator_id)
        assert profile is not None
        rows = campaigns.list_open_campaigns(
            session,
            now=datetime.now(UTC),
            niches=profile.niches,
            country=profile.country,
            limit=limit,
            offset=offset,
        )
        return [
            _listing(c, b, campaigns.get_campaign(session, c.workspace_id, c.id)) for c, b in rows
        ]

    return await db.run(query)


async def _open_record(db: DatabaseDep, campaign_id: uuid.UUID) -> CampaignRecord:
    record = await db.run(campaigns.get_public_campaign, campaign_id)
    if record is None or record.campaign.visibility != CampaignVisibility.OPEN:
        raise NotFound("no such open campaign")
    return record


@router.get("/marketplace/campaigns/{campaign_id}")
async def open_campaign(
    campaign_id: uuid.UUID, creator: CreatorDep, db: DatabaseDep
) -> MarketplaceCampaign:
    record = await _open_record(db, campaign_id)
    return _listing(record.campaign, record.brief, record)


@router.post("/marketplace/campaigns/{campaign_id}/applications", status_code=201)
async def apply(
    campaign_id: uuid.UUID,
    body: ApplicationCreate,
    creator: CreatorDep,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> ApplicationPublic:
    """Apply for one deliverable with a pitch and a proposed price."""
    await _open_record(db, campaign_id)
    state = await execute_update(
        temporal,
        settings.api,
        workflow_id(campaign_id),
        CampaignWorkflow.apply,
        Apply(
            application_id=uuid.uuid4(),
            creator_id=creator.creator_id,
            creator_user_id=creator.user_id,
            **body.model_dump(),
        ),
        result_type=ApplicationState,
    )
    return await application_public(db, state.id)


@router.get("/creator/applications")
async def my_applications(creator: CreatorDep, db: DatabaseDep) -> list[ApplicationPublic]:
    """The creator's applications, invitations and counter-offers."""
    rows = await db.run(applications.list_for_creator, creator.creator_id)
    return [ApplicationPublic.model_validate(a, from_attributes=True) for a in rows]


@router.post("/creator/applications/{application_id}/response")
async def respond(
    application_id: uuid.UUID,
    body: ResponseCreate,
    creator: CreatorDep,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> ApplicationPublic:
    """Accept or decline an invitation or a counter-offer."""
    row = await db.run(applications.get_application, application_id)
    if row is None or row.creator_id != creator.creator_id:
        raise NotFound("no such application of yours")
    state = await execute_update(
        temporal,
        settings.api,
        workflow_id(row.campaign_id),
        CampaignWorkflow.respond,
        Respond(application_id=application_id, creator_id=creator.creator_id, accept=body.accept),
        result_type=ApplicationState,
    )
    return await application_public(db, state.id)
