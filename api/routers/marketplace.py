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
    MarketplaceDeliverable,
    Offset,
    ResponseCreate,
    RightsLine,
)
from api.workflow_calls import execute_update
from domain import words
from domain.brief_words import deliverable_words, usage_rights_words
from models import applications, campaigns, creators
from models.campaigns import MarketplaceEntry
from nexus.errors import AppError, Conflict, FieldProblem, NotFound, ValidationFailed
from workflows.campaign import CampaignWorkflow, workflow_id
from workflows.contracts.campaign import ApplicationState, Apply, Respond

router = APIRouter(tags=["marketplace"])


def listing(entry: MarketplaceEntry, now: datetime) -> MarketplaceCampaign:
    """The campaign as its marketplace card and brief page show it, terms in words."""
    campaign, currency = entry.campaign, entry.campaign.currency
    brief = BriefPublic.model_validate(entry.brief, from_attributes=True)
    deliverables = [
        MarketplaceDeliverable(
            **DeliverablePublic.model_validate(d, from_attributes=True).model_dump(),
            open_slots=entry.open_slots(d),
            applied=d.id in entry.applied,
            summary=deliverable_words(
                d.format, d.duration_s, d.quantity, words.money(d.price_minor, currency)
            ),
        )
        for d in entry.deliverables
    ]
    return MarketplaceCampaign(
        id=campaign.id,
        title=campaign.title,
        brand_name=entry.brand_name,
        stage=campaign.stage,
        currency=currency,
        brief=brief,
        deliverables=deliverables,
        usage_rights_summary=[
            RightsLine(key=t.key, label=t.label, text=t.text)
            for t in usage_rights_words(brief.usage_rights.model_dump(), currency)
        ],
        taking_applications=entry.taking_applications(now) and bool(entry.choices()),
    )


@router.get("/marketplace/campaigns")
async def open_campaigns(
    creator: CreatorDep,
    db: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Offset = 0,
) -> list[MarketplaceCampaign]:
    """Campaigns taking applications that fit the creator's niches and country, with a
    place still open in a deliverable the creator has not applied for yet; soonest
    application deadline first."""
    now = datetime.now(UTC)

    def query(session: Session) -> list[MarketplaceEntry]:
        profile = creators.get_profile(session, creator.creator_id)
        assert profile is not None
        return campaigns.list_open_campaigns(
            session,
            creator_id=creator.creator_id,
            now=now,
            niches=profile.niches,
            country=profile.country,
            limit=limit,
            offset=offset,
        )

    return [listing(entry, now) for entry in await db.run(query)]


async def open_entry(
    db: DatabaseDep, campaign_id: uuid.UUID, creator_id: uuid.UUID
) -> MarketplaceEntry:
    """A published open campaign, however full; 404 for drafts and invitation-only ones."""
    entry = await db.run(campaigns.get_marketplace_entry, campaign_id, creator_id)
    if entry is None:
        raise NotFound("no such open campaign")
    return entry


@router.get("/marketplace/campaigns/{campaign_id}")
async def open_campaign(
    campaign_id: uuid.UUID, creator: CreatorDep, db: DatabaseDep
) -> MarketplaceCampaign:
    """The campaign's full brief, deliverables with their open places, and usage rights."""
    return listing(await open_entry(db, campaign_id, creator.creator_id), datetime.now(UTC))


def refusal(entry: MarketplaceEntry, deliverable_id: uuid.UUID, now: datetime) -> AppError | None:
    """Why the creator cannot apply for this deliverable now, in words; None if they can.
    The campaign's process decides again (a place may go between this read and the apply)."""
    closed = entry.closed_reason(now)
    if closed is not None:
        return Conflict(closed)
    deliverable = next((d for d in entry.deliverables if d.id == deliverable_id), None)
    if deliverable is None:
        return ValidationFailed(
            "no such deliverable",
            errors=[FieldProblem("body.deliverable_id", "not a deliverable of this campaign")],
        )
    if deliverable_id in entry.applied:
        return Conflict(
            "You have already applied for this deliverable (or were invited to it): "
            "see your applications."
        )
    if entry.open_slots(deliverable) <= 0:
        other = "choose another deliverable" if entry.choices() else "look for another campaign"
        return Conflict(f"Every creator slot for this deliverable is taken; {other}.")
    return None


@router.post("/marketplace/campaigns/{campaign_id}/applications", status_code=201)
async def apply(
    campaign_id: uuid.UUID,
    body: ApplicationCreate,
    creator: CreatorDep,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> ApplicationPublic:
    """Apply for one deliverable with a pitch and a proposed price. Refused (409) once the
    campaign stops taking applications, for a deliverable whose creator slots are all
    taken, and for one the creator already applied for."""
    entry = await open_entry(db, campaign_id, creator.creator_id)
    problem = refusal(entry, body.deliverable_id, datetime.now(UTC))
    if problem is not None:
        raise problem
    profile = await db.run(creators.get_profile, creator.creator_id)
    state = await execute_update(
        temporal,
        settings.api,
        workflow_id(campaign_id),
        CampaignWorkflow.apply,
        Apply(
            application_id=uuid.uuid4(),
            creator_id=creator.creator_id,
            creator_user_id=creator.user_id,
            creator_languages=profile.languages if profile else [],
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
