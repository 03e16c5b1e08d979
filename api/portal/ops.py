"""Ops console: videos waiting for a human moderation decision (each case with its brand,
campaign and creator, the video at the finding's moment, the caption, the findings in words,
how long it has waited and by when it must be decided), open escalations, and every
campaign, delivery, license and payout linked to its process in the Temporal UI; the audit
log, filtered by workspace, actor, action and date, and its CSV export."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from api.deps import DatabaseDep, Principal, SettingsDep, StoreDep, TemporalDep
from api.portal.web import Csrf, OpsUser, field_errors, render
from api.routers import deliveries as deliveries_api
from api.routers import moderation as moderation_api
from api.routers.audit import to_csv
from api.services import TemporalGateway
from integrations.storage import StorageError
from models import admin, audit, deliveries, licenses, money
from models.moderation import case, case_names, open_escalations, waiting_cases
from nexus.errors import AppError, NotFound, ServiceUnavailable
from workflows import search_attributes as sa
from workflows.moderation import ModerationWorkflow
from workflows.moderation import workflow_id as moderation_workflow_id

router = APIRouter(prefix="/ops")
LISTED = 50
# What a held video's parts may be shown inline as, when their bytes prove it.
# A held photo's master is its JPEG, served as the case's "video".
CASE_INLINE = {
    "video": frozenset({"video/mp4", "image/jpeg"}),
    "captions": frozenset({"text/vtt"}),
}


async def legacy_cases(temporal: TemporalGateway) -> list[uuid.UUID] | None:
    """Videos the workflow engine says wait for a person, oldest first (cases held before
    they were recorded for ops are known only there); None when Temporal is down."""
    try:
        client = await temporal.client()
        found = [
            (w.start_time or datetime.max.replace(tzinfo=UTC), w.id)
            async for w in client.list_workflows(
                f'{sa.STAGE.name} = "moderation:review" AND ExecutionStatus = "Running"',
                limit=LISTED,
            )
        ]
    except (RPCError, ServiceUnavailable):
        return None
    ids = []
    for _, workflow_id in sorted(found):
        with contextlib.suppress(ValueError):
            ids.append(uuid.UUID(workflow_id.removeprefix("moderation-")))
    return ids


def _processes(session: Session) -> dict[str, Any]:
    escalated = open_escalations(session)
    return {
        "escalations": escalated,
        "escalation_names": case_names(session, [e.asset_id for e in escalated]),
        "deliveries": deliveries.list_deliveries(session, limit=LISTED),
        "licenses": licenses.list_licenses(session, {}, LISTED, 0),
        "payouts": money.payouts_of(session)[-LISTED:],
        "actions": admin.actions(session, limit=10),
    }


async def _console(
    request: Request,
    principal: Principal,
    db: DatabaseDep,
    temporal: TemporalDep,
) -> HTMLResponse:
    engine_cases = await legacy_cases(temporal)
    context = {
        "principal": principal, "now": datetime.now(UTC),
        "cases": await db.run(lambda s: waiting_cases(s, also=engine_cases or [])),
        "engine_down": engine_cases is None, **await db.run(_processes),
    }  # fmt: skip
    return render(request, "portal/ops.html", context)


@router.get("")
async def console(
    request: Request, principal: OpsUser, db: DatabaseDep, temporal: TemporalDep
) -> HTMLResponse:
    return await _console(request, principal, db, temporal)


async def _held(temporal: TemporalGateway, asset_id: uuid.UUID) -> bool:
    """Whether the workflow engine holds the video for a person (a case held before cases
    were recorded has no row to say so)."""
    try:
        client = await temporal.client()
        status = await client.get_workflow_handle(moderation_workflow_id(asset_id)).query(
            ModerationWorkflow.status, rpc_timeout=timedelta(seconds=5)
        )
    except (RPCError, WorkflowQueryFailedError, ServiceUnavailable):
        return False
    return status is not None and status.stage == "review"


async def _case_page(
    request: Request,
    principal: Principal,
    asset_id: uuid.UUID,
    db: DatabaseDep,
    temporal: TemporalDep,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = await db.run(case, asset_id)
    # A refused decision is answered on the page whatever the case's state.
    if found.review is None and not errors and not await _held(temporal, asset_id):
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    context = {
        "principal": principal, "case": found, "now": datetime.now(UTC),
        "form": form or {}, "errors": errors or {},
    }  # fmt: skip
    return render(request, "portal/ops_case.html", context, status_code)


@router.get("/moderation/{asset_id}")
async def review_case(
    request: Request,
    asset_id: uuid.UUID,
    principal: OpsUser,
    db: DatabaseDep,
    temporal: TemporalDep,
) -> HTMLResponse:
    """One video held for a person: who and what it is, the player at the finding's moment,
    the caption and the findings, how long it has waited and by when it must be decided."""
    return await _case_page(request, principal, asset_id, db, temporal)


@router.get("/moderation/{asset_id}/{part}", response_model=None)
async def case_media(
    asset_id: uuid.UUID,
    part: Literal["video", "captions"],
    principal: OpsUser,
    db: DatabaseDep,
    store: StoreDep,
) -> Response:
    """The held video's checked master for the review player (seekable), or its captions,
    through the one media serving function: inline only as what its bytes prove to be."""
    found = await db.run(case, asset_id)
    review = found.review
    key = (
        None
        if review is None
        else (review.master_key if part == "video" else review.captions_vtt_key)
    )
    if key is None:
        return Response(status_code=404)
    try:
        return await deliveries_api.stored_object(store, key, part, CASE_INLINE[part])
    except (NotFound, StorageError):
        return Response(status_code=404)


@router.post("/moderation/{asset_id}/review", response_model=None, dependencies=[Csrf])
async def decide(
    request: Request,
    asset_id: uuid.UUID,
    principal: OpsUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    decision: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Approve (the draft goes on) or reject (the creator reads the note) the held video."""
    form = {"decision": decision, "reason": reason}
    try:
        body = moderation_api.ReviewCreate.model_validate(
            {"decision": decision, "reason": reason.strip()}
        )
        await moderation_api.review(asset_id, body, principal, temporal, settings)
    except ValidationError as exc:
        errors = field_errors(exc, {"decision": "decision", "reason": "reason"})
        if "decision" in errors:
            errors["decision"] = "Choose approve or reject."
        if "reason" in errors and not reason.strip():
            errors["reason"] = "Write a note: the reason for your decision."
        return await _case_page(request, principal, asset_id, db, temporal, form, errors, 422)
    except AppError as exc:
        errors = {"form": exc.detail}
        return await _case_page(request, principal, asset_id, db, temporal, form, errors,
                                exc.status)  # fmt: skip
    return RedirectResponse("/portal/ops", status_code=303)


