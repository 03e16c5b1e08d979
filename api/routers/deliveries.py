"""Deliveries: the creator's guided tasks and the brand's review queue.

Live state (tasks, what is due next) comes from the DeliveryWorkflow query; lists come from
the read model. A brand sees its workspace's deliveries, a creator their own; anyone else
gets 404.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlmodel import Session
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from activities.media.probe import SNIFF_BYTES, sniff_type
from api.deps import (
    ChangesDep,
    CreatorDep,
    DatabaseDep,
    Principal,
    SettingsDep,
    StoreDep,
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
    Limit,
    Offset,
    ReassignCreate,
    ResponseCreate,
    ReviewCreate,
    ScriptCreate,
    SubmissionPublic,
)
from api.services import TemporalGateway
from api.workflow_calls import execute_update
from domain import words
from domain.enums import DeliveryStage, Role
from domain.license_terms import Exclusivity, Period
from integrations.storage import InvalidKey, ObjectNotFound, ObjectStore, Served, StorageError
from models import campaigns, creators, deliveries, licenses, uploads
from models.base import utcnow
from models.deliveries import Delivery, Submission
from nexus.errors import Conflict, FieldProblem, NotFound, ServiceUnavailable, ValidationFailed
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

# The brand's people and the delivery's creator read it; partner keys with deliveries:read.
Reader = Annotated[
    Principal,
    Depends(allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER, Role.CREATOR, scope="deliveries:read")),
]
BrandWriter = Annotated[
    Principal, Depends(allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER, scope="deliveries:write"))
]
BRAND_SIDE = frozenset({Role.BRAND_ADMIN, Role.BRAND_MEMBER, Role.PARTNER})

# What a checked draft offers the brand's player, and where its key is kept.
MEDIA_PARTS = {
    "video": "master_key",
    "thumbnail": "thumbnail_key",
    "captions": "captions_vtt_key",
    "report": "report_key",
}
# The types a checked draft's part may be served inline as, when its bytes prove one.
INLINE_TYPES: dict[str, frozenset[str]] = {
    "video": frozenset({"video/mp4", "image/jpeg"}),  # the master: a video's, or a photo's
    "thumbnail": frozenset({"image/jpeg", "image/png"}),
    "captions": frozenset({"text/vtt"}),
    "report": frozenset({"application/json"}),
}
# On every media answer: the browser keeps the type it is given, and a file opened on its
# own (an HTML or SVG page posing as media) runs no script, loads nothing, reaches no cookie.
MEDIA_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
}


async def _visible(db: DatabaseDep, principal: Principal, delivery_id: uuid.UUID) -> Delivery:
    row = await db.run(_visible_row, principal, delivery_id)
    if row is None:
        raise NotFound("no such delivery")
    return row


def _visible_row(session: Session, principal: Principal, delivery_id: uuid.UUID) -> Delivery | None:
    row = deliveries.get_delivery(session, delivery_id)
    if row is None:
        return None
    if principal.role in BRAND_SIDE and row.workspace_id == principal.workspace_id:
        return row
    if principal.role == Role.CREATOR and principal.user_id is not None:
        profile = creators.profile_of_user(session, principal.user_id)
        if profile is not None and row.creator_id == profile.id:
            return row
    return None


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
    fresh, submissions = await db.run(_stored, row.id)
    titles = deliveries.submission_titles(submissions)
    return DeliveryPublic(
        **DeliverySummary.model_validate(fresh or row, from_attributes=True).model_dump(),
        submissions=[_submission_public(s, titles[s.id]) for s in submissions],
        live=live or await _live(temporal, row.id),
    )


def _stored(session: Session, delivery_id: uuid.UUID) -> tuple[Delivery | None, list[Submission]]:
    return deliveries.get_delivery(session, delivery_id), deliveries.list_submissions(
        session, delivery_id
    )


def _submission_public(row: Submission, title: str) -> SubmissionPublic:
    base = f"/deliveries/{row.delivery_id}/submissions/{row.id}/media"
    stored = row.media or {}
    links = {part: f"{base}/{part}" for part, key in MEDIA_PARTS.items() if stored.get(key)}
    kind = stored.get("kind", "video") if links else None
    return SubmissionPublic.model_validate(
        {**row.model_dump(exclude={"media"}), "media": links, "media_kind": kind, "title": title}
    )


@router.get("")
async def list_deliveries(
    principal: Reader,
    db: DatabaseDep,
    stage: DeliveryStage | None = None,
    campaign_id: uuid.UUID | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[DeliverySummary]:
    """Brand: the workspace's deliveries (`stage=in_review` and `stage=script_review` are the
    review queue).
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


