"""Licenses: terms, live state, changes both parties agree to, termination, disputes, the
usage check, publications, and certificates.

A brand sees its workspace's licenses, a creator the licenses of their own work, ops all of
them; anyone else gets 404. Changes go to the LicenseWorkflow as Updates: a refused one
answers 409 with the reason and changes nothing.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from activities.licensing import certificate
from api.deps import (
    DatabaseDep,
    Principal,
    SettingsDep,
    StoreDep,
    TemporalDep,
    allow,
)
from api.routers.deliveries import stored_object
from api.schemas import (
    AssetRights,
    ChangeAnswerCreate,
    DisputeCreate,
    DisputeResolutionCreate,
    LedgerEntryPublic,
    LicenseChangeCreate,
    LicenseHistory,
    LicensePublic,
    LicenseSummary,
    Limit,
    Offset,
    PublicationCreate,
    PublicationPublic,
    TerminationCreate,
    UsageAnswerPublic,
)
from api.services import TemporalGateway
from api.workflow_calls import execute_update
from domain import license_words
from domain import rights_ledger as ledger
from domain.enums import LicenseStatus, PublicationStatus, Role
from domain.license_terms import TermError, Use, normalize_territories
from models import creators, licenses, money
from models.base import utcnow
from models.deliveries import Submission
from models.licenses import License, LicenseNames, Publication
from nexus.errors import (
    Conflict,
    FieldProblem,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from workflows.contracts.campaign import Channel
from workflows.contracts.license import (
    ChangeAnswer,
    DisputeOpen,
    DisputeResolution,
    LicenseState,
    Party,
    Termination,
    TermsChange,
    fee_payout_id,
)
from workflows.license import LicenseWorkflow, workflow_id
from workflows.payout import workflow_id as payout_workflow_id

router = APIRouter(tags=["licenses"])

BRAND_SIDE = frozenset({Role.BRAND_ADMIN, Role.BRAND_MEMBER, Role.PARTNER})
BrandReader = Annotated[
    Principal,
    Depends(allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER, scope="licenses:read")),
]
BrandWriter = Annotated[
    Principal,
    Depends(allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER, scope="licenses:write")),
]
Ops = Annotated[Principal, Depends(allow(Role.OPS))]
# Either party and ops read a license; the parties change its terms and dispute it.
Reader = Annotated[
    Principal,
    Depends(
        allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER, Role.CREATOR, Role.OPS, scope="licenses:read")
    ),
]
PartyWriter = Annotated[
    Principal,
    Depends(allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER, Role.CREATOR, scope="licenses:write")),
]


async def _creator_id(db: DatabaseDep, principal: Principal) -> uuid.UUID | None:
    if principal.role != Role.CREATOR or principal.user_id is None:
        return None
    profile = await db.run(creators.profile_of_user, principal.user_id)
    return profile.id if profile else None


async def visible_license(db: DatabaseDep, principal: Principal, license_id: uuid.UUID) -> License:
    row = await db.run(licenses.get_license, license_id)
    if row is not None:
        if principal.role == Role.OPS:
            return row
        if principal.role in BRAND_SIDE and row.workspace_id == principal.workspace_id:
            return row
        if row.creator_id == await _creator_id(db, principal):
            return row
    raise NotFound("no such license")


def _party(principal: Principal) -> Party:
    return "creator" if principal.role == Role.CREATOR else "brand"


async def _live(temporal: TemporalGateway, license_id: uuid.UUID) -> LicenseState | None:
    try:
        client = await temporal.client()
        return await client.get_workflow_handle(workflow_id(license_id)).query(
            LicenseWorkflow.state, rpc_timeout=timedelta(seconds=2)
        )
    except (RPCError, WorkflowQueryFailedError, ServiceUnavailable):
        return None


def days_left_of(row: License) -> int | None:
    if row.ends_at is None:
        return None
    if row.status in licenses.NOT_IN_FORCE:
        return 0
    return max(0, math.ceil((row.ends_at - utcnow()) / timedelta(days=1)))


def _with_paid_fees(
    live: LicenseState | None, fundings: list[money.Funding]
) -> LicenseState | None:
    """A closed license process answers with its last state: a fee paid in after it closed
    is shown `paying`, with the payout the API started for it."""
    if live is None:
        return None
    paid_in = {f.fee_number: f.id for f in fundings if f.status == "succeeded"}
    fees = [
        fee.model_copy(
            update={
                "status": "paying",
                "funding_id": paid_in[fee.number],
                "payout_workflow_id": payout_workflow_id(
                    fee_payout_id(live.license_id, fee.number)
                ),
            }
        )
        if fee.status == "pending" and fee.number in paid_in
        else fee
        for fee in live.fees
    ]
    return live.model_copy(update={"fees": fees})


async def _public(
    db: DatabaseDep, temporal: TemporalGateway, license_id: uuid.UUID
) -> LicensePublic:
    row = await db.run(licenses.get_license, license_id)
    assert row is not None
    live = await _live(temporal, license_id)
    return LicensePublic(
        **LicenseSummary.model_validate(row, from_attributes=True).model_dump(),
        days_left=days_left_of(row),
        live=_with_paid_fees(live, await db.run(money.fee_fundings, license_id)),
    )


@router.get("/licenses")
async def list_licenses(
    principal: Reader,
    db: DatabaseDep,
    status: LicenseStatus | None = None,
    asset_id: uuid.UUID | None = None,
    delivery_id: uuid.UUID | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[LicenseSummary]:
    """Brand: the workspace's licenses. Creator: licenses of their work. Ops: all."""
    filters: dict[str, Any] = {"status": status, "asset_id": asset_id, "delivery_id": delivery_id}
    if principal.role in BRAND_SIDE:
        filters["workspace_id"] = principal.workspace_id
    elif principal.role != Role.OPS:
        creator_id = await _creator_id(db, principal)
        if creator_id is None:
            return []
        filters["creator_id"] = creator_id
    rows = await db.run(licenses.list_licenses, filters, limit, offset)
    return [LicenseSummary.model_validate(r, from_attributes=True) for r in rows]


