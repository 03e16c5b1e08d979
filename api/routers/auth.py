"""Sign-in, workspace switching and the caller's identity."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy import inspect
from sqlmodel import Session

from api.deps import (
    ACCOUNT_SUSPENDED,
    ANY_SCOPE,
    WORKSPACE_SUSPENDED,
    DatabaseDep,
    Principal,
    SettingsDep,
    Suspended,
    UserDep,
    allow,
)
from api.schemas import (
    LoginRequest,
    MeResponse,
    SwitchWorkspace,
    TokenResponse,
    WorkspaceMembership,
)
from api.security import (
    REFRESH_TOKEN_TTL,
    AccessClaims,
    decode_access_token,
    issue_access_token,
    new_secret_token,
    verify_password,
)
from api.services import Database
from domain.enums import Role, WorkspaceKind
from models import workspaces
from models.base import utcnow
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
    rows = workspaces.memberships_of(session, user_id)
    # A client's own members are not told which agency runs it.
    agencies = {w.id for _, w in rows if w.kind == WorkspaceKind.AGENCY}
    suspended_agencies = {w.id for _, w in rows if w.id in agencies and w.suspended_at}
    return [
        WorkspaceMembership(
            workspace_id=w.id,
            name=w.name,
            kind=w.kind,
            role=m.role,
            managed_by=w.managed_by if w.managed_by in agencies else None,
            # Through its agency (a membership made up, never stored), the agency's suspension
            # stops the user too; as token_membership decides on every request.
            suspended=w.suspended_at is not None
            or (w.managed_by in suspended_agencies and inspect(m).transient),
        )
        for m, w in rows
    ]


def token_for(
    settings: Settings,
    user_id: uuid.UUID,
    options: list[WorkspaceMembership],
    wanted: uuid.UUID | None,
    session_id: uuid.UUID | None = None,
) -> TokenResponse:
    """An access token for the chosen workspace, of the sign-in `session_id` (a new one when
    None; `with_refresh` then starts its refresh-token family)."""
    # Without a wish, the first workspace that is not suspended.
    chosen = (
        next((m for m in options if m.workspace_id == wanted), None)
        if wanted
        else next((m for m in options if not m.suspended), options[0] if options else None)
    )
    if chosen is None:
        raise Forbidden("not a member of that workspace" if wanted else "no workspace membership")
    if chosen.suspended:
        raise Suspended(WORKSPACE_SUSPENDED)
    token, ttl = issue_access_token(
        settings.auth,
        AccessClaims(user_id, chosen.workspace_id, chosen.role),
        session_id or uuid.uuid4(),
    )
    return TokenResponse(
        access_token=token, expires_in=ttl, workspace_id=chosen.workspace_id, role=chosen.role
    )


async def with_refresh(
    settings: Settings, db: Database, user_id: uuid.UUID, token: TokenResponse
) -> TokenResponse:
    """`token` with the first refresh token of its sign-in (only its SHA-256 is stored)."""
    claims = decode_access_token(settings.auth, token.access_token)
    assert claims.session_id is not None
    refresh, refresh_hash = new_secret_token()
    await db.run(
        workspaces.start_refresh_family,
        uuid.UUID(claims.session_id),
        user_id,
        token.workspace_id,
        refresh_hash,
        utcnow() + REFRESH_TOKEN_TTL,
    )
    ttl = int(REFRESH_TOKEN_TTL.total_seconds())
    return token.model_copy(update={"refresh_token": refresh, "refresh_expires_in": ttl})


def authenticate(
    session: Session, email: str, password: str
) -> tuple[uuid.UUID, list[WorkspaceMembership]]:
    # No account has a NUL in its e-mail, and PostgreSQL refuses one in a query. Unknown
    # e-mails are checked against a dummy hash: as slow as a wrong password, and the same answer.
    user = workspaces.find_user_by_email(session, email) if "\x00" not in email else None
    # The attempt counts before the password is checked (committed at once, so attempts made
    # together are each counted). A paused or locked account answers as a wrong password does,
    # after the same hashing: it tells no one whether the e-mail has an account.
    counted = user is not None and workspaces.claim_sign_in(session, user.id)
    password_hash = user.password_hash if user else None
    session.commit()
    if not verify_password(password_hash, password) or user is None or not counted:
        raise Unauthenticated("e-mail or password is wrong")
    workspaces.sign_in_succeeded(session, user.id)
    # Only whoever knows the password learns that the account is suspended.
    if user.suspended_at is not None:
        raise Suspended(ACCOUNT_SUSPENDED)
    return user.id, memberships(session, user.id)


@router.post("/login")
async def login(body: LoginRequest, settings: SettingsDep, db: DatabaseDep) -> TokenResponse:
    """Exchange e-mail and password for a short-lived access token for one workspace."""
    user_id, options = await db.run(authenticate, body.email, body.password)
    token = token_for(settings, user_id, options, body.workspace_id)
    return await with_refresh(settings, db, user_id, token)


@router.post("/switch")
async def switch_workspace(
    body: SwitchWorkspace, principal: UserDep, settings: SettingsDep, db: DatabaseDep
) -> TokenResponse:
    """A new token for another workspace the user belongs to, or for a client of an agency
    they belong to."""
    assert principal.user_id is not None
    options = await db.run(memberships, principal.user_id)
    token = token_for(settings, principal.user_id, options, body.workspace_id)
    return await with_refresh(settings, db, principal.user_id, token)


@router.post("/logout", status_code=204)
async def logout(principal: UserDep, db: DatabaseDep) -> Response:
    """End this access token now, rather than when it expires, and its sign-in's refresh
    tokens."""
    assert principal.token is not None
    await end_session(db, principal)
    return Response(status_code=204)


async def end_session(db: Database, principal: Principal) -> None:
    """Sign this token out, with the refresh tokens of its sign-in."""
    token, user_id = principal.token, principal.user_id
    assert token is not None and user_id is not None
    await db.run(workspaces.revoke_token, token.token_id, token.expires_at)
    if token.session_id is not None:
        family = uuid.UUID(token.session_id)
        await db.run(workspaces.revoke_refresh_family, user_id, family)


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