# -- audit log -------------------------------------------------------------------------------

AUDIT_PAGE = 50
_KINDS = {kind.value: kind for kind in (audit.ActorKind.SYSTEM, audit.ActorKind.ANONYMOUS)}


def _day(text: str, errors: dict[str, str], name: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(), UTC)
    except ValueError:
        errors[name] = "Enter a date like 2026-12-04."
        return None


def _audit_filter(form: dict[str, str], errors: dict[str, str]) -> audit.AuditFilter:
    """The page's choices (IDs behind names in the selects) as a filter; what does not parse
    is named in `errors` and left out."""
    ids: dict[str, uuid.UUID | None] = {}
    for name in ("workspace", "actor"):
        try:
            ids[name] = uuid.UUID(form[name]) if form[name] and form[name] not in _KINDS else None
        except ValueError:
            errors[name] = "Choose from the list."
            ids[name] = None
    until = _day(form["until"], errors, "until")
    return audit.AuditFilter(
        workspace_id=ids["workspace"],
        actor_id=ids["actor"],
        actor_kind=_KINDS.get(form["actor"]),
        action=form["action"] or None,
        since=_day(form["since"], errors, "since"),
        until=until + timedelta(days=1) if until else None,
    )


AuditField = Annotated[str, Query(max_length=100)]


@router.get("/audit", response_model=None)
async def audit_log(
    request: Request,
    principal: OpsUser,
    db: DatabaseDep,
    workspace: AuditField = "",
    actor: AuditField = "",
    action: AuditField = "",
    since: AuditField = "",
    until: AuditField = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    export: Annotated[bool, Query()] = False,
) -> Response:
    form = {"workspace": workspace, "actor": actor, "action": action, "since": since,
            "until": until}  # fmt: skip
    errors: dict[str, str] = {}
    where = _audit_filter(form, errors)
    if export and not errors:
        rows = await db.run(lambda s: audit.search(s, where, limit=100_000, offset=0))
        return Response(
            to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    offset = (page - 1) * AUDIT_PAGE

    def read(session: Session) -> tuple[list[audit.Listed], audit.Choices]:
        # One more than a page says whether an older page exists.
        found = audit.search(session, where, limit=AUDIT_PAGE + 1, offset=offset)
        return found, audit.choices(session)

    rows, choices = await db.run(read)
    context = {
        "principal": principal, "form": form, "errors": errors, "events": rows[:AUDIT_PAGE],
        "choices": choices, "page": page, "older": len(rows) > AUDIT_PAGE,
        "query": {k: v for k, v in form.items() if v}, "utc": UTC,
    }  # fmt: skip
    return render(request, "portal/audit.html", context, 422 if errors else 200)
