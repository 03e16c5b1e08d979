"""Tenancy and identity: workspaces, users, memberships with roles, partner API keys, and
access tokens ended by sign-out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from sqlalchemy import DateTime, UniqueConstraint, delete, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Field, Session, SQLModel, col, select

from domain.enums import Role, WorkspaceKind
from models.base import aware_datetime_field, created_at_field, id_field, str_enum, utcnow


class Workspace(SQLModel, table=True):
    __tablename__ = "workspaces"

    id: uuid.UUID = id_field()
    name: str = Field(max_length=200)
    kind: WorkspaceKind = Field(sa_type=str_enum(WorkspaceKind))
    created_at: datetime = created_at_field()


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
    rows = session.exec(
        select(Membership, Workspace)
        .join(Workspace, col(Workspace.id) == col(Membership.workspace_id))
        .where(Membership.user_id == user_id)
        .order_by(col(Membership.created_at))
    )
    return list(rows.all())


def membership(session: Session, user_id: uuid.UUID, workspace_id: uuid.UUID) -> Membership | None:
    return session.exec(
        select(Membership).where(
            Membership.user_id == user_id, Membership.workspace_id == workspace_id
        )
    ).first()


async def token_membership(
    conn: AsyncConnection[Any], user_id: uuid.UUID, workspace_id: uuid.UUID, token_id: str
) -> tuple[Role, bool] | None:
    """The role an access token acts with in its workspace, and whether the token was revoked.
    It runs on every request: one plain statement on the API's async pool, as the ORM and a
    worker thread cost several times the query."""
    cursor = await conn.execute(
        "SELECT m.role, EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.token_id = %s)"
        " FROM memberships m WHERE m.user_id = %s AND m.workspace_id = %s",
        (token_id, user_id, workspace_id),
    )
    row = await cursor.fetchone()
    return None if row is None else (Role(row[0]), bool(row[1]))


def revoke_token(session: Session, token_id: str, expires_at: datetime) -> None:
    """End a token now (idempotent); tokens that have expired meanwhile are forgotten."""
    session.execute(delete(RevokedToken).where(col(RevokedToken.expires_at) < utcnow()))
    session.execute(
        pg_insert(RevokedToken)
        .values(token_id=token_id, expires_at=expires_at, revoked_at=utcnow())
        .on_conflict_do_nothing(index_elements=["token_id"])
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
