"""Server-rendered portal: sign-in, the workspace's campaigns, a campaign with its live stage.

The session is the same short-lived JWT the API issues, kept in an HttpOnly cookie; every
state-changing form carries a CSRF token matched against a cookie (double submit).
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import DatabaseDep, Principal, SettingsDep, TemporalDep, check_membership
from api.routers.auth import authenticate, token_for
from api.routers.campaigns import live_status
from api.security import decode_access_token
from models import campaigns
from models.enums import Role
from nexus.errors import AppError, Unauthenticated

router = APIRouter(prefix="/portal", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

SESSION_COOKIE = "nexus_session"
CSRF_COOKIE = "nexus_csrf"
BRAND_ROLES = frozenset({Role.BRAND_ADMIN, Role.BRAND_MEMBER})


def _csrf_token(request: Request) -> str:
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)


def _render(
    request: Request, template: str, context: dict[str, object], status_code: int = 200
) -> HTMLResponse:
    token = _csrf_token(request)
    response = templates.TemplateResponse(
        request, template, {"csrf_token": token, **context}, status_code=status_code
    )
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response


def _csrf_ok(request: Request, submitted: str) -> bool:
    expected = request.cookies.get(CSRF_COOKIE, "")
    return bool(expected) and hmac.compare_digest(expected, submitted)


async def _session(request: Request, settings: SettingsDep, db: DatabaseDep) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        claims = decode_access_token(settings.auth, token)
        role = await db.run(check_membership, claims.user_id, claims.workspace_id)
    except Unauthenticated:
        return None
    return Principal(workspace_id=claims.workspace_id, role=role, user_id=claims.user_id)


def _to_login() -> RedirectResponse:
    return RedirectResponse("/portal/login", status_code=303)


@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    return _render(request, "portal/login.html", {"email": "", "errors": {}})


@router.post("/login", response_model=None)
async def login_submit(
    request: Request,
    settings: SettingsDep,
    db: DatabaseDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    errors: dict[str, str] = {}
    if not _csrf_ok(request, csrf_token):
        errors["form"] = "Your session expired; please try again."
    if not email.strip():
        errors["email"] = "Enter your e-mail address."
    if not password:
        errors["password"] = "Enter your password."  # noqa: S105 - a message
    if not errors:
        try:
            user_id, memberships = await db.run(authenticate, email.strip(), password)
            token = token_for(settings, user_id, memberships, None)
        except AppError as exc:
            errors["password"] = exc.detail
    if errors:
        context: dict[str, object] = {"email": email, "errors": errors}
        return _render(request, "portal/login.html", context, status_code=400)
    response = RedirectResponse("/portal", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token.access_token,
        max_age=token.expires_in,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(
    request: Request, csrf_token: Annotated[str, Form(max_length=100)] = ""
) -> RedirectResponse:
    response = _to_login()
    if _csrf_ok(request, csrf_token):
        response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("", response_model=None)
async def home(request: Request, settings: SettingsDep, db: DatabaseDep) -> Response:
    principal = await _session(request, settings, db)
    if principal is None:
        return _to_login()
    rows = []
    if principal.role in BRAND_ROLES:
        rows = await db.run(
            lambda s: campaigns.list_campaigns(s, principal.workspace_id, limit=200, offset=0)
        )
    return _render(request, "portal/campaigns.html", {"principal": principal, "campaigns": rows})


@router.get("/campaigns/{campaign_id}", response_model=None)
async def campaign_page(
    request: Request,
    campaign_id: uuid.UUID,
    settings: SettingsDep,
    db: DatabaseDep,
    temporal: TemporalDep,
) -> Response:
    principal = await _session(request, settings, db)
    if principal is None:
        return _to_login()
    record = None
    if principal.role in BRAND_ROLES:
        record = await db.run(campaigns.get_campaign, principal.workspace_id, campaign_id)
    if record is None:
        return _render(request, "portal/not_found.html", {"principal": principal}, 404)
    live = await live_status(temporal, campaign_id)
    return _render(
        request,
        "portal/campaign.html",
        {"principal": principal, "record": record, "live": live},
    )