@router.get("/licenses/{license_id}")
async def get_license(
    license_id: uuid.UUID, principal: Reader, db: DatabaseDep, temporal: TemporalDep
) -> LicensePublic:
    """The license's terms, days left and, while it runs, its live state (a pending change,
    an open dispute, agreed fees and whether they are paid in and paying out)."""
    await visible_license(db, principal, license_id)
    return await _public(db, temporal, license_id)


async def _update(
    license_id: uuid.UUID,
    principal: Principal,
    db: DatabaseDep,
    temporal: TemporalGateway,
    settings: SettingsDep,
    update: Any,
    payload: object,
) -> LicensePublic:
    row = await visible_license(db, principal, license_id)
    if row.status in licenses.NOT_IN_FORCE:
        raise Conflict(f"the license is {row.status.value}: nothing about it can change")
    await execute_update(
        temporal, settings.api, workflow_id(license_id), update, payload,
        result_type=LicenseState,
    )  # fmt: skip
    return await _public(db, temporal, license_id)


@router.post("/licenses/{license_id}/changes")
async def propose_change(
    license_id: uuid.UUID,
    body: LicenseChangeCreate,
    principal: PartyWriter,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> LicensePublic:
    """Propose new terms (a later `ends_at` renews or extends, with `fee_minor` the extra
    fee); they apply when the other party accepts."""
    change = TermsChange(by=_party(principal), **body.model_dump(exclude_unset=True))
    return await _update(
        license_id, principal, db, temporal, settings, LicenseWorkflow.propose_change, change
    )


@router.post("/licenses/{license_id}/changes/answer")
async def answer_change(
    license_id: uuid.UUID,
    body: ChangeAnswerCreate,
    principal: PartyWriter,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> LicensePublic:
    """Accept or decline the change the other party proposed."""
    answer = ChangeAnswer(by=_party(principal), accept=body.accept, note=body.note)
    return await _update(
        license_id, principal, db, temporal, settings, LicenseWorkflow.answer_change, answer
    )


@router.post("/licenses/{license_id}/termination")
async def terminate(
    license_id: uuid.UUID,
    body: TerminationCreate,
    principal: BrandWriter,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> LicensePublic:
    """The brand ends the license early; the asset's publications are withdrawn."""
    return await _update(
        license_id, principal, db, temporal, settings, LicenseWorkflow.terminate,
        Termination.model_validate(body.model_dump()),
    )  # fmt: skip


@router.post("/licenses/{license_id}/disputes")
async def open_dispute(
    license_id: uuid.UUID,
    body: DisputeCreate,
    principal: PartyWriter,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> LicensePublic:
    """Either party disputes the license: it is suspended until ops resolve it."""
    dispute = DisputeOpen(by=_party(principal), reason=body.reason)
    return await _update(
        license_id, principal, db, temporal, settings, LicenseWorkflow.dispute, dispute
    )


@router.post("/licenses/{license_id}/dispute-resolution")
async def resolve_dispute(
    license_id: uuid.UUID,
    body: DisputeResolutionCreate,
    principal: Ops,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> LicensePublic:
    """Ops reinstate or terminate a disputed license."""
    resolution = DisputeResolution.model_validate(body.model_dump())
    return await _update(
        license_id, principal, db, temporal, settings, LicenseWorkflow.resolve_dispute, resolution
    )


# -- history and certificates ----------------------------------------------------------------


@router.get("/licenses/{license_id}/history")
async def history(license_id: uuid.UUID, principal: Reader, db: DatabaseDep) -> LicenseHistory:
    """Every ledger entry of the license, each checked against its hash."""
    await visible_license(db, principal, license_id)
    entries = await db.run(licenses.license_entries, license_id)
    public = [entry_public(e) for e in entries]
    return LicenseHistory(
        license_id=license_id,
        entries=public,
        sound=bool(public) and all(e.problem is None for e in public),
    )


def entry_public(entry: ledger.StoredEntry) -> LedgerEntryPublic:
    try:
        body = json.loads(entry.body)
    except ValueError:
        body = {}
    return LedgerEntryPublic(
        seq=entry.seq,
        kind=entry.kind,
        body=body if isinstance(body, dict) else {},
        body_raw=entry.body.decode(errors="replace"),
        prev_hash=entry.prev_hash.hex(),
        hash=entry.hash.hex(),
        problem=ledger.entry_problem(entry),
    )


def parties_of(names: LicenseNames | None) -> certificate.Parties | None:
    if names is None:
        return None
    return certificate.Parties(
        brand_name=names.brand_name, workspace_name=names.workspace_name,
        creator_name=names.creator_name, creator_handle=names.creator_handle,
        campaign_title=names.campaign_title, deliverable_format=names.deliverable_format,
        price_minor=names.price_minor, currency=names.currency,
    )  # fmt: skip


def _certificate_of(session: Any, license_id: uuid.UUID, signer: ledger.Signer) -> dict[str, Any]:
    names = licenses.license_names(session, [license_id]).get(license_id)
    entries = licenses.license_entries(session, license_id)
    proven = [
        certificate.ProvenCheckpoint(cp, [certificate.CoveredEntry(s, p) for s, p in paths])
        for cp, paths in licenses.proven_checkpoints(session, [e.seq for e in entries])
    ]
    return certificate.build(
        license_id=str(license_id),
        entries=entries,
        checkpoints=proven,
        issued_at=utcnow().isoformat(),
        signer=signer,
        parties=parties_of(names),
    )


def certificate_filename(names: LicenseNames | None, license_id: uuid.UUID) -> str:
    if names is None:
        return f"license-{license_id}.pdf"
    return f"license-{_slug(names.campaign_title)}-{_slug(names.creator_handle)}.pdf"


@router.get("/licenses/{license_id}/certificate.json")
async def certificate_json(
    license_id: uuid.UUID, principal: Reader, db: DatabaseDep, settings: SettingsDep
) -> dict[str, Any]:
    """The signed certificate: verify it offline with `nexus ledger verify-certificate`."""
    await visible_license(db, principal, license_id)
    signer = ledger.Signer(settings.licensing.signing_seed())
    return await db.run(_certificate_of, license_id, signer)


@router.get(
    "/licenses/{license_id}/certificate.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def certificate_pdf(
    license_id: uuid.UUID, principal: Reader, db: DatabaseDep, settings: SettingsDep
) -> Response:
    """The certificate as a PDF, with the signed JSON attached."""
    await visible_license(db, principal, license_id)
    return await certificate_response(db, settings, license_id)


async def certificate_response(
    db: DatabaseDep, settings: SettingsDep, license_id: uuid.UUID
) -> Response:
    """The certificate PDF as a download named after the campaign and the creator."""
    signer = ledger.Signer(settings.licensing.signing_seed())
    document = await db.run(_certificate_of, license_id, signer)
    names = await db.run(licenses.license_names, [license_id])
    filename = certificate_filename(names.get(license_id), license_id)
    return Response(
        certificate.render_pdf(document),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


async def labels(db: DatabaseDep, rows: Sequence[LicenseSummary]) -> dict[uuid.UUID, Any]:
    """For pages: each license's parties by name and its terms in words."""
    names = await db.run(licenses.license_names, [r.id for r in rows])
    return {
        r.id: {"names": names.get(r.id), **license_words.summary(r.terms.model_dump(mode="json"))}
        for r in rows
    }


# -- what the brand paid for: the licensed video and the final files --------------------------

FileKind = Literal["video", "final"]
FinalStatus = Literal["delivered", "checking", "refused_by_checks", "not_delivered"]


class LicensedFile(BaseModel):
    url: str = Field(description="answers with the file as a download (or a presigned URL to it)")
    filename: str


class LicenseDownloads(BaseModel):
    """What the brand may download with the license: the approved video, the final files
    once delivered, and the certificate."""

    license_id: uuid.UUID
    campaign_title: str
    creator_name: str
    video: LicensedFile | None = Field(description="the approved draft's checked master")
    final: LicensedFile | None = Field(description="the final files, once delivered")
    final_status: FinalStatus = Field(
        description="delivered; checking: sent, the checks are running; refused_by_checks: "
        "the creator sends them again; not_delivered"
    )
    certificate_pdf: str
    certificate_json: str


async def licensee_license(db: DatabaseDep, principal: Principal, license_id: uuid.UUID) -> License:
    """A license held by the principal's brand workspace (ops see every one); the creator
    and everyone else get 404."""
    row = await db.run(licenses.get_license, license_id)
    if row is not None and (
        principal.role == Role.OPS
        or (principal.role in BRAND_SIDE and row.workspace_id == principal.workspace_id)
    ):
        return row
    raise NotFound("no such license")


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")
    return slug or "nexus"


def file_key(submission: Submission | None) -> str | None:
    """The stored file of a submission: its checked master, else the upload as it arrived."""
    if submission is None:
        return None
    master = (submission.media or {}).get("master_key")
    return str(master) if master else submission.media_key


def _download_name(names: LicenseNames | None, kind: FileKind, key: str) -> str:
    extension = key.rsplit(".", 1)[-1].lower() if "." in key.rsplit("/", 1)[-1] else "mp4"
    what = "approved-video" if kind == "video" else "final"
    if names is None:
        return f"{what}.{extension}"
    return f"{_slug(names.campaign_title)}-{_slug(names.creator_handle)}-{what}.{extension}"


def final_status(files: licenses.LicensedFiles) -> FinalStatus:
    """delivered; checking (sent, the checks are running); refused_by_checks (the creator
    sends them again); not_delivered."""
    final = files.final
    if final is None or file_key(final) is None:
        return "not_delivered"
    if final.checks_passed is False:
        return "refused_by_checks"
    return "delivered" if files.delivered else "checking"


def _file_of(session: Any, row: License, kind: FileKind) -> tuple[str, str]:
    """(key, download name) of the license's video or final files; NotFound saying why
    there is none."""
    files = licenses.licensed_files(session, row)
    names = licenses.license_names(session, [row.id]).get(row.id)
    if kind == "video":
        key = file_key(files.approved) or row.asset_key
        if key is None:
            raise NotFound("the approved video is no longer stored")
        return key, _download_name(names, kind, key)
    status = final_status(files)
    if status in ("not_delivered", "checking"):
        raise NotFound("the final files are not delivered yet")
    if status == "refused_by_checks":
        raise NotFound("the final files did not pass the checks; the creator sends them again")
    key = file_key(files.final)
    assert key is not None
    return key, _download_name(names, kind, key)


async def licensed_file(db: DatabaseDep, store: StoreDep, row: License, kind: FileKind) -> Response:
    """The file as a download through the one media serving function: always an
    attachment (never shown inline), with the platform's headers."""
    key, filename = await db.run(_file_of, row, kind)
    what = "approved video" if kind == "video" else "final files"
    return await stored_object(store, key, what, frozenset(), filename=filename)


def downloads_of(session: Any, row: License, base: str) -> LicenseDownloads:
    files = licenses.licensed_files(session, row)
    names = licenses.license_names(session, [row.id]).get(row.id)
    video_key = file_key(files.approved) or row.asset_key
    status = final_status(files)
    final_key = file_key(files.final)
    return LicenseDownloads(
        license_id=row.id,
        campaign_title=names.campaign_title if names else "",
        creator_name=names.creator_name if names else "",
        video=LicensedFile(url=f"{base}/video", filename=_download_name(names, "video", video_key))
        if video_key
        else None,
        final=LicensedFile(url=f"{base}/final", filename=_download_name(names, "final", final_key))
        if status == "delivered" and final_key
        else None,
        final_status=status,
        certificate_pdf=f"{base}/certificate.pdf",
        certificate_json=f"{base}/certificate.json",
    )


@router.get("/licenses/{license_id}/downloads")
async def downloads(license_id: uuid.UUID, principal: Reader, db: DatabaseDep) -> LicenseDownloads:
    """Where the brand holding the license downloads the approved video, the final files
    (once delivered) and the license certificate. The brand's workspace and ops only."""
    row = await licensee_license(db, principal, license_id)
    return await db.run(downloads_of, row, f"/licenses/{license_id}")


DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the file, as an attachment"},
    307: {"description": "a short-lived presigned URL to it"},
}


@router.get("/licenses/{license_id}/video", response_class=Response, responses=DOWNLOAD_RESPONSES)
async def licensed_video(
    license_id: uuid.UUID, principal: Reader, db: DatabaseDep, store: StoreDep
) -> Response:
    """The licensed video (the approved draft's checked master) as a download: a
    short-lived presigned URL where the store has them, else the bytes. The brand's
    workspace and ops only."""
    row = await licensee_license(db, principal, license_id)
    return await licensed_file(db, store, row, "video")


@router.get("/licenses/{license_id}/final", response_class=Response, responses=DOWNLOAD_RESPONSES)
async def licensed_final(
    license_id: uuid.UUID, principal: Reader, db: DatabaseDep, store: StoreDep
) -> Response:
    """The final files, once delivered, as a download (as the video). The brand's
    workspace and ops only."""
    row = await licensee_license(db, principal, license_id)
    return await licensed_file(db, store, row, "final")


# -- the usage check and publications ----------------------------------------------------------


def _use(channel: Channel, territory: str, at: datetime | None, platform: str | None) -> Use:
    try:
        (code,) = normalize_territories([territory])
        return Use(
            channel=channel,
            territory=code,
            at=at or datetime.now(UTC),
            platform=platform.strip().lower() if platform else None,
        )
    except TermError as exc:
        raise ValidationFailed(str(exc), errors=[FieldProblem(exc.field, str(exc))]) from exc


async def _answer(
    db: DatabaseDep, principal: Principal, asset_id: uuid.UUID, brand_id: uuid.UUID | None, use: Use
) -> licenses.UsageAnswer:
    answer = await db.run(licenses.check_usage, asset_id, principal.workspace_id, brand_id, use)
    if answer is not None:
        return answer
    if await db.run(licenses.asset_in_workspace, asset_id, principal.workspace_id):
        return licenses.UsageAnswer(False, "the asset has no license")
    raise NotFound("no such asset in this workspace")


@router.get("/usage-check")
async def usage_check(
    principal: BrandReader,
    db: DatabaseDep,
    asset_id: uuid.UUID,
    channel: Channel,
    territory: Annotated[str, Query(min_length=2, max_length=2, description="ISO code or WW")],
    at: Annotated[
        datetime | None, Query(description="Aware time of use (any offset); default now")
    ] = None,
    platform: Annotated[str | None, Query(max_length=50)] = None,
    brand_id: uuid.UUID | None = None,
) -> UsageAnswerPublic:
    """May this asset be used by the brand on the channel in the territory at that time?
    Answers with the license that allows it, or the reason it may not."""
    use = _use(channel, territory, at, platform)
    answer = await _answer(db, principal, asset_id, brand_id, use)
    return UsageAnswerPublic(
        allowed=answer.allowed,
        reason=answer.reason,
        license_id=answer.license_id,
        ends_at=answer.ends_at,
    )


@router.get("/assets/{asset_id}/rights")
async def rights(asset_id: uuid.UUID, principal: BrandReader, db: DatabaseDep) -> AssetRights:
    """Whether the asset is in rights now (a license in force covers this moment), and its
    licenses; an asset whose licenses all ended is out of rights."""
    rows = await db.run(
        licenses.list_licenses,
        {"workspace_id": principal.workspace_id, "asset_id": asset_id},
        200,
        0,
    )
    if not rows and not await db.run(licenses.asset_in_workspace, asset_id, principal.workspace_id):
        raise NotFound("no such asset in this workspace")
    now = utcnow()
    in_force = [
        r
        for r in rows
        if r.status == LicenseStatus.ACTIVE
        and r.starts_at <= now
        and (r.ends_at is None or now < r.ends_at)
    ]
    return AssetRights(
        asset_id=asset_id,
        in_rights=bool(in_force),
        licenses=[LicenseSummary.model_validate(r, from_attributes=True) for r in rows],
    )


@router.post("/assets/{asset_id}/publications", status_code=201)
async def publish(
    asset_id: uuid.UUID, body: PublicationCreate, principal: BrandWriter, db: DatabaseDep
) -> PublicationPublic:
    """Record where the asset goes live; only a use its license allows now. When the license
    ends the publication is withdrawn."""
    use = _use(body.channel, body.territory, None, body.platform)
    answer = await _answer(db, principal, asset_id, None, use)
    if not answer.allowed or answer.license_id is None:
        raise Conflict(f"not licensed for this use: {answer.reason}")
    row = Publication(
        workspace_id=principal.workspace_id,
        asset_id=asset_id,
        license_id=answer.license_id,
        channel=use.channel,
        platform=use.platform,
        territory=use.territory,
        target=body.target,
        status=PublicationStatus.LIVE,
    )
    saved = await db.run(licenses.add_publication, row)
    return PublicationPublic.model_validate(saved, from_attributes=True)


@router.get("/assets/{asset_id}/publications")
async def publications(
    asset_id: uuid.UUID, principal: BrandReader, db: DatabaseDep
) -> list[PublicationPublic]:
    rows = await db.run(licenses.list_publications, asset_id, principal.workspace_id)
    return [PublicationPublic.model_validate(r, from_attributes=True) for r in rows]
