"""A brand admin's team: members, inviting people by e-mail, revoking pending invitations;
and the public page where an invited person accepts."""

from __future__ import annotations

import contextlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import DatabaseDep, Principal, SettingsDep
from api.portal.auth import signed_in_as
from api.portal.web import BrandAdmin, Csrf, MaybeSignedIn, field_errors, render, render_form
from api.routers import invitations as invitations_api
from api.routers import members as members_api
from api.routers.invitations import InvitationAcceptance, MemberInvitationCreate
from domain.enums import Role
from models import invitations, workspaces
from models.workspaces import Workspace
from nexus.errors import AppError, Conflict, Gone, NotFound

router = APIRouter()

INVITE_FIELDS = {"email": "email", "role": "role"}
INVITE_MESSAGES = {
    "email": "Enter an e-mail address like name@example.com.",
    "role": "Choose member or admin.",
}


async def _team(
    request: Request,
    principal: Principal,
    db: DatabaseDep,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    link: str = "",
    status_code: int = 200,
    member_errors: dict[uuid.UUID, str] | None = None,
    notice: str = "",
) -> HTMLResponse:
    def rows(session: Session) -> dict[str, Any]:
        return {
            "members": invitations.members(session, principal.workspace_id),
            "pending": invitations.pending(session, principal.workspace_id),
        }

    ttl_days = request.app.state.settings.auth.invitation_ttl_days
    context = {"principal": principal, "form": form or {"role": "brand_member"},
               "errors": errors or {}, "link": link, "ttl_days": ttl_days,
               "member_errors": member_errors or {}, "notice": MEMBER_NOTICES.get(notice, ""),
               **await db.run(rows)}  # fmt: skip
    # A member gone meanwhile (or of another workspace) has no card to show the problem on.
    listed = {u.id for _, u in context["members"]}
    context["stray_errors"] = [v for k, v in (member_errors or {}).items() if k not in listed]
    return render(request, "portal/team.html", context, status_code)