async def read_delivery(
    delivery_id: uuid.UUID, principal: Principal, db: DatabaseDep, temporal: TemporalGateway
) -> DeliveryPublic:
    """The delivery with its submissions and, live, the guided task list."""
    return await _public(db, temporal, await _visible(db, principal, delivery_id))


@router.get("/{delivery_id}")
async def get_delivery(
    delivery_id: uuid.UUID,
    principal: Reader,
    db: DatabaseDep,
    temporal: TemporalDep,
    changes: ChangesDep,
    while_stage: Annotated[
        DeliveryStage | None,
        Query(description="long poll: answer once the delivery leaves this stage"),
    ] = None,
    wait_s: Annotated[
        float, Query(gt=0, le=60, description="the longest a long poll waits (s)")
    ] = 30.0,
) -> DeliveryPublic:
    """The delivery with its submissions and, live, the guided task list. With
    `while_stage`, the answer waits (up to `wait_s`) until the delivery is in another stage:
    a client waiting for the checks to finish asks once instead of polling."""
    row = await _visible(db, principal, delivery_id)
    if while_stage is not None and row.stage == while_stage:
        await changes.wait_while(db, delivery_id, while_stage, wait_s)
    return await _public(db, temporal, row)


@router.get(
    "/{delivery_id}/submissions/{submission_id}/media/{part}",
    response_class=Response,
    responses={200: {"description": "the bytes"}, 307: {"description": "a presigned URL"}},
)
async def submission_media(
    delivery_id: uuid.UUID,
    submission_id: uuid.UUID,
    part: Literal["video", "thumbnail", "captions", "report"],
    principal: Reader,
    db: DatabaseDep,
    store: StoreDep,
) -> Response:
    """A checked draft's video (the streamable master), thumbnail, WebVTT captions or check
    report: a short-lived presigned URL where the store has them, else the bytes (with
    range requests, for seeking). A draft the checks refused is only ever a download."""
    submission = await visible_submission(db, principal, delivery_id, submission_id)
    key = (submission.media or {}).get(MEDIA_PARTS[part])
    if key is None:
        raise NotFound(f"this submission has no {part}")
    inline = INLINE_TYPES[part] if submission.checks_passed else frozenset()
    return await stored_object(store, key, part, inline)


async def visible_submission(
    db: DatabaseDep, principal: Principal, delivery_id: uuid.UUID, submission_id: uuid.UUID
) -> Submission:
    """A submission of a delivery the principal may see (NotFound otherwise)."""
    row = await _visible(db, principal, delivery_id)
    submission = await db.run(deliveries.get_submission, row.id, submission_id)
    if submission is None:
        raise NotFound("no such submission")
    return submission


async def stored_object(
    store: ObjectStore,
    key: str,
    what: str,
    inline: frozenset[str] = frozenset(),
    filename: str | None = None,
) -> Response:
    """The one way a stored object reaches a browser. It is shown inline only as one of the
    `inline` types, and only when its first bytes prove that type, which is then the type
    sent; anything else (every raw upload among it) is an application/octet-stream
    download. A short-lived presigned URL (307) that makes the bucket answer the same way
    where the store has them, else its bytes from disk (with range requests, for seeking)."""
    try:
        head = await asyncio.to_thread(store.read_head, key, SNIFF_BYTES)
    except ObjectNotFound:
        raise NotFound(f"the {what} is no longer stored") from None
    except StorageError as exc:
        raise ServiceUnavailable("object storage is unavailable; try again") from exc
    sniffed = sniff_type(head)
    if sniffed is not None and sniffed in inline:
        served = Served(sniffed, "inline")
    else:
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename or key.rsplit("/", 1)[-1])
        served = Served("application/octet-stream", f'attachment; filename="{name}"')
    url = await asyncio.to_thread(store.download_url, key, timedelta(minutes=15), served)
    if url is not None:
        return RedirectResponse(url, status_code=307, headers=MEDIA_HEADERS)
    try:
        path = await asyncio.to_thread(store.local_path, key)
    except ObjectNotFound:
        raise NotFound(f"the {what} is no longer stored") from None
    if path is None:
        raise NotFound(f"the {what} cannot be served")
    headers = {**MEDIA_HEADERS, "Content-Disposition": served.disposition}
    return FileResponse(path, media_type=served.content_type, headers=headers)


