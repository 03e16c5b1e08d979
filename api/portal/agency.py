"""An agency's clients in the portal: the list (with "Act for" each one), the form that
creates one, and the name of the workspace a person acts in, which every page shows."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import DatabaseDep, Principal
from api.portal.web import SESSION_COOKIE, BrandAdmin, BrandUser, Csrf, field_errors, render
from api.routers import agency as agency_api
from api.routers.agency import ClientCreate
from api.security import decode_access_token
from models import agencies
from nexus.errors import AppError, Unauthenticated

router = APIRouter()

FIELDS = {"name": "name", "brand_name": "brand_name"}
MESSAGES = {
    "name": "Enter the client's name (up to 200 characters).",
    "brand_name": "Enter the name of the client's first brand (up to 200 characters).",
}
# What request.state holds for base.html: the workspace acted in (models.agencies.ActingFor).
ACTING_FOR = "nexus_acting_for"


async def acting_for(request: Request) -> None:
    """Look up, for the page's header, the name of the workspace the session acts in (and,
    for a client acted in through its agency, the agency's). Only whole pages: not the
    fragments htmx fetches. Who may see the page is decided by the page itself."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or (request.method == "GET" and request.headers.get("HX-Request")):
        return
    try:
        claims = decode_access_token(request.app.state.settings.auth, token, verify_expiry=False)
    except Unauthenticated:
        return
    found = await request.app.state.database.read(
        agencies.acting_for, claims.user_id, claims.workspace_id
    )
    setattr(request.state, ACTING_FOR, found)


async def _agency_only(db: DatabaseDep, principal: Principal) -> None:
    if not await db.read(agencies.is_agency, principal.workspace_id):
        # Home shows each workspace its own start page.
        raise HTTPException(303, "not an agency", headers={"Location": "/portal"})


async def _clients_page(
    request: Request,
    principal: Principal,
    db: DatabaseDep,
    created: uuid.UUID | None = None,
) -> HTMLResponse:
    clients = await db.read(agencies.list_clients, principal.workspace_id)
    context = {
        "principal": principal,
        "clients": clients,
        "created": next((c for c in clients if c.workspace_id == created), None),
    }
    return render(request, "portal/agency_clients.html", context)


@router.get("/agency/clients")
async def clients(
    request: Request, principal: BrandUser, db: DatabaseDep, created: str = ""
) -> HTMLResponse:
    """The agency's clients, each with a button to act for it."""
    await _agency_only(db, principal)
    try:
        new = uuid.UUID(created) if created else None
    except ValueError:
        new = None
    return await _clients_page(request, principal, db, new)


def _form_page(
    request: Request,
    principal: Principal,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    context = {"principal": principal, "form": form, "errors": errors}
    return render(request, "portal/agency_client_new.html", context, status_code)


@router.get("/agency/clients/new")
async def new_client(request: Request, principal: BrandAdmin, db: DatabaseDep) -> HTMLResponse:
    await _agency_only(db, principal)
    return _form_page(request, principal, {}, {})


@router.post("/agency/clients", response_model=None, dependencies=[Csrf])
async def create_client(
    request: Request,
    principal: BrandAdmin,
    db: DatabaseDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    brand_name: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    await _agency_only(db, principal)
    form = {"name": name, "brand_name": brand_name}
    try:
        body = ClientCreate.model_validate({"name": name, "brand_name": brand_name})
        client = await agency_api.create(db, principal, body)
    except ValidationError as exc:
        found = field_errors(exc, FIELDS)
        errors = {k: MESSAGES.get(k, v) for k, v in found.items()}
        return _form_page(request, principal, form, errors, 422)
    except AppError as exc:
        return _form_page(request, principal, form, field_errors(exc, FIELDS), exc.status)
    return RedirectResponse(
        f"/portal/agency/clients?created={client.workspace_id}", status_code=303
    )