@router.get("/team")
async def team(
    request: Request,
    principal: BrandAdmin,
    db: DatabaseDep,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    return await _team(request, principal, db, notice=done)


# -- members: role and removal ---------------------------------------------------------------

MEMBER_NOTICES = {
    "role": "Role changed. It applies to their sessions at once.",
    "removed": "Member removed. Their sessions and the API keys they created have ended.",
}
MEMBER_ROLES = {"brand_admin": Role.BRAND_ADMIN, "brand_member": Role.BRAND_MEMBER}


@router.post("/team/members/{user_id}/role", response_model=None, dependencies=[Csrf])
async def change_member_role(
    request: Request,
    user_id: uuid.UUID,
    principal: BrandAdmin,
    db: DatabaseDep,
    role: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    if role not in MEMBER_ROLES:
        errors = {user_id: "Choose member or admin."}
        return await _team(request, principal, db, status_code=422, member_errors=errors)
    try:
        await members_api.change_member_role(user_id, MEMBER_ROLES[role], principal, db)
    except (Conflict, NotFound) as exc:
        words = MEMBER_WORDS.get(type(exc).__name__, exc.detail)
        errors = {user_id: words}
        return await _team(request, principal, db, status_code=exc.status, member_errors=errors)
    return RedirectResponse("/portal/team?done=role", status_code=303)


MEMBER_WORDS = {
    "LastAdmin": "This is the workspace's last admin. Make someone else an admin first.",
    "NotFound": "This person is no longer a member.",
}


@router.post("/team/members/{user_id}/removal", response_model=None, dependencies=[Csrf])
async def remove_member(
    request: Request, user_id: uuid.UUID, principal: BrandAdmin, db: DatabaseDep
) -> Response:
    try:
        await members_api.remove(user_id, principal, db)
    except (Conflict, NotFound) as exc:
        words = MEMBER_WORDS.get(type(exc).__name__, exc.detail)
        errors = {user_id: words}
        return await _team(request, principal, db, status_code=exc.status, member_errors=errors)
    return RedirectResponse("/portal/team?done=removed", status_code=303)


@router.post("/team/invitations", response_model=None, dependencies=[Csrf])
async def invite(
    request: Request,
    principal: BrandAdmin,
    settings: SettingsDep,
    db: DatabaseDep,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    form = {"email": email, "role": role}
    try:
        body = MemberInvitationCreate.model_validate({"email": email.strip(), "role": role})
        created = await invitations_api.invite(body, principal, request, settings, db)
    except ValidationError as exc:
        found = field_errors(exc, INVITE_FIELDS)
        errors = {k: INVITE_MESSAGES.get(k, v) for k, v in found.items()}
        return await _team(request, principal, db, form, errors, status_code=422)
    except AppError as exc:
        errors = field_errors(exc, INVITE_FIELDS)
        return await _team(request, principal, db, form, errors, status_code=exc.status)
    # The link is shown this once, to pass on by hand if the message does not arrive.
    return await _team(request, principal, db, link=f"{request.base_url}{created.link[1:]}")


@router.post("/team/invitations/{invitation_id}/revocation", dependencies=[Csrf])
async def revoke(
    invitation_id: uuid.UUID, principal: BrandAdmin, db: DatabaseDep
) -> RedirectResponse:
    # One revoked meanwhile, or not of this workspace, is gone from the list either way.
    with contextlib.suppress(NotFound):
        await invitations_api.revoke_invitation(invitation_id, principal, db)
    return RedirectResponse("/portal/team", status_code=303)


# -- accepting -------------------------------------------------------------------------------

ACCEPT_FIELDS = {"name": "name", "password": "password"}
REQUIRED = "Field required"
ACCEPT_MESSAGES = {
    "name": "Enter your name.",
    "password": "Choose a password of at least 12 characters.",
}
CLOSED = {
    NotFound: "This invitation does not exist or was withdrawn.",
    Conflict: "This invitation has been used already.",
    Gone: "This invitation has expired. Ask the workspace's admin for a new one.",
}


def _invitation(session: Session, token: str) -> dict[str, Any]:
    row = invitations_api.open_invitation(session, token)
    workspace = session.get(Workspace, row.workspace_id)
    assert workspace is not None
    user = workspaces.find_user_by_email(session, row.email)
    return {"invitation": row, "workspace": workspace.name,
            "account_id": user.id if user else None}  # fmt: skip


async def _accept_page(
    request: Request,
    token: str,
    principal: Principal | None,
    db: DatabaseDep,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        found = await db.run(_invitation, token)
    except (NotFound, Conflict, Gone) as exc:
        closed: dict[str, object] = {"principal": principal, "message": CLOSED[type(exc)]}
        return render(request, "portal/invitation_closed.html", closed, exc.status)
    context: dict[str, object] = {"principal": principal, "token": token, **found}
    return render_form(request, "portal/invitation.html", context, form, errors, status_code)


@router.get("/invitations/{token}")
async def invitation_page(
    request: Request, token: str, principal: MaybeSignedIn, db: DatabaseDep
) -> HTMLResponse:
    return await _accept_page(request, token, principal, db)


@router.post("/invitations/{token}", response_model=None, dependencies=[Csrf])
async def accept(
    request: Request,
    token: str,
    principal: MaybeSignedIn,
    settings: SettingsDep,
    db: DatabaseDep,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    form = {"name": name}
    try:
        body = InvitationAcceptance.model_validate(
            {"name": name.strip() or None, "password": password or None}
        )
        joined = await invitations_api.accept_invitation(token, body, principal, settings, db)
    except ValidationError as exc:
        errors = field_errors(exc, ACCEPT_FIELDS)
        return await _accept_page(request, token, principal, db, form, errors, 422)
    except AppError as exc:
        found = field_errors(exc, ACCEPT_FIELDS).items()
        # A missing field is asked for in words; a refused password keeps its reason.
        errors = {k: ACCEPT_MESSAGES.get(k, v) if v == REQUIRED else v for k, v in found}
        return await _accept_page(request, token, principal, db, form, errors, exc.status)
    return signed_in_as(request, joined.access_token, joined.expires_in)
