"""Sign-in, sign-out, and the start page of each role (sign-up: api.portal.signup)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import DatabaseDep, Principal, SettingsDep, Suspended
from api.portal import social
from api.portal.web import (
    BRAND_ROLES,
    Csrf,
    MaybeSignedIn,
    SignedIn,
    SuspendedSession,
    clear_session_cookies,
    csrf_ok,
    local_path,
    render,
    set_session_cookies,
    suspended_page,
)
from api.routers import auth as auth_api
from api.routers.auth import authenticate, token_for
from api.schemas import SwitchWorkspace
from domain.enums import Role
from models import workspaces
from nexus.errors import AppError

router = APIRouter()
log = logging.getLogger(__name__)


def signed_in_as(
    request: Request,
    access_token: str,
    expires_in: int,
    to: str = "/portal",
    refresh_token: str | None = None,
) -> RedirectResponse:
    """Signed in, on to `to`; with a refresh token the session renews itself while in use."""
    response = RedirectResponse(to, status_code=303)
    set_session_cookies(response, request, access_token, expires_in, refresh_token)
    return response


@router.get("/login")
async def login_page(
    request: Request, settings: SettingsDep, next: Annotated[str, Query(max_length=2000)] = ""
) -> HTMLResponse:
    """The sign-in form; `next`, a portal page asked for signed out, is where it lands."""
    context: dict[str, object] = {"email": "", "errors": {}, "next": local_path(next) or ""}
    context["social"] = social.buttons(settings)
    return render(request, "portal/login.html", context)


@router.post("/login", response_model=None)
async def login_submit(
    request: Request,
    settings: SettingsDep,
    db: DatabaseDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    errors: dict[str, str] = {}
    landing = local_path(next)
    if not csrf_ok(request, csrf_token):
        errors["form"] = "Your session expired; please try again."
    if not email.strip():
        errors["email"] = "Enter your e-mail address."
    if not password:
        errors["password"] = "Enter your password."  # noqa: S105 - a message
    if not errors:
        try:
            user_id, memberships = await db.run(authenticate, email.strip(), password)
            token = token_for(settings, user_id, memberships, None)
            token = await auth_api.with_refresh(settings, db, user_id, token)
        except Suspended as exc:
            # The right password: say why signing in cannot go on.
            return await suspended_page(request, SuspendedSession(exc.detail))
        except AppError as exc:
            errors["password"] = exc.detail
            if exc.status == 401:
                # Also what a paused or locked account hears (it tells no one who has one).
                errors["password"] += (
                    f". After {workspaces.SIGN_IN_FREE_FAILURES} wrong passwords in a row, "
                    "signing in pauses for a while: wait a few minutes, or reset your password."
                )
    if errors:
        context: dict[str, object] = {"email": email, "errors": errors, "next": landing or ""}
        context["social"] = social.buttons(settings)
        return render(request, "portal/login.html", context, status_code=400)
    return signed_in_as(
        request, token.access_token, token.expires_in, landing or "/portal", token.refresh_token
    )


@router.post("/logout")
async def logout(
    request: Request,
    principal: MaybeSignedIn,
    db: DatabaseDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> RedirectResponse:
    response = RedirectResponse("/portal/login", status_code=303)
    if csrf_ok(request, csrf_token):
        if principal is not None and principal.token is not None:
            # Ended on the server too, with its refresh tokens: a copy of the cookies is worth
            # nothing from now on.
            await auth_api.end_session(db, principal)
        clear_session_cookies(response)
    return response


@router.get("/workspaces")
async def workspaces_page(
    request: Request, principal: SignedIn, db: DatabaseDep, error: str = ""
) -> HTMLResponse:
    """Every workspace the user belongs to, to act in another one."""
    who = await auth_api.me(principal, db)
    context = {"principal": principal, "memberships": who.memberships, "error": error}
    return render(request, "portal/workspaces.html", context, 403 if error else 200)


@router.post("/workspaces", response_model=None, dependencies=[Csrf])
async def switch_workspace(
    request: Request,
    principal: SignedIn,
    settings: SettingsDep,
    db: DatabaseDep,
    workspace_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        body = SwitchWorkspace.model_validate({"workspace_id": workspace_id})
        token = await auth_api.switch_workspace(body, principal, settings, db)
    except Suspended:
        error = "That workspace is suspended: nothing can be done in it until support lifts it."
        return await workspaces_page(request, principal, db, error)
    except (ValidationError, AppError):
        error = "You are not a member of that workspace."
        return await workspaces_page(request, principal, db, error)
    return signed_in_as(
        request, token.access_token, token.expires_in, refresh_token=token.refresh_token
    )


def start_page(principal: Principal) -> str:
    if principal.role in BRAND_ROLES:
        return "/portal/campaigns"
    if principal.role == Role.CREATOR:
        return "/portal/work"
    return "/portal/ops"


@router.get("")
async def home(principal: SignedIn) -> RedirectResponse:
    return RedirectResponse(start_page(principal), status_code=303)
