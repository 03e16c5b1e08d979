"""Sessions and passwords: rotated refresh tokens (a reused one ends its whole sign-in), signing
out everywhere, changing a password, and resetting a forgotten one through a single-use link
sent by e-mail."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from fastapi import APIRouter, BackgroundTasks, Request, Response
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import DatabaseDep, SettingsDep, UserDep
from api.routers.auth import memberships, token_for, with_refresh
from api.schemas import (
    PasswordChange,
    PasswordForgot,
    PasswordReset,
    RefreshRequest,
    TokenResponse,
)
from api.security import (
    REFRESH_TOKEN_TTL,
    RESET_TOKEN_TTL,
    AccessClaims,
    hash_password,
    issue_access_token,
    new_secret_token,
    secret_token_hash,
    verify_password,
)
from api.services import Database
from domain.passwords import password_problem
from integrations.notifications import Message, Notifier, deliver_now
from models import workspaces
from models.base import utcnow
from models.workspaces import RESET_PASSWORD, User
from nexus.errors import (
    Conflict,
    FieldProblem,
    Gone,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from nexus.settings import Settings

router = APIRouter(prefix="/auth", tags=["auth"])
log = logging.getLogger(__name__)

# Why a refresh token was not honoured, by `Renewal.refused`.
REFUSED = {
    "unknown": "refresh token unknown: sign in again",
    "revoked": "refresh token revoked (signed out): sign in again",
    "reused": "refresh token already used: this sign-in has ended everywhere it was used; "
    "sign in again",
    "expired": "refresh token expired: sign in again",
    "ended": "signed out everywhere: sign in again",
    "not_member": "no longer a member of this workspace",
    "suspended": "this workspace or account is suspended: contact support",
}
RESET_VALID_FOR = f"{int(RESET_TOKEN_TTL.total_seconds() // 60)} minutes"
# The same answer whether or not an account uses the e-mail.
RESET_SENT = (
    "If an account uses this e-mail, a link to choose a new password is on its way. "
    f"It works once, for {RESET_VALID_FOR}."
)
RESET_UNKNOWN = "this reset link is not valid: ask for a new one"
RESET_USED = "this reset link was used already: ask for a new one"
RESET_EXPIRED = "this reset link has expired: ask for a new one"
WRONG_PASSWORD = "This is not your current password."  # noqa: S105 - a message


class ResetRequested(BaseModel):
    detail: str


def reset_link(token: str) -> str:
    return f"/portal/password/reset/{token}"


def password_refused(problem: str) -> ValidationFailed:
    return ValidationFailed(f"password: {problem}", errors=[FieldProblem("body.password", problem)])


# -- refresh tokens and sessions --------------------------------------------------------------


async def renew(settings: Settings, db: Database, refresh_token: str) -> TokenResponse:
    """A new access token and the next refresh token for a refresh token, or Unauthenticated
    saying why not."""
    following, following_hash = new_secret_token()
    renewal = await db.run(
        workspaces.rotate_refresh_token,
        secret_token_hash(refresh_token),
        following_hash,
        utcnow() + REFRESH_TOKEN_TTL,
    )
    if renewal.refused is not None:
        raise Unauthenticated(REFUSED[renewal.refused])
    assert renewal.user_id and renewal.workspace_id and renewal.role and renewal.family_id
    claims = AccessClaims(renewal.user_id, renewal.workspace_id, renewal.role)
    access, ttl = issue_access_token(settings.auth, claims, renewal.family_id)
    return TokenResponse(
        access_token=access,
        expires_in=ttl,
        workspace_id=renewal.workspace_id,
        role=renewal.role,
        refresh_token=following,
        refresh_expires_in=int(REFRESH_TOKEN_TTL.total_seconds()),
    )


@router.post("/refresh")
async def refresh(body: RefreshRequest, settings: SettingsDep, db: DatabaseDep) -> TokenResponse:
    """Swap a refresh token for a new access token and the next refresh token. Each refresh
    token works once: presenting a used one again ends its whole sign-in (a copy of it is in
    someone else's hands)."""
    return await renew(settings, db, body.refresh_token)


@router.post("/logout-all", status_code=204)
async def logout_everywhere(principal: UserDep, db: DatabaseDep) -> Response:
    """Sign out everywhere: every access token issued until now is refused and every refresh
    token revoked, on every device."""
    assert principal.user_id is not None
    await db.run(workspaces.end_all_sessions, principal.user_id)
    return Response(status_code=204)


# -- changing a password ----------------------------------------------------------------------


def _user(session: Session, user_id: uuid.UUID) -> User | None:
    return session.get(User, user_id)


async def change(
    settings: Settings,
    db: Database,
    user_id: uuid.UUID,
    workspace_id: uuid.UUID,
    current: str,
    password: str,
) -> TokenResponse:
    """Set a new password for a user who knows the current one; every other session ends and
    this one goes on with a new token pair."""
    user = await db.read(_user, user_id)
    if user is None:
        raise Unauthenticated("no such user")
    if not await run_in_threadpool(verify_password, user.password_hash, current):
        raise ValidationFailed(
            "the current password is wrong",
            errors=[FieldProblem("body.current_password", WRONG_PASSWORD)],
        )
    problem = password_problem(password, user.email)
    if problem is not None:
        raise password_refused(problem)
    password_hash = await run_in_threadpool(hash_password, password)
    await db.run(workspaces.set_password, user_id, password_hash)
    options = await db.run(memberships, user_id)
    token = token_for(settings, user_id, options, workspace_id)
    return await with_refresh(settings, db, user_id, token)


@router.post("/password/change")
async def change_password(
    body: PasswordChange, principal: UserDep, settings: SettingsDep, db: DatabaseDep
) -> TokenResponse:
    """Change the password (the current one is needed). Every session of the user ends, on
    every device; the answer is a new token pair for this one."""
    assert principal.user_id is not None
    return await change(
        settings,
        db,
        principal.user_id,
        principal.workspace_id,
        body.current_password,
        body.password,
    )


# -- a forgotten password -----------------------------------------------------------------------


def _new_reset_token(
    session: Session, email: str, token_hash: str, expires: timedelta
) -> tuple[uuid.UUID, User] | None:
    user = workspaces.find_user_by_email(session, email)
    if user is None:
        return None
    row = workspaces.add_account_token(
        session, user.id, RESET_PASSWORD, token_hash, utcnow() + expires
    )
    return row.id, user


async def send_reset_link(notifier: Notifier, db: Database, email: str) -> None:
    """E-mail a reset link to the account using `email`, if there is one. Run after the answer
    is sent, so that the answer takes as long whether or not there is."""
    try:
        if "\x00" in email:
            return
        token, token_hash = new_secret_token()
        found = await db.run(_new_reset_token, email.strip(), token_hash, RESET_TOKEN_TTL)
        if found is None:
            return
        row_id, user = found
        # To the address only: an inbox row would keep the link where a session can read it.
        message = Message(
            event_key=f"password-reset-{row_id}",
            user_id=None,
            email=user.email,
            name=user.name,
            kind="account",
            title="Choose a new NEXUS password",
            body="Someone asked to reset the password of your NEXUS account. The link below "
            f"works once, for {RESET_VALID_FOR}; using it "
            "signs you out everywhere. If it was not you, ignore this e-mail: your password "
            "stays as it is.",
            link=reset_link(token),
        )
        await run_in_threadpool(deliver_now, notifier, [message])
    except Exception:
        log.exception("a password reset link could not be sent")


@router.post("/password/forgot", status_code=202)
async def forgot_password(
    body: PasswordForgot, request: Request, db: DatabaseDep, background: BackgroundTasks
) -> ResetRequested:
    """Ask for a link to choose a new password, sent by e-mail. The answer is the same whether
    or not an account uses the e-mail, and takes as long: the link is made and sent after."""
    background.add_task(send_reset_link, request.app.state.notifier, db, body.email)
    return ResetRequested(detail=RESET_SENT)


def _reset(session: Session, token_hash: str, password: str, password_hash: str) -> uuid.UUID:
    """Use a reset link: refused (and nothing changed) when it is unknown, used or expired,
    or when the password may not be chosen."""
    row = workspaces.find_account_token(session, RESET_PASSWORD, token_hash)
    if row is None:
        raise NotFound(RESET_UNKNOWN, errors=[FieldProblem("body.token", RESET_UNKNOWN)])
    if row.used_at is not None:
        raise Conflict(RESET_USED, errors=[FieldProblem("body.token", RESET_USED)])
    if row.expires_at <= utcnow():
        raise Gone(RESET_EXPIRED, errors=[FieldProblem("body.token", RESET_EXPIRED)])
    user = session.get(User, row.user_id)
    assert user is not None
    problem = password_problem(password, user.email)
    if problem is not None:
        raise password_refused(problem)
    row.used_at = utcnow()
    session.add(row)
    workspaces.set_password(session, user.id, password_hash, reset=True)
    return user.id


async def reset(db: Database, token: str, password: str) -> uuid.UUID:
    """Set a new password through a reset link (the user's id). Every session of the user
    ends, the link is spent, and the sign-in lock (from wrong passwords) is lifted."""
    problem = password_problem(password)
    if problem is not None:
        raise password_refused(problem)
    password_hash = await run_in_threadpool(hash_password, password)
    return await db.run(_reset, secret_token_hash(token), password, password_hash)


@router.post("/password/reset", status_code=204)
async def reset_password(body: PasswordReset, db: DatabaseDep) -> Response:
    """Choose a new password with the token of a reset link. The link works once; every
    session of the account ends."""
    await reset(db, body.token, body.password)
    return Response(status_code=204)
