"""Ops administration pages: find accounts and workspaces by name or e-mail, a workspace's
members and state, an account's workspaces and state; suspend and reactivate either with a
reason, resend a verification e-mail; the admin log of who did what and why."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import DatabaseDep, Principal
from api.portal.web import Csrf, OpsUser, field_errors, render, render_form
from api.routers import ops_admin as api
from models import admin as admin_model
from nexus.errors import AppError, Conflict, NotFound

router = APIRouter(prefix="/ops/admin")
PAGE = 25
LOGGED = 50

REASON_FIELDS = {"reason": "reason"}
REASON_MESSAGE = "Say why in a few words (3 to 500 characters): it is kept in the admin log."
NOTICES = {
    "suspended": "Suspended. Its sessions and API keys are refused from now on.",
    "reactivated": "Reactivated. Its sessions and API keys are accepted again.",
    "resent": "A new verification link is on its way.",
}

SearchText = Annotated[str, Query(max_length=200)]


@router.get("", response_model=None)
async def administration(
    request: Request,
    principal: OpsUser,
    db: DatabaseDep,
    q: SearchText = "",
    kind: Annotated[Literal["workspaces", "users"], Query()] = "workspaces",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Search, page by page, and the latest actions of the admin log."""
    text = q.strip()
    errors: dict[str, str] = {}
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        errors["q"] = "Type part of a name or an e-mail address."
        text = ""
    offset = (page - 1) * PAGE

    def read(session: Session) -> dict[str, Any]:
        # One more than a page says whether a next page exists.
        if kind == "users":
            found: list[Any] = admin_model.find_users(session, text, PAGE + 1, offset)
        else:
            found = admin_model.find_workspaces(session, text, PAGE + 1, offset)
        return {"found": found[:PAGE], "more": len(found) > PAGE,
                "actions": admin_model.actions(session, limit=LOGGED)}  # fmt: skip

    context = {"principal": principal, "form": {"q": q, "kind": kind}, "errors": errors,
               "page": page, **await db.run(read)}  # fmt: skip
    return render(request, "portal/ops_admin.html", context, 422 if errors else 200)


# -- a workspace ------------------------------------------------------------------------------


async def _target_page(
    request: Request,
    principal: Principal,
    kind: Literal["workspace", "user"],
    target_id: uuid.UUID,
    db: DatabaseDep,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    notice: str = "",
) -> HTMLResponse:
    """A workspace's or an account's page: its details and what the admin log holds of it."""
    detail = api.workspace_detail if kind == "workspace" else api.user_detail
    try:
        target = await db.run(detail, target_id)
    except NotFound:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    actions = await db.run(lambda s: admin_model.actions(s, target_id=target_id, limit=LOGGED))
    context = {"principal": principal, kind: target, "actions": actions,
               "notice": NOTICES.get(notice, "")}  # fmt: skip
    return render_form(request, f"portal/ops_admin_{kind}.html", context, form, errors, status_code)


@router.get("/workspaces/{workspace_id}")
async def workspace_page(
    request: Request,
    workspace_id: uuid.UUID,
    principal: OpsUser,
    db: DatabaseDep,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    return await _target_page(request, principal, "workspace", workspace_id, db, notice=done)


def _reason(reason: str) -> str:
    """The reason as the API takes it; ValidationError otherwise."""
    return api.Reason.model_validate({"reason": reason}).reason


def _reason_errors(exc: ValidationError | AppError) -> dict[str, str]:
    errors = field_errors(exc, REASON_FIELDS)
    if "reason" in errors:
        errors["reason"] = REASON_MESSAGE
    return errors


async def _workspace_change(
    request: Request,
    workspace_id: uuid.UUID,
    principal: Principal,
    db: DatabaseDep,
    reason: str,
    suspend: bool,
) -> Response:
    form = {"reason": reason}
    try:
        await api.workspace_suspension(
            workspace_id, _reason(reason), principal, db, suspend=suspend
        )
    except (ValidationError, AppError) as exc:
        status = exc.status if isinstance(exc, AppError) else 422
        errors = _reason_errors(exc)
        return await _target_page(
            request, principal, "workspace", workspace_id, db, form, errors, status
        )
    done = "suspended" if suspend else "reactivated"
    return RedirectResponse(f"/portal/ops/admin/workspaces/{workspace_id}?done={done}", 303)


Reason = Annotated[str, Form(max_length=2000)]


@router.post("/workspaces/{workspace_id}/suspension", response_model=None, dependencies=[Csrf])
async def suspend_workspace(
    request: Request,
    workspace_id: uuid.UUID,
    principal: OpsUser,
    db: DatabaseDep,
    reason: Reason = "",
) -> Response:
    return await _workspace_change(request, workspace_id, principal, db, reason, True)


@router.post("/workspaces/{workspace_id}/reactivation", response_model=None, dependencies=[Csrf])
async def reactivate_workspace(
    request: Request,
    workspace_id: uuid.UUID,
    principal: OpsUser,
    db: DatabaseDep,
    reason: Reason = "",
) -> Response:
    return await _workspace_change(request, workspace_id, principal, db, reason, False)


# -- an account -------------------------------------------------------------------------------


@router.get("/users/{user_id}")
async def user_page(
    request: Request,
    user_id: uuid.UUID,
    principal: OpsUser,
    db: DatabaseDep,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    return await _target_page(request, principal, "user", user_id, db, notice=done)


async def _user_change(
    request: Request,
    user_id: uuid.UUID,
    principal: Principal,
    db: DatabaseDep,
    reason: str,
    action: Literal["suspend", "reactivate", "resend"],
) -> Response:
    form = {"reason": reason, "action": action}
    try:
        why = _reason(reason)
        if action == "resend":
            await api.resend(request, user_id, why, principal, db)
        else:
            await api.user_suspension(user_id, why, principal, db, suspend=action == "suspend")
    except ValidationError as exc:
        return await _target_page(
            request, principal, "user", user_id, db, form, _reason_errors(exc), 422
        )
    except (Conflict, NotFound) as exc:
        errors = {"form": exc.detail[:1].upper() + exc.detail[1:] + "."}
        return await _target_page(request, principal, "user", user_id, db, form, errors, exc.status)
    done = {"suspend": "suspended", "reactivate": "reactivated", "resend": "resent"}[action]
    return RedirectResponse(f"/portal/ops/admin/users/{user_id}?done={done}", 303)


@router.post("/users/{user_id}/suspension", response_model=None, dependencies=[Csrf])
async def suspend_user(
    request: Request, user_id: uuid.UUID, principal: OpsUser, db: DatabaseDep, reason: Reason = ""
) -> Response:
    return await _user_change(request, user_id, principal, db, reason, "suspend")


@router.post("/users/{user_id}/reactivation", response_model=None, dependencies=[Csrf])
async def reactivate_user(
    request: Request, user_id: uuid.UUID, principal: OpsUser, db: DatabaseDep, reason: Reason = ""
) -> Response:
    return await _user_change(request, user_id, principal, db, reason, "reactivate")


@router.post("/users/{user_id}/verification-email", response_model=None, dependencies=[Csrf])
async def resend_verification(
    request: Request, user_id: uuid.UUID, principal: OpsUser, db: DatabaseDep, reason: Reason = ""
) -> Response:
    return await _user_change(request, user_id, principal, db, reason, "resend")
