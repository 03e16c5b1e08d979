"""Sign-in, workspace switching and the caller's identity."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlmodel import Session

from api.deps import ANY_SCOPE, DatabaseDep, Principal, SettingsDep, UserDep, allow
from api.schemas import (
    LoginRequest,
    MeResponse,
    SwitchWorkspace,
    TokenResponse,
    WorkspaceMembership,
)
from api.security import AccessClaims, issue_access_token, verify_password
from domain.enums import Role
from models import workspaces
from models.workspaces import User
from nexus.errors import Forbidden, Unauthenticated
from nexus.settings import Settings

router = APIRouter(prefix="/auth", tags=["auth"])

# Who is calling: any signed-in user, and a partner key whatever its scopes (it learns only
# about itself).
Caller = Annotated[
    Principal,
    Depends(allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER, Role.CREATOR, Role.OPS, scope=ANY_SCOPE)),
]


def memberships(session: Session, user_id: uuid.UUID) -> list[WorkspaceMembership]:
    return [
        WorkspaceMembership(workspace_id=w.id, name=w.name, kind=w.kind, role=m.role)
        for m, w in workspaces.memberships_of(session, user_id)
    ]


def token_for(
    settings: Settings,
    user_id: uuid.UUID,
    options: list[WorkspaceMembership],
    wanted: uuid.UUID | None,
) -> TokenResponse:
    chosen = next((m for m in options if wanted in (None, m.workspace_id)), None)
    if chosen is None:
        raise Forbidden("not a member of that workspace" if wanted else "no workspace membership")
    token, ttl = issue_access_token(
        settings.auth, AccessClaims(user_id, chosen.workspace_id, chosen.role)
    )
    return TokenResponse(
        access_token=token, expires_in=ttl, workspace_id=chosen.workspace_id, role=chosen.role
    )


def authenticate(
    session: Session, email: str, password: str
) -> tuple[uuid.UUID, list[WorkspaceMembership]]:
    # No account has a NUL in its e-mail, and PostgreSQL refuses one in a query. Unknown
    # e-mails are checked against a dummy hash: as slow as a wrong password, and the same answer.
    user = workspaces.find_user_by_email(session, email) if "\x00" not in email else None
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthenticated("e-mail or password is wrong")
    return user.id, memberships(session, user.id)


@router.post("/login")
async def login(body: LoginRequest, settings: SettingsDep, db: DatabaseDep) -> TokenResponse:
    """Exchange e-mail and password for a short-lived access token for one workspace."""
    user_id, options = await db.run(authenticate, body.email, body.password)
    return token_for(settings, user_id, options, body.workspace_id)


@router.post("/switch")
async def switch_workspace(
    body: SwitchWorkspace, principal: UserDep, settings: SettingsDep, db: DatabaseDep
) -> TokenResponse:
    """A new token for another workspace the user belongs to."""
    assert principal.user_id is not None
    options = await db.run(memberships, principal.user_id)
    return token_for(settings, principal.user_id, options, body.workspace_id)


@router.post("/logout", status_code=204)
async def logout(principal: UserDep, db: DatabaseDep) -> Response:
    """End this access token now, rather than when it expires."""
    assert principal.token is not None
    await db.run(workspaces.revoke_token, principal.token.token_id, principal.token.expires_at)
    return Response(status_code=204)


def _me(
    session: Session, user_id: uuid.UUID | None
) -> tuple[User | None, list[WorkspaceMembership]]:
    if user_id is None:
        return None, []
    return session.get(User, user_id), memberships(session, user_id)


@router.get("/me")
async def me(principal: Caller, db: DatabaseDep) -> MeResponse:
    user, joined = await db.run(_me, principal.user_id)
    return MeResponse(
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
        email=user.email if user else None,
        name=user.name if user else None,
        workspace_id=principal.workspace_id,
        role=principal.role,
        memberships=joined,
    )
