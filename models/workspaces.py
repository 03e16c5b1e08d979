"""Tenancy and identity: workspaces, users, memberships with roles, partner API keys, and
access tokens ended by sign-out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from psycopg import AsyncConnection
from sqlalchemy import DateTime, Index, UniqueConstraint, delete, func, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Field, Session, SQLModel, col, select

from domain.enums import Role, WorkspaceKind
from models.base import aware_datetime_field, created_at_field, id_field, str_enum, utcnow


class Workspace(SQLModel, table=True):
    __tablename__ = "workspaces"
    # One name per client of an agency; it also finds an agency's clients.
    __table_args__ = (Index("uq_workspaces_managed_by_name", "managed_by", "name", unique=True),)

    id: uuid.UUID = id_field()
    name: str = Field(max_length=200)
    kind: WorkspaceKind = Field(sa_type=str_enum(WorkspaceKind))
    created_at: datetime = created_at_field()
    # Suspended by ops: its sessions and keys are refused until reactivated.
    suspended_at: datetime | None = aware_datetime_field()
    suspended_reason: str | None = Field(default=None, max_length=500)
    # A client of an agency: the agency workspace that manages it (models/agencies.py).
    managed_by: uuid.UUID | None = Field(default=None, foreign_key="workspaces.id")


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = id_field()
    email: str = Field(max_length=320, unique=True, index=True)
    name: str = Field(max_length=200)
    password_hash: str
    created_at: datetime = created_at_field()
    # Unverified accounts sign in but may not fund or publish.
    email_verified_at: datetime | None = aware_datetime_field()
    # Access and refresh tokens issued before it are void (a reset, "sign out everywhere").
    sessions_valid_after: datetime | None = aware_datetime_field()
    # Wrong passwords in a row, and the lock they lead to; a password reset clears both.
    failed_sign_ins: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    locked_until: datetime | None = aware_datetime_field()
    # Suspended by ops: every session of the user is refused until reactivated.
    suspended_at: datetime | None = aware_datetime_field()
    suspended_reason: str | None = Field(default=None, max_length=500)


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "workspace_id"),)

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True)
    role: Role = Field(sa_type=str_enum(Role))
    created_at: datetime = created_at_field()


class ApiKey(SQLModel, table=True):
    """A partner key: only a SHA-256 of its secret is stored; the prefix finds the row."""

    __tablename__ = "api_keys"

    id: uuid.UUID = id_field()
    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True)
    name: str = Field(max_length=200)
    prefix: str = Field(max_length=32, unique=True, index=True)
    secret_hash: str = Field(max_length=64)
    scopes: list[str] = Field(default_factory=list, sa_type=JSONB)
    created_by: uuid.UUID = Field(foreign_key="users.id")
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = aware_datetime_field()


class AccountToken(SQLModel, table=True):
    """A single-use link sent by e-mail (verify the address, reset the password): only a
    SHA-256 of the token is stored."""

    __tablename__ = "account_tokens"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    purpose: str = Field(max_length=32)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    used_at: datetime | None = aware_datetime_field()


class RefreshToken(SQLModel, table=True):
    """One refresh token of a sign-in's family: each use hands out the next and marks this one
    used; presenting a used one again revokes the whole family (it was stolen)."""

    __tablename__ = "refresh_tokens"

    id: uuid.UUID = id_field()
    family_id: uuid.UUID = Field(index=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    used_at: datetime | None = aware_datetime_field()
    revoked_at: datetime | None = aware_datetime_field()


class RevokedToken(SQLModel, table=True):
    """An access token ended before its expiry (signed out), by its jti. Kept only until the
    token would have expired: after that its signature check refuses it anyway."""

    __tablename__ = "revoked_tokens"

    token_id: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False, index=True)
    revoked_at: datetime = created_at_field()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(func.lower(User.email) == email.lower())).first()


def memberships_of(session: Session, user_id: uuid.UUID) -> list[tuple[Membership, Workspace]]:
    """The workspaces the user may act in, with the role: their own memberships, then the
    clients of the agencies they belong to (by name), each with the agency role, unless they
    are members of that client themselves. A client's membership through its agency is not
    stored: it is made here, unsaved."""
    rows = list(
        session.exec(
            select(Membership, Workspace)
            .join(Workspace, col(Workspace.id) == col(Membership.workspace_id))
            .where(Membership.user_id == user_id)
            .order_by(col(Membership.created_at))
        ).all()
    )
    own = {w.id for _, w in rows}
    agencies = {w.id: m for m, w in rows if w.kind == WorkspaceKind.AGENCY}
    if not agencies:
        return rows
    clients = session.exec(
        select(Workspace)
        .where(col(Workspace.managed_by).in_(list(agencies)))
        .order_by(func.lower(Workspace.name))
    ).all()
    for client in clients:
        if client.id not in own and client.managed_by is not None:
            agency = agencies[client.managed_by]
            via = Membership(user_id=user_id, workspace_id=client.id, role=agency.role)
            rows.append((via, client))
    return rows


def acting_role(session: Session, user_id: uuid.UUID, workspace_id: uuid.UUID) -> Role | None:
    """The role the user acts with in the workspace: their membership, else (in an agency's
    client) their membership of the agency, as `token_membership` decides it."""
    own = membership(session, user_id, workspace_id)
    if own is not None:
        return own.role
    workspace = session.get(Workspace, workspace_id)
    if workspace is None or workspace.managed_by is None:
        return None
    agency = membership(session, user_id, workspace.managed_by)
    return None if agency is None else agency.role


def membership(session: Session, user_id: uuid.UUID, workspace_id: uuid.UUID) -> Membership | None:
    return session.exec(
        select(Membership).where(
            Membership.user_id == user_id, Membership.workspace_id == workspace_id
        )
    ).first()


class TokenStanding(NamedTuple):
    role: Role
    # Signed out: this token's own sign-out.
    revoked: bool
    # Issued before the user's sessions were ended ("sign out everywhere", a new password).
    ended: bool
    # Suspended by ops: "workspace" (or its agency) or "account" (the user), else None.
    suspended: str | None = None


async def token_membership(
    conn: AsyncConnection[Any],
    user_id: uuid.UUID,
    workspace_id: uuid.UUID,
    token_id: str,
    issued_at: datetime,
) -> TokenStanding | None:
    """The role an access token acts with in its workspace, whether the token was revoked, and
    whether its user ended every session after it was issued. It runs on every request: one
    plain statement on the API's async pool, as the ORM and a worker thread cost several times
    the query.
    In an agency's client workspace, the agency's members act with their agency role unless
    they are members of the client themselves (then that membership counts); the client's
    suspension, and the agency's, stop them."""
    cursor = await conn.execute(
        "SELECT m.role, EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.token_id = %s),"
        " COALESCE(u.sessions_valid_after > %s, false),"
        " CASE WHEN w.suspended_at IS NOT NULL OR mw.suspended_at IS NOT NULL"
        " THEN 'workspace' WHEN u.suspended_at IS NOT NULL THEN 'account' END"
        " FROM workspaces w JOIN memberships m ON m.workspace_id IN (w.id, w.managed_by)"
        " JOIN users u ON u.id = m.user_id JOIN workspaces mw ON mw.id = m.workspace_id"
        " WHERE m.user_id = %s AND w.id = %s"
        " ORDER BY m.workspace_id = w.id DESC LIMIT 1",
        (token_id, issued_at, user_id, workspace_id),
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    return TokenStanding(Role(row[0]), bool(row[1]), bool(row[2]), row[3])


def api_key_suspension(session: Session, key: ApiKey) -> str | None:
    """Whether ops suspended what a partner key acts for: "workspace" (its workspace) or
    "account" (whoever made it: a suspended person's keys stop with their sessions)."""
    found = session.exec(
        select(Workspace.suspended_at, User.suspended_at)
        .join(User, col(User.id) == key.created_by)
        .where(Workspace.id == key.workspace_id)
    ).first()
    if found is None or found[0] is not None:
        return "workspace"
    return "account" if found[1] is not None else None


def revoke_token(session: Session, token_id: str, expires_at: datetime) -> None:
    """End a token now (idempotent); tokens that have expired meanwhile are forgotten."""
    session.execute(delete(RevokedToken).where(col(RevokedToken.expires_at) < utcnow()))
    session.execute(
        pg_insert(RevokedToken)
        .values(token_id=token_id, expires_at=expires_at, revoked_at=utcnow())
        .on_conflict_do_nothing(index_elements=["token_id"])
    )


# -- refresh tokens, sessions ended, passwords and e-mailed tokens ---------------------------

RESET_PASSWORD = "reset_password"  # noqa: S105 - an account token's purpose


def start_refresh_family(
    session: Session,
    family_id: uuid.UUID,
    user_id: uuid.UUID,
    workspace_id: uuid.UUID,
    token_hash: str,
    expires_at: datetime,
) -> None:
    """The first refresh token of a sign-in."""
    session.add(
        RefreshToken(
            family_id=family_id, user_id=user_id, workspace_id=workspace_id,
            token_hash=token_hash, expires_at=expires_at, created_at=utcnow(),
        )
    )  # fmt: skip


@dataclass(frozen=True)
class Renewal:
    """What presenting a refresh token came to: `refused` names why it was not honoured
    ("unknown", "revoked", "reused", "expired", "ended", "not_member", "suspended"), else
    the sign-in it continues and the role it acts with."""

    refused: str | None
    family_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    workspace_id: uuid.UUID | None = None
    role: Role | None = None


def rotate_refresh_token(
    session: Session, presented_hash: str, next_hash: str, expires_at: datetime
) -> Renewal:
    """Swap a refresh token for the next of its family, marking it used. A used one presented
    again revokes its whole family (someone holds a copy); the revocation is kept although the
    caller is refused. Refusals change nothing else."""
    now = utcnow()
    row = session.exec(
        select(RefreshToken).where(RefreshToken.token_hash == presented_hash).with_for_update()
    ).first()
    if row is None:
        return Renewal("unknown")
    if row.used_at is not None:
        revoke_refresh_family(session, row.user_id, row.family_id)
        return Renewal("reused")
    if row.revoked_at is not None:
        return Renewal("revoked")
    if row.expires_at <= now:
        return Renewal("expired")
    user = session.get(User, row.user_id)
    if user is None or (
        user.sessions_valid_after is not None and user.sessions_valid_after > row.created_at
    ):
        return Renewal("ended")
    role = acting_role(session, row.user_id, row.workspace_id)
    if role is None:
        return Renewal("not_member")
    workspace = session.get(Workspace, row.workspace_id)
    if user.suspended_at is not None or (workspace is not None and workspace.suspended_at):
        return Renewal("suspended")
    row.used_at = now
    session.add(row)
    session.add(
        RefreshToken(
            family_id=row.family_id, user_id=row.user_id, workspace_id=row.workspace_id,
            token_hash=next_hash, expires_at=expires_at, created_at=now,
        )
    )  # fmt: skip
    return Renewal(None, row.family_id, row.user_id, row.workspace_id, role)


def revoke_refresh_family(session: Session, user_id: uuid.UUID, family_id: uuid.UUID) -> None:
    """End one sign-in's refresh tokens (sign-out, or a reused token)."""
    session.execute(
        update(RefreshToken)
        .where(
            col(RefreshToken.user_id) == user_id,
            col(RefreshToken.family_id) == family_id,
            col(RefreshToken.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )


def end_all_sessions(session: Session, user_id: uuid.UUID) -> None:
    """Sign out everywhere: access tokens issued until now are refused, every refresh token
    of the user is revoked."""
    now = utcnow()
    session.execute(update(User).where(col(User.id) == user_id).values(sessions_valid_after=now))
    session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def add_account_token(
    session: Session, user_id: uuid.UUID, purpose: str, token_hash: str, expires_at: datetime
) -> AccountToken:
    row = AccountToken(
        user_id=user_id, purpose=purpose, token_hash=token_hash, expires_at=expires_at
    )
    session.add(row)
    session.flush()
    return row


def find_account_token(session: Session, purpose: str, token_hash: str) -> AccountToken | None:
    """The token for its use (locked until the transaction ends: a link used twice at once
    is used once)."""
    return session.exec(
        select(AccountToken)
        .where(AccountToken.purpose == purpose, AccountToken.token_hash == token_hash)
        .with_for_update()
    ).first()


def set_password(
    session: Session, user_id: uuid.UUID, password_hash: str, *, reset: bool = False
) -> None:
    """A new password: every session of the user ends, and reset links not yet used are
    void. `reset` (the owner proved the address by a link sent to it): the sign-in lock is
    lifted too and the address counts as verified."""
    now = utcnow()
    user = session.exec(select(User).where(User.id == user_id).with_for_update()).one()
    user.password_hash = password_hash
    if reset:
        user.email_verified_at = user.email_verified_at or now
    session.add(user)
    session.flush()
    if reset:
        clear_sign_in_lock(session, user_id)
    end_all_sessions(session, user_id)
    session.execute(
        update(AccountToken)
        .where(
            col(AccountToken.user_id) == user_id,
            col(AccountToken.purpose) == RESET_PASSWORD,
            col(AccountToken.used_at).is_(None),
        )
        .values(used_at=now)
    )


def find_api_key(session: Session, prefix: str) -> ApiKey | None:
    return session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()


def list_api_keys(session: Session, workspace_id: uuid.UUID) -> list[ApiKey]:
    return list(
        session.exec(
            select(ApiKey)
            .where(ApiKey.workspace_id == workspace_id)
            .order_by(col(ApiKey.created_at))
        ).all()
    )


def revoke_api_key(session: Session, workspace_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    key = session.exec(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.workspace_id == workspace_id)
    ).first()
    if key is not None and key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
    return key


def users_by_ids(session: Session, user_ids: list[uuid.UUID]) -> list[User]:
    if not user_ids:
        return []
    return list(session.exec(select(User).where(col(User.id).in_(user_ids))).all())


def users_in_roles(session: Session, workspace_id: uuid.UUID, roles: list[str]) -> list[User]:
    return list(
        session.exec(
            select(User)
            .join(Membership, col(Membership.user_id) == col(User.id))
            .where(Membership.workspace_id == workspace_id, col(Membership.role).in_(roles))
        ).all()
    )


# -- sign-in lockout -------------------------------------------------------------------------

# Wrong passwords in a row checked freely. From the SIGN_IN_FREE_FAILURES-th on, each failure
# refuses sign-in for a pause that doubles (1, 2, 4, 8, 16 min); from SIGN_IN_LOCK_AFTER
# failures the account is locked for SIGN_IN_LOCK_S. A right password, or a password reset
# (clear_sign_in_lock), starts again from nothing.
SIGN_IN_FREE_FAILURES = 5
SIGN_IN_FIRST_PAUSE_S = 60
SIGN_IN_LOCK_AFTER = 10
SIGN_IN_LOCK_S = 3600


def sign_in_pause_s(failures: int) -> int:
    """Seconds sign-in is refused after `failures` wrong passwords in a row (0: none)."""
    if failures < SIGN_IN_FREE_FAILURES:
        return 0
    if failures >= SIGN_IN_LOCK_AFTER:
        return SIGN_IN_LOCK_S
    return int(SIGN_IN_FIRST_PAUSE_S * 2 ** (failures - SIGN_IN_FREE_FAILURES))


def claim_sign_in(session: Session, user_id: uuid.UUID, now: datetime | None = None) -> bool:
    """Count a sign-in attempt as a wrong password before the password is checked (so that
    attempts made at once are each counted), pausing or locking the account as it falls due;
    `sign_in_succeeded` takes it back. False, counting nothing, while the account is paused
    or locked. The row stays locked until the caller commits."""
    user = session.exec(
        select(User)
        .where(User.id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    now = now or utcnow()
    if user.locked_until is not None and user.locked_until > now:
        return False
    user.failed_sign_ins += 1
    pause = sign_in_pause_s(user.failed_sign_ins)
    user.locked_until = now + timedelta(seconds=pause) if pause else None
    session.add(user)
    session.flush()
    return True


def sign_in_succeeded(session: Session, user_id: uuid.UUID) -> None:
    """The right password: the wrong ones before it are forgotten."""
    clear_sign_in_lock(session, user_id)


def clear_sign_in_lock(session: Session, user_id: uuid.UUID) -> None:
    """Forget wrong passwords and lift a pause or lock (a right password, a password reset)."""
    session.execute(
        update(User).where(col(User.id) == user_id).values(failed_sign_ins=0, locked_until=None)
    )
