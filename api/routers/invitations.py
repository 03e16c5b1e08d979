"""Invitations of people to a brand workspace, and accepting one with its secret token."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import DatabaseDep, OptionalUserDep, Principal, SettingsDep, allow
from api.routers.auth import memberships, token_for
from api.routers.passwords import password_refused
from api.schemas import Request as Body
from api.schemas import TokenResponse
from api.security import hash_password, invitation_token_hash, new_invitation_token
from api.text import LINE
from domain.enums import Role
from domain.passwords import MAX_LENGTH, MIN_LENGTH, password_problem, strong_password
from integrations.notifications import Message, Notifier
from models import invitations, workspaces
from models.base import utcnow
from models.invitations import Invitation
from models.workspaces import Membership, User, Workspace
from nexus.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    Gone,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)

log = logging.getLogger(__name__)

router = APIRouter(tags=["invitations"])

Admin = Annotated[Principal, Depends(allow(Role.BRAND_ADMIN))]

# No white space or control characters: a NUL would reach PostgreSQL, which refuses it.
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\.[^@\s\x00-\x1f\x7f-\x9f]+$"


class MemberInvitationCreate(Body):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=320)
    role: Literal[Role.BRAND_ADMIN, Role.BRAND_MEMBER]


class MemberInvitationPublic(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    email: str
    role: Role
    invited_by: uuid.UUID
    created_at: datetime
    expires_at: datetime


class MemberInvitationCreated(MemberInvitationPublic):
    link: str = Field(description="The portal page that accepts it; shown only here")


class InvitationAcceptance(Body):
    """For a new person, their name and password; an existing user signs in instead."""

    name: Annotated[str, Field(min_length=1, max_length=200), LINE] | None = None
    password: str | None = Field(
        default=None,
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        description="At least 12 characters; not a common password nor the e-mail address",
    )

    @field_validator("password")
    @classmethod
    def _strong_enough(cls, password: str | None) -> str | None:
        # The e-mail address is the invitation's: compared once it is found (_accept).
        return None if password is None else strong_password(password)


def invitation_link(token: str) -> str:
    return f"/portal/invitations/{token}"


def _create(
    session: Session,
    principal: Principal,
    body: MemberInvitationCreate,
    token_hash: str,
    ttl: timedelta,
) -> tuple[Invitation, User | None, str]:
    email = body.email
    if invitations.is_member(session, principal.workspace_id, email):
        raise Conflict(
            "already a member of this workspace",
            errors=[FieldProblem("body.email", "This person is a member already.")],
        )
    if invitations.pending(session, principal.workspace_id, email):
        raise Conflict(
            "an invitation to this e-mail is pending",
            errors=[FieldProblem("body.email", "An invitation to this e-mail is pending.")],
        )
    assert principal.user_id is not None
    row = Invitation(
        workspace_id=principal.workspace_id,
        email=email,
        role=body.role,
        token_hash=token_hash,
        invited_by=principal.user_id,
        expires_at=utcnow() + ttl,
    )
    session.add(row)
    session.flush()
    workspace = session.get(Workspace, principal.workspace_id)
    assert workspace is not None
    return row, workspaces.find_user_by_email(session, email), workspace.name


@router.post("/workspaces/current/invitations", status_code=201)
async def invite(
    body: MemberInvitationCreate,
    admin: Admin,
    request: Request,
    settings: SettingsDep,
    db: DatabaseDep,
) -> MemberInvitationCreated:
    """Invite a person by e-mail to this brand workspace. The link goes out by e-mail when
    SMTP is configured, to the inbox of an existing user otherwise, and is in the answer."""
    token, token_hash = new_invitation_token()
    ttl = timedelta(days=settings.auth.invitation_ttl_days)
    row, user, workspace_name = await db.run(_create, admin, body, token_hash, ttl)
    link = invitation_link(token)
    notifier: Notifier = request.app.state.notifier
    message = Message(
        event_key=f"invitation-{row.id}",
        user_id=user.id if user else None,
        email=row.email,
        kind="invitation",
        title=f"You are invited to {workspace_name} on NEXUS",
        body=f"Join as {row.role.value.replace('_', ' ')}; the invitation is valid for "
        f"{settings.auth.invitation_ttl_days} days.",
        link=link,
    )
    try:
        await run_in_threadpool(notifier.deliver, [message])
    except OSError:
        # The invitation stands: the admin has the link to pass on by hand.
        log.warning("invitation %s could not be sent", row.id, exc_info=True)
    return MemberInvitationCreated(**row.model_dump(), link=link)


@router.get("/workspaces/current/invitations")
async def list_invitations(admin: Admin, db: DatabaseDep) -> list[MemberInvitationPublic]:
    """Pending invitations of this workspace."""
    rows = await db.run(invitations.pending, admin.workspace_id)
    return [MemberInvitationPublic.model_validate(r, from_attributes=True) for r in rows]


@router.delete("/workspaces/current/invitations/{invitation_id}", status_code=204)
async def revoke_invitation(invitation_id: uuid.UUID, admin: Admin, db: DatabaseDep) -> Response:
    if not await db.run(invitations.revoke, admin.workspace_id, invitation_id):
        raise NotFound("no such pending invitation")
    return Response(status_code=204)


def open_invitation(session: Session, token: str, *, lock: bool = False) -> Invitation:
    """The pending invitation a token opens; otherwise why not."""
    row = invitations.by_token_hash(session, invitation_token_hash(token), lock=lock)
    state = row.state(utcnow()) if row else "unknown"
    if row is None or state in ("unknown", "revoked"):
        raise NotFound("no such invitation")
    if state == "accepted":
        raise Conflict("this invitation has been used already")
    if state == "expired":
        raise Gone("this invitation has expired")
    return row


def _accept(
    session: Session,
    token: str,
    signed_in: Principal | None,
    body: InvitationAcceptance,
    password_hash: str | None,
) -> tuple[uuid.UUID, uuid.UUID]:
    """(user, workspace joined)."""
    row = open_invitation(session, token, lock=True)
    user = workspaces.find_user_by_email(session, row.email)
    if user is not None:
        if signed_in is None:
            raise Unauthenticated(f"sign in as {row.email} to accept this invitation")
        if signed_in.user_id != user.id:
            raise Forbidden("this invitation is for another e-mail address")
        if workspaces.membership(session, user.id, row.workspace_id) is not None:
            raise Conflict("already a member of this workspace")
    else:
        problems = [
            FieldProblem(f"body.{name}", "Field required")
            for name, value in (("name", body.name), ("password", password_hash))
            if value is None
        ]
        if problems:
            raise ValidationFailed("a new member needs a name and a password", errors=problems)
        assert body.name is not None and body.password is not None and password_hash is not None
        problem = password_problem(body.password, row.email)
        if problem is not None:
            raise password_refused(problem)
        user = User(email=row.email, name=body.name.strip(), password_hash=password_hash)
        session.add(user)
        session.flush()
    session.add(Membership(user_id=user.id, workspace_id=row.workspace_id, role=row.role))
    row.accepted_at = utcnow()
    session.add(row)
    return user.id, row.workspace_id


@router.post("/invitations/{token}/acceptance", status_code=201)
async def accept_invitation(
    token: str,
    body: InvitationAcceptance,
    signed_in: OptionalUserDep,
    settings: SettingsDep,
    db: DatabaseDep,
) -> TokenResponse:
    """Join the workspace: a new person with a name and password, an existing user signed in
    as themselves. Answers with an access token for the workspace joined."""
    password_hash = await run_in_threadpool(hash_password, body.password) if body.password else None
    user_id, workspace_id = await db.run(_accept, token, signed_in, body, password_hash)
    options = await db.run(memberships, user_id)
    return token_for(settings, user_id, options, workspace_id)
