"""Campaigns: the API starts and drives CampaignWorkflow; lists come from the read model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowQueryFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError, RPCStatusCode

from api.deps import (
    DatabaseDep,
    Principal,
    SettingsDep,
    TemporalDep,
    allow,
)
from api.routers.signup import require_verified
from api.schemas import (
    ApplicationPublic,
    BriefPublic,
    CampaignCancel,
    CampaignChange,
    CampaignCreate,
    CampaignPublic,
    CampaignSummary,
    DecisionCreate,
    DeliverablePublic,
    InvitationCreate,
    Limit,
    LiveState,
    Offset,
    Page,
)
from api.services import Lookups, TemporalGateway, VersionedAnswers
from api.workflow_calls import execute_update
from domain import words
from domain.enums import CampaignStage, Role
from models import applications, brands, campaigns, creators, money
from models.campaigns import Campaign, CampaignRecord
from nexus.errors import Conflict, FieldProblem, NotFound, ServiceUnavailable, ValidationFailed
from workflows import search_attributes as sa
from workflows.campaign import CLOSED_STAGES, RECRUITING_STAGES, CampaignWorkflow, workflow_id
from workflows.contracts.campaign import (
    ApplicationState,
    CampaignDraft,
    CampaignEdit,
    CampaignStatus,
    CancelCampaign,
    Decide,
    DeliverableSpec,
    Invite,
    Money,
)
from workflows.task_queues import cpu_queue

router = APIRouter(prefix="/campaigns", tags=["campaigns"])

Reader = Annotated[
    Principal, Depends(allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER, scope="campaigns:read"))
]
Writer = Annotated[
    Principal, Depends(allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER, scope="campaigns:write"))
]

# Idempotency keys map to campaign IDs inside this namespace, per workspace.
_IDEMPOTENCY_NS = uuid.UUID("6f1d3c1e-2b8a-4f7e-9a51-0c5e8d7b4a10")


def _summary(campaign: Campaign) -> CampaignSummary:
    return CampaignSummary(
        id=campaign.id,
        brand_id=campaign.brand_id,
        title=campaign.title,
        stage=campaign.stage,
        visibility=campaign.visibility,
        budget=Money(amount_minor=campaign.budget_minor, currency=campaign.currency),
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
    )


def _public(record: CampaignRecord, live: LiveState | CampaignStatus | None) -> CampaignPublic:
    return CampaignPublic(
        **_summary(record.campaign).model_dump(),
        brief=BriefPublic.model_validate(record.brief, from_attributes=True),
        deliverables=[
            DeliverablePublic.model_validate(d, from_attributes=True) for d in record.deliverables
        ],
        live=live if not isinstance(live, CampaignStatus) else _live_state(live),
    )


def _live_state(source: Campaign | CampaignStatus) -> LiveState:
    campaign_id = source.id if isinstance(source, Campaign) else source.campaign_id
    return LiveState(
        stage=source.stage,
        workflow_id=workflow_id(campaign_id),
        cancel_reason=source.cancel_reason,
        committed_minor=source.committed_minor,
        owed_minor=source.owed_minor,
        open_slots=source.open_slots,
        open_deliveries=source.open_deliveries,
    )


async def campaign_live(temporal: TemporalGateway, record: CampaignRecord) -> LiveState | None:
    """The live state as the workflow wrote it to the campaign's row with each change (no
    workflow query); for a run started before it did, the workflow's answer (None when it
    cannot answer right now)."""
    if record.campaign.live_seq:
        return _live_state(record.campaign)
    live = await live_status(temporal, record.campaign.id)
    return None if live is None else _live_state(live)


async def live_status(temporal: TemporalGateway, campaign_id: uuid.UUID) -> CampaignStatus | None:
    """The workflow's own answer, or None when it cannot answer right now (worker down)."""
    try:
        client = await temporal.client()
        return await client.get_workflow_handle(workflow_id(campaign_id)).query(
            CampaignWorkflow.status, rpc_timeout=timedelta(seconds=2)
        )
    except (RPCError, WorkflowQueryFailedError, ServiceUnavailable):
        return None


def _over_budget(total: int, budget: Money) -> str:
    def said(amount: int) -> str:
        return words.money(amount, budget.currency)

    return (
        f"the deliverables cost {said(total)}, {said(total - budget.amount_minor)} over the "
        f"budget of {said(budget.amount_minor)}"
    )


