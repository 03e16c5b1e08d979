"""Ops console: videos waiting for a human moderation decision, open escalations, and every
campaign, delivery, license and payout linked to its process in the Temporal UI."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from temporalio.service import RPCError

from api.deps import DatabaseDep, Principal, SettingsDep, TemporalDep
from api.portal.web import Csrf, OpsUser, field_errors, render
from api.routers import moderation as moderation_api
from api.services import TemporalGateway
from models import deliveries, licenses, money
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