async def _act(
    delivery_id: uuid.UUID,
    principal: Principal,
    db: DatabaseDep,
    temporal: TemporalGateway,
    settings: SettingsDep,
    update: Any,
    payload: object,
    row: Delivery | None = None,
) -> DeliveryPublic:
    """Run one step as an Update on the delivery's process, then answer with the result."""
    row = row or await _visible(db, principal, delivery_id)
    live = await execute_update(
        temporal, settings.api, workflow_id(delivery_id), update, payload,
        result_type=DeliveryStatus,
    )  # fmt: skip
    return await _public(db, temporal, row, live)


async def _uploaded(db: DatabaseDep, principal: Principal, store: ObjectStore, key: str) -> None:
    """A submission names an upload issued to the creator's own workspace whose declared
    bytes have all arrived."""
    problem = None
    if not key.startswith(f"uploads/{principal.workspace_id}/"):
        problem = "not an upload of this workspace; upload the video with POST /uploads first"
    else:
        ticket = await db.run(uploads.issued, principal.workspace_id, key)
        size = None if ticket is None else await asyncio.to_thread(_stored_size, store, key)
        if ticket is None or size is None:
            problem = "nothing was uploaded at this key; upload the video with POST /uploads"
        elif size != ticket.size_bytes:
            problem = f"the upload has {size} of its {ticket.size_bytes} bytes; upload it again"
    if problem is not None:
        raise ValidationFailed(
            "the submission names no upload", errors=[FieldProblem("body.media_key", problem)]
        )


def _stored_size(store: ObjectStore, key: str) -> int | None:
    try:
        return store.stat(key).size
    except (ObjectNotFound, InvalidKey):
        return None


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
        f"{words.day(held.exclusivity_ends_at)}; this brief's exclusivity overlaps it"
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
    """Send the script or concept the brief asks for; the brand approves it or asks for
    changes (stage `script_review`) before the draft."""
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
    store: StoreDep,
) -> DeliveryPublic:
    """Submit a draft uploaded with `POST /uploads`; it goes through the automated checks
    (moderation of the video, the caption rules), then to the brand."""
    row = await _visible(db, creator.principal, delivery_id)
    await _uploaded(db, creator.principal, store, body.media_key)
    act = SubmitDraft(creator_id=creator.creator_id, **body.model_dump())
    return await _act(
        delivery_id, creator.principal, db, temporal, settings, DeliveryWorkflow.submit_draft,
        act, row,
    )  # fmt: skip


@router.post("/{delivery_id}/final")
async def submit_final(
    delivery_id: uuid.UUID,
    body: FinalCreate,
    creator: CreatorDep,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    store: StoreDep,
) -> DeliveryPublic:
    """Deliver the final files of the approved draft, uploaded with `POST /uploads`. They go
    through the draft's automated checks (stage `checking`); the delivery completes once they
    pass, or returns to `awaiting_final` with the findings to fix."""
    row = await _visible(db, creator.principal, delivery_id)
    await _uploaded(db, creator.principal, store, body.media_key)
    act = SubmitFinal(creator_id=creator.creator_id, media_key=body.media_key)
    return await _act(
        delivery_id, creator.principal, db, temporal, settings, DeliveryWorkflow.submit_final,
        act, row,
    )  # fmt: skip


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


@router.post("/{delivery_id}/script-review")
async def review_script(
    delivery_id: uuid.UUID,
    body: ReviewCreate,
    brand: BrandWriter,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> DeliveryPublic:
    """Approve the script in review (the creator films the draft next), or ask for changes
    with notes (`decision: revise`; the creator sends the script again)."""
    return await _act(
        delivery_id, brand, db, temporal, settings, DeliveryWorkflow.review_script,
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