def _check_create(body: CampaignCreate, now: datetime) -> list[FieldProblem]:
    problems = []
    total = sum(d.price_minor * d.quantity for d in body.deliverables)
    if total > body.budget.amount_minor:
        problems.append(
            FieldProblem(
                "body.deliverables",
                _over_budget(total, body.budget),
            )
        )
    for name in ("application_deadline", "delivery_deadline"):
        deadline = getattr(body.brief, name)
        if deadline is not None and deadline <= now:
            problems.append(FieldProblem(f"body.brief.{name}", "must be in the future"))
    return problems


async def _accepted(temporal: TemporalGateway, writer: Principal, idempotency_key: str) -> bool:
    """Whether the campaign this key names was started already."""
    campaign_id = uuid.uuid5(_IDEMPOTENCY_NS, f"{writer.workspace_id}:{idempotency_key}")
    client = await temporal.client()
    try:
        await client.get_workflow_handle(workflow_id(campaign_id)).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise ServiceUnavailable("the workflow engine did not answer; try again") from exc
    return True


def _check_replay(record: CampaignRecord, body: CampaignCreate) -> None:
    campaign = record.campaign
    same = (
        campaign.brand_id == body.brand_id
        and campaign.title == body.title
        and campaign.budget_minor == body.budget.amount_minor
        and campaign.currency == body.budget.currency
    )
    if not same:
        raise Conflict("this Idempotency-Key was used for a different campaign request")


async def _record(db: DatabaseDep, principal: Principal, campaign_id: uuid.UUID) -> CampaignRecord:
    record = await db.read(campaigns.get_campaign, principal.workspace_id, campaign_id)
    if record is None:
        raise NotFound("no such campaign in this workspace")
    return record


async def _update(
    db: DatabaseDep,
    writer: Principal,
    temporal: TemporalDep,
    settings: SettingsDep,
    campaign_id: uuid.UUID,
    update: Any,
    *args: Any,
) -> CampaignPublic:
    """Run one of the campaign workflow's updates; the answer is the campaign as it stands
    after it."""
    live = await execute_update(
        temporal, settings.api, workflow_id(campaign_id), update, *args, result_type=CampaignStatus
    )
    return _public(await _record(db, writer, campaign_id), live)


@router.post("", status_code=201)
async def create_campaign(
    body: CampaignCreate,
    writer: Writer,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> CampaignPublic:
    """Create a draft campaign and start its workflow. Repeating a request with the same
    `Idempotency-Key` returns the campaign the first one created."""
    now = datetime.now(UTC)
    problems = _check_create(body, now)
    if problems and idempotency_key and await _accepted(temporal, writer, idempotency_key):
        # A repeat of a request whose campaign was accepted, not recorded yet: it was checked
        # when it arrived, and its deadlines may have passed since.
        problems = []
    brand = await db.run(brands.get_brand, writer.workspace_id, body.brand_id)
    if brand is None:
        problems.append(FieldProblem("body.brand_id", "no such brand in this workspace"))
    if problems or brand is None:
        raise ValidationFailed("the campaign cannot be created as given", errors=problems)

    if idempotency_key:
        campaign_id = uuid.uuid5(_IDEMPOTENCY_NS, f"{writer.workspace_id}:{idempotency_key}")
        policy = WorkflowIDConflictPolicy.USE_EXISTING
        existing = await db.run(campaigns.get_campaign, writer.workspace_id, campaign_id)
        if existing is not None:
            # A replay: answer with what the first request created, even once it has closed.
            _check_replay(existing, body)
            response.headers["Location"] = f"/campaigns/{campaign_id}"
            return _public(existing, await campaign_live(temporal, existing))
    else:
        campaign_id, policy = uuid.uuid4(), WorkflowIDConflictPolicy.FAIL
    draft = CampaignDraft(
        campaign_id=campaign_id,
        workspace_id=writer.workspace_id,
        brand_id=body.brand_id,
        created_by=writer.actor_id,
        brand_name=brand.name,
        title=body.title,
        visibility=body.visibility,
        budget=body.budget,
        brief=body.brief,
        deliverables=[
            DeliverableSpec(id=uuid.uuid4(), **d.model_dump()) for d in body.deliverables
        ],
        created_at=now,
    )
    start = WithStartWorkflowOperation(
        CampaignWorkflow.run,
        draft,
        id=workflow_id(campaign_id),
        task_queue=cpu_queue(settings.temporal.task_queue),
        id_conflict_policy=policy,
        # A campaign's ID names one process forever: never start a second run of it.
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.CAMPAIGN_ID, str(campaign_id)),
                SearchAttributePair(sa.BRAND_ID, str(body.brand_id)),
                SearchAttributePair(sa.WORKSPACE_ID, str(writer.workspace_id)),
                SearchAttributePair(sa.STAGE, CampaignStage.DRAFT.value),
            ]
        ),
    )
    client = await temporal.client()
    try:
        live = await client.execute_update_with_start_workflow(
            CampaignWorkflow.wait_recorded,
            start_workflow_operation=start,
            rpc_timeout=timedelta(seconds=settings.api.workflow_rpc_timeout_s),
        )
    except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
        raise ServiceUnavailable(
            f"campaign {campaign_id} was accepted but is not recorded yet; repeat the request "
            "with the same Idempotency-Key to pick it up"
        ) from exc
    except RPCError as exc:
        raise ServiceUnavailable("the workflow engine did not accept the campaign") from exc
    record = await _record(db, writer, campaign_id)
    if idempotency_key:
        _check_replay(record, body)  # a concurrent first request with another body won
    response.headers["Location"] = f"/campaigns/{campaign_id}"
    return _public(record, live)


