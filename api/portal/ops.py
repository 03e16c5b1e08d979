"""Ops console: videos waiting for a human moderation decision, open escalations, and every
campaign, delivery, license and payout linked to its process in the Temporal UI; the audit
log, filtered by workspace, actor, action and date, and its CSV export."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from temporalio.service import RPCError

from api.deps import DatabaseDep, Principal, SettingsDep, TemporalDep
from api.portal.web import Csrf, OpsUser, field_errors, render
from api.routers import moderation as moderation_api
from api.routers.audit import to_csv
from api.services import TemporalGateway
from models import audit, deliveries, licenses, money
from models.moderation import open_escalations
from nexus.errors import AppError, ServiceUnavailable
from workflows import search_attributes as sa

router = APIRouter(prefix="/ops")
LISTED = 50


async def review_cases(temporal: TemporalGateway) -> list[dict[str, Any]] | None:
    """Moderation processes waiting for a person, oldest first; None when Temporal is down."""
    try:
        client = await temporal.client()
        found: list[dict[str, Any]] = [
            {"asset_id": w.id.removeprefix("moderation-"), "workflow_id": w.id,
             "since": w.start_time}
            async for w in client.list_workflows(
                f'{sa.STAGE.name} = "moderation:review" AND ExecutionStatus = "Running"',
                limit=LISTED,
            )
        ]  # fmt: skip
    except (RPCError, ServiceUnavailable):
        return None
    return sorted(found, key=lambda case: case["since"] or datetime.max)


def _processes(session: Session) -> dict[str, Any]:
    return {
        "escalations": open_escalations(session),
        "deliveries": deliveries.list_deliveries(session, limit=LISTED),
        "licenses": licenses.list_licenses(session, {}, LISTED, 0),
        "payouts": money.payouts_of(session)[-LISTED:],
    }


async def _console(
    request: Request,
    principal: Principal,
    db: DatabaseDep,
    temporal: TemporalDep,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "principal": principal, "cases": await review_cases(temporal),
        "form": form or {}, "errors": errors or {}, **await db.run(_processes),
    }  # fmt: skip
    return render(request, "portal/ops.html", context, status_code)


@router.get("")
async def console(
    request: Request, principal: OpsUser, db: DatabaseDep, temporal: TemporalDep
) -> HTMLResponse:
    return await _console(request, principal, db, temporal)


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
    form = {"asset_id": str(asset_id), "decision": decision, "reason": reason}
    try:
        body = moderation_api.ReviewCreate.model_validate(
            {"decision": decision, "reason": reason.strip()}
        )
        await moderation_api.review(asset_id, body, principal, temporal, settings)
    except ValidationError as exc:
        errors = field_errors(exc, {"decision": "decision", "reason": "reason"})
        if "decision" in errors:
            errors["decision"] = "Choose pass or block."
        return await _console(request, principal, db, temporal, form, errors, 422)
    except AppError as exc:
        errors = {"form": exc.detail}
        return await _console(request, principal, db, temporal, form, errors, exc.status)
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
