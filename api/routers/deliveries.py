"""Deliveries: the creator's guided tasks and the brand's review queue.

Live state (tasks, what is due next) comes from the DeliveryWorkflow query; lists come from
the read model. A brand sees its workspace's deliveries, a creator their own; anyone else
gets 404.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlmodel import Session
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from activities.licensing.terms import Exclusivity, Period
from api.deps import (
    CreatorDep,
    DatabaseDep,
    Principal,
    PrincipalDep,
    SettingsDep,
    TemporalDep,
    allow,
)
from api.schemas import (
    BriefAcceptanceCreate,
    DeadlineCreate,
    DeliveryPublic,
    DeliverySummary,
    DraftCreate,
    ExtraRevisionCreate,
    FinalCreate,
    ReassignCreate,
    ResponseCreate,
    ReviewCreate,
    ScriptCreate,
    SubmissionPublic,
)
from api.services import TemporalGateway
from api.workflow_calls import execute_update
from models import campaigns, creators, deliveries, licenses
from models.base import utcnow
from models.deliveries import Delivery
from models.enums import DeliveryStage, Role
from nexus.errors import Conflict, NotFound, ServiceUnavailable
from workflows.contracts.campaign import UsageRightsSpec
from workflows.contracts.delivery import (
    BriefAcceptance,
    CreatorAct,
    DeliveryStatus,
    ExtendDeadline,
    ExtraRevisionAnswer,
    ExtraRevisionRequest,
    Reassign,
    Review,
    SubmitDraft,
    SubmitFinal,
    SubmitScript,
)
from workflows.delivery import DeliveryWorkflow, workflow_id

router = APIRouter(prefix="/deliveries", tags=["deliveries"])

BrandWriter = Annotated[
    Principal, Depends(allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER, scope="campaigns:write"))
]
BRAND_SIDE = frozenset({Role.BRAND_ADMIN, Role.BRAND_MEMBER, Role.PARTNER})


async def _visible(db: DatabaseDep, principal: Principal, delivery_id: uuid.UUID) -> Delivery:
    row = await db.run(deliveries.get_delivery, delivery_id)
    if row is not None:
        if principal.role in BRAND_SIDE and row.workspace_id == principal.workspace_id:
            return row
        if principal.role == Role.CREATOR and principal.user_id is not None:
            profile = await db.run(creators.profile_of_user, principal.user_id)
            if profile is not None and row.creator_id == profile.id:
                return row
    raise NotFound("no such delivery")


async def _live(temporal: TemporalGateway, delivery_id: uuid.UUID) -> DeliveryStatus | None:
    try:
        client = await temporal.client()
        return await client.get_workflow_handle(workflow_id(delivery_id)).query(
            DeliveryWorkflow.status, rpc_timeout=timedelta(seconds=2)
        )
    except (RPCError, WorkflowQueryFailedError, ServiceUnavailable):
        return None


async def _public(
    db: DatabaseDep, temporal: TemporalGateway, row: Delivery, live: DeliveryStatus | None = None
) -> DeliveryPublic:
    """The stored delivery with its submissions; `live` from the workflow unless the caller
    already has it (a step's Update answers with it)."""
    fresh = await db.run(deliveries.get_delivery, row.id)
    submissions = await db.run(deliveries.list_submissions, row.id)
    return DeliveryPublic(
        **DeliverySummary.model_validate(fresh or row, from_attributes=True).model_dump(),
        submissions=[SubmissionPublic.model_validate(s, from_attributes=True) for s in submissions],
        live=live or await _live(temporal, row.id),
    )


@router.get("")
async def list_deliveries(
    principal: PrincipalDep,
    db: DatabaseDep,
    stage: DeliveryStage | None = None,
    campaign_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[DeliverySummary]:
    """Brand: the workspace's deliveries (`stage=in_review` is the review queue).
    Creator: their own deliveries."""
    filters: dict[str, Any] = {"stage": stage, "campaign_id": campaign_id}
    if principal.role == Role.CREATOR and principal.user_id is not None:
        profile = await db.run(creators.profile_of_user, principal.user_id)
        if profile is None:
            return []
        filters["creator_id"] = profile.id
    elif principal.role in BRAND_SIDE:
        filters["workspace_id"] = principal.workspace_id
    else:
        return []
    rows = await db.run(
        lambda s: deliveries.list_deliveries(s, limit=limit, offset=offset, **filters)
    )
    return [DeliverySummary.model_validate(r, from_attributes=True) for r in rows]


@router.get("/{delivery_id}")
async def get_delivery(
    delivery_id: uuid.UUID, principal: PrincipalDep, db: DatabaseDep, temporal: TemporalDep
) -> DeliveryPublic:
    """The delivery with its submissions and, live, the guided task list."""
    return await _public(db, temporal, await _visible(db, principal, delivery_id))


async def _act(
    delivery_id: uuid.UUID,
    principal: Principal,
    db: DatabaseDep,
    temporal: TemporalGateway,
    settings: SettingsDep,
    update: Any,
    payload: object,
) -> DeliveryPublic:
    """Run one step as an Update on the delivery's process, then answer with the result."""
    row = await _visible(db, principal, delivery_id)
    live = await execute_update(
        temporal, settings.api, workflow_id(delivery_id), update, payload,
        result_type=DeliveryStatus,
    )  # fmt: skip
    return await _public(db, temporal, row, live)


# -- creator steps -------------------------------------------------------------------------


@router.post("/{delivery_id}/brief-acceptance")
async def accept_brief(
    delivery_id: uuid.UUID,
    creator: CreatorDep,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    body: BriefAcceptanceCreate | None = None,
) -> DeliveryPublic:
    """Accept the brief, including its requested usage rights (perpetual rights only with
    `accept_perpetual_rights`; exclusivity only when no other brand holds the creator
    exclusively in the same category)."""
    row = await _visible(db, creator.principal, delivery_id)
    conflict = await db.run(_exclusivity_conflict, row)
    if conflict is not None:
        raise Conflict(conflict)
    act = BriefAcceptance(
        creator_id=creator.creator_id,
        accept_perpetual_rights=body.accept_perpetual_rights if body else False,
    )
    return await _act(
        delivery_id, creator.principal, db, temporal, settings, DeliveryWorkflow.accept_brief, act
    )


def _exclusivity_conflict(session: Session, row: Delivery) -> str | None:
    record = campaigns.get_campaign(session, row.workspace_id, row.campaign_id)
    assert record is not None
    rights = UsageRightsSpec.model_validate(record.brief.usage_rights)
    if rights.exclusivity_category is None:
        return None
    now = utcnow()
    wanted = Exclusivity(
        rights.exclusivity_category, Period(now, now + timedelta(days=rights.exclusivity_days))
    )
    held = licenses.exclusivity_conflict(session, row.creator_id, record.campaign.brand_id, wanted)
    if held is None:
        return None
    assert held.exclusivity_ends_at is not None
    return (
        f"you are exclusive to another brand in {rights.exclusivity_category!r} until "
        f"{held.exclusivity_ends_at:%Y-%m-%d}; this brief's exclusivity overlaps it"
    )


@router.post("/{delivery_id}/product-receipt")
async def confirm_product(
    delivery_id: uuid.UUID,
    creator: CreatorDep,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> DeliveryPublic:
    act = CreatorAct(creator_id=creator.creator_id)
    return await _act(
        delivery_id,
        creator.principal,
        db,
        temporal,
        settings,
        DeliveryWorkflow.confirm_product,
        act,
    )


@router.post("/{delivery_id}/script")
async def submit_script(
    delivery_id: uuid.UUID,
    body: ScriptCreate,
    creator: CreatorDep,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> DeliveryPublic:
    act = SubmitScript(creator_id=creator.creator_id, text=body.text)
    return await _act(
        delivery_id, creator.principal, db, temporal, settings, DeliveryWorkflow.submit_script, act
    )


@router.post("/{delivery_id}/drafts")
async def submit_draft(
    delivery_id: uuid.UUID,
    body: DraftCreate,
    creator: CreatorDep,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> DeliveryPublic:
    """Submit a draft; it goes through the automated checks, then to the brand."""
    act = SubmitDraft(creator_id=creator.creator_id, **body.model_dump())
    return await _act(
        delivery_id, creator.principal, db, temporal, settings, DeliveryWorkflow.submit_draft, act
    )


@router.post("/{delivery_id}/final")
async def submit_final(
    delivery_id: uuid.UUID,
    body: FinalCreate,
    creator: CreatorDep,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> DeliveryPublic:
    act = SubmitFinal(creator_id=creator.creator_id, media_key=body.media_key)
    return await _act(
        delivery_id, creator.principal, db, temporal, settings, DeliveryWorkflow.submit_final, act
    )


@router.post("/{delivery_id}/extra-revision/answer")
async def answer_extra_revision(
    delivery_id: uuid.UUID,
    body: ResponseCreate,
    creator: CreatorDep,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> DeliveryPublic:
    """Consent to (or decline) a revision beyond the brief's rounds."""
    act = ExtraRevisionAnswer(creator_id=creator.creator_id, accept=body.accept)
    return await _act(
        delivery_id,
        creator.principal,
        db,
        temporal,
        settings,
        DeliveryWorkflow.answer_extra_revision,
        act,
    )


# -- brand steps ---------------------------------------------------------------------------


@router.post("/{delivery_id}/review")
async def review(
    delivery_id: uuid.UUID,
    body: ReviewCreate,
    brand: BrandWriter,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> DeliveryPublic:
    """Approve the draft in review, or request a revision with notes."""
    return await _act(
        delivery_id, brand, db, temporal, settings, DeliveryWorkflow.review,
        Review(**body.model_dump()),
    )  # fmt: skip


@router.post("/{delivery_id}/extra-revision")
async def request_extra_revision(
    delivery_id: uuid.UUID,
    body: ExtraRevisionCreate,
    brand: BrandWriter,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> DeliveryPublic:
    """Ask for a revision beyond the brief's rounds; it needs the creator's consent."""
    return await _act(
        delivery_id, brand, db, temporal, settings, DeliveryWorkflow.request_extra_revision,
        ExtraRevisionRequest(notes=body.notes),
    )  # fmt: skip


@router.post("/{delivery_id}/deadline")
async def extend_deadline(
    delivery_id: uuid.UUID,
    body: DeadlineCreate,
    brand: BrandWriter,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> DeliveryPublic:
    return await _act(
        delivery_id, brand, db, temporal, settings, DeliveryWorkflow.extend_deadline,
        ExtendDeadline(due_at=body.due_at),
    )  # fmt: skip


@router.post("/{delivery_id}/reassignment")
async def reassign(
    delivery_id: uuid.UUID,
    body: ReassignCreate,
    brand: BrandWriter,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> DeliveryPublic:
    """Take a late delivery away from its creator; the slot reopens for an invitation."""
    return await _act(
        delivery_id, brand, db, temporal, settings, DeliveryWorkflow.reassign,
        Reassign(reason=body.reason),
    )  # fmt: skip