@router.get("")
async def list_campaigns(
    reader: Reader,
    db: DatabaseDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page:
    rows = await db.run(
        lambda s: campaigns.list_campaigns(s, reader.workspace_id, limit=limit, offset=offset)
    )
    return Page(limit=limit, offset=offset, items=[_summary(c) for c in rows])


@router.get("/{campaign_id}", response_model=CampaignPublic)
async def get_campaign(campaign_id: uuid.UUID, reader: Reader, request: Request) -> Response:
    """The stored campaign with the live state its workflow keeps in the read model (null
    only for a campaign started before that whose workflow cannot answer right now).

    The most frequent read: the answer is kept with the version of its rows and sent again
    while they are unchanged. The version is read before the rows, so a change committed in
    between is answered on the next read, never hidden by a stale copy. The app's handles
    come from its state, not as dependencies: FastAPI's cost per dependency is of the order
    of a query's."""
    state = request.app.state
    lookups: Lookups = state.lookups
    answers: VersionedAnswers = state.answers
    version = await lookups.run(campaigns.campaign_version, reader.workspace_id, campaign_id)
    if version is None:
        raise NotFound("no such campaign in this workspace")
    key = (reader.workspace_id, campaign_id)
    body = answers.get(key, version)
    if body is None:
        record = await _record(state.database, reader, campaign_id)
        body = (
            _public(record, await campaign_live(state.temporal, record)).model_dump_json().encode()
        )
        # A run older than the read model answers through its workflow: never kept.
        if record.campaign.live_seq:
            answers.put(key, version, body)
    return Response(body, media_type="application/json")


@router.post("/{campaign_id}/cancel")
async def cancel_campaign(
    campaign_id: uuid.UUID,
    body: CampaignCancel,
    writer: Writer,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> CampaignPublic:
    """Cancel the campaign: open deliveries stop, approved work stays owed."""
    record = await _record(db, writer, campaign_id)
    if record.campaign.stage in CLOSED_STAGES:
        raise Conflict(f"campaign is already {record.campaign.stage}")
    return await _update(
        db,
        writer,
        temporal,
        settings,
        campaign_id,
        CampaignWorkflow.cancel,
        CancelCampaign(reason=body.reason),
    )


def _edit_of(body: CampaignChange) -> CampaignEdit:
    """What the workflow changes: the parts given, new deliverables with new IDs."""
    return CampaignEdit(
        title=body.title,
        visibility=body.visibility,
        budget=body.budget,
        brief=body.brief,
        deliverables=None
        if body.deliverables is None
        else [DeliverableSpec(id=uuid.uuid4(), **d.model_dump()) for d in body.deliverables],
    )


def _check_edit(
    record: CampaignRecord, body: CampaignChange, funded: int, now: datetime
) -> list[FieldProblem]:
    """The rules of creating a campaign for the draft as it will be, and the funding's: once
    money is paid in (or on its way) the budget keeps its currency and does not go below it."""
    campaign = record.campaign
    budget = body.budget or Money(amount_minor=campaign.budget_minor, currency=campaign.currency)
    costs = [(d.price_minor, d.quantity) for d in (body.deliverables or record.deliverables)]
    total = sum(price * quantity for price, quantity in costs)
    problems = []
    if total > budget.amount_minor:
        problems.append(
            FieldProblem(
                "body.deliverables" if body.deliverables is not None else "body.budget",
                _over_budget(total, budget),
            )
        )
    if funded and budget.currency != campaign.currency:
        problems.append(
            FieldProblem(
                "body.budget.currency",
                f"the budget is funded in {campaign.currency}; its currency cannot change",
            )
        )
    elif budget.amount_minor < funded:
        problems.append(
            FieldProblem(
                "body.budget.amount_minor",
                f"{words.money(funded, campaign.currency)} is paid in or on its way; the budget "
                "cannot be lower",
            )
        )
    if body.brief is not None:
        for name in ("application_deadline", "delivery_deadline"):
            deadline = getattr(body.brief, name)
            if deadline is not None and deadline <= now:
                problems.append(FieldProblem(f"body.brief.{name}", "must be in the future"))
    return problems


@router.patch("/{campaign_id}")
async def edit_campaign(
    campaign_id: uuid.UUID,
    body: CampaignChange,
    writer: Writer,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> CampaignPublic:
    """Change a draft before publishing it: its title, visibility, budget, brief or
    deliverables, each given whole. Once funded, the budget keeps its currency and cannot go
    below what is paid in or on its way; a published campaign is not edited."""
    record = await _record(db, writer, campaign_id)
    stage = record.campaign.stage
    if stage != CampaignStage.DRAFT:
        raise Conflict(
            f"only a draft can be edited; this campaign is {stage.value.replace('_', ' ')}"
        )
    funded = await db.run(money.funded_minor, campaign_id)
    problems = _check_edit(record, body, funded, datetime.now(UTC))
    if problems:
        raise ValidationFailed("the campaign cannot be changed as given", errors=problems)
    return await _update(
        db, writer, temporal, settings, campaign_id, CampaignWorkflow.edit, _edit_of(body)
    )


@router.post("/{campaign_id}/close-applications")
async def close_applications(
    campaign_id: uuid.UUID,
    writer: Writer,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> CampaignPublic:
    """Stop taking applications before the deadline: applications and invitations still
    waiting expire (their creators are told), and the campaign goes into production with the
    creators accepted so far, or is cancelled when nobody was accepted."""
    record = await _record(db, writer, campaign_id)
    stage = record.campaign.stage
    if stage not in RECRUITING_STAGES:
        raise Conflict(
            "only a campaign taking applications can stop taking them; this one is "
            f"{stage.value.replace('_', ' ')}"
        )
    return await _update(
        db, writer, temporal, settings, campaign_id, CampaignWorkflow.close_recruiting
    )


@router.post("/{campaign_id}/publish")
async def publish_campaign(
    campaign_id: uuid.UUID,
    writer: Writer,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> CampaignPublic:
    """Publish a draft: open campaigns appear in the marketplace until the application
    deadline; invite-only ones take invitations. Only an account with a verified e-mail
    address may publish."""
    await _record(db, writer, campaign_id)
    await require_verified(db, writer)
    return await _update(db, writer, temporal, settings, campaign_id, CampaignWorkflow.publish)


@router.get("/{campaign_id}/applications")
async def list_applications(
    campaign_id: uuid.UUID, reader: Reader, db: DatabaseDep
) -> list[ApplicationPublic]:
    """Applications and invitations with pitch and proposed price."""
    await _record(db, reader, campaign_id)
    rows = await db.run(applications.list_for_campaign, campaign_id)
    return [ApplicationPublic.model_validate(a, from_attributes=True) for a in rows]


@router.post("/{campaign_id}/invitations", status_code=201)
async def invite_creator(
    campaign_id: uuid.UUID,
    body: InvitationCreate,
    writer: Writer,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> ApplicationPublic:
    await _record(db, writer, campaign_id)
    profile = await db.run(creators.get_profile, body.creator_id)
    if profile is None:
        raise ValidationFailed(
            "no such creator", errors=[FieldProblem("body.creator_id", "no such creator")]
        )
    state = await execute_update(
        temporal,
        settings.api,
        workflow_id(campaign_id),
        CampaignWorkflow.invite,
        Invite(
            application_id=uuid.uuid4(),
            creator_id=profile.id,
            creator_user_id=profile.user_id,
            deliverable_id=body.deliverable_id,
            price_minor=body.price_minor,
            message=body.message,
            creator_languages=profile.languages,
        ),
        result_type=ApplicationState,
    )
    return await application_public(db, state.id)


@router.post("/{campaign_id}/applications/{application_id}/decision")
async def decide_application(
    campaign_id: uuid.UUID,
    application_id: uuid.UUID,
    body: DecisionCreate,
    writer: Writer,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> ApplicationPublic:
    """Accept (starts the creator's delivery), reject, or counter with another price."""
    await _record(db, writer, campaign_id)
    state = await execute_update(
        temporal,
        settings.api,
        workflow_id(campaign_id),
        CampaignWorkflow.decide,
        Decide(application_id=application_id, **body.model_dump()),
        result_type=ApplicationState,
    )
    return await application_public(db, state.id)


async def application_public(db: DatabaseDep, application_id: uuid.UUID) -> ApplicationPublic:
    row = await db.run(applications.get_application, application_id)
    assert row is not None, "the update records the application before it answers"
    return ApplicationPublic.model_validate(row, from_attributes=True)
