"""Invitations of people to a brand workspace: only a SHA-256 of the secret token is kept."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, func
from sqlmodel import Field, Session, SQLModel, col, select

from domain.enums import Role
from models.base import aware_datetime_field, created_at_field, id_field, str_enum, utcnow
from models.workspaces import Membership, User


class Invitation(SQLModel, table=True):
    __tablename__ = "invitations"

    id: uuid.UUID = id_field()
    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True)
    email: str = Field(max_length=320)
    role: Role = Field(sa_type=str_enum(Role))
    token_hash: str = Field(max_length=64, unique=True, index=True)
    invited_by: uuid.UUID = Field(foreign_key="users.id")
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    accepted_at: datetime | None = aware_datetime_field()
    revoked_at: datetime | None = aware_datetime_field()

    def state(self, now: datetime) -> str:
        """pending, accepted, revoked or expired."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "pending" if self.expires_at > now else "expired"


def pending(
    session: Session, workspace_id: uuid.UUID, email: str | None = None
) -> list[Invitation]:
    """Invitations of the workspace still open to acceptance, oldest first."""
    query = select(Invitation).where(
        Invitation.workspace_id == workspace_id,
        col(Invitation.accepted_at).is_(None),
        col(Invitation.revoked_at).is_(None),
        Invitation.expires_at > utcnow(),
    )
    if email is not None:
        query = query.where(func.lower(Invitation.email) == email.lower())
    return list(session.exec(query.order_by(col(Invitation.created_at))).all())


def is_member(session: Session, workspace_id: uuid.UUID, email: str) -> bool:
    found = session.exec(
        select(Membership.id)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(Membership.workspace_id == workspace_id, func.lower(User.email) == email.lower())
    ).first()
    return found is not None


def members(session: Session, workspace_id: uuid.UUID) -> list[tuple[Membership, User]]:
    rows = session.exec(
        select(Membership, User)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(Membership.workspace_id == workspace_id)
        .order_by(col(Membership.created_at))
    )
    return list(rows.all())


def revoke(session: Session, workspace_id: uuid.UUID, invitation_id: uuid.UUID) -> bool:
    """Withdraw a pending invitation; False when the workspace has no such pending one."""
    row = session.exec(
        select(Invitation).where(
            Invitation.id == invitation_id, Invitation.workspace_id == workspace_id
        )
    ).first()
    if row is None or row.state(utcnow()) != "pending":
        return False
    row.revoked_at = utcnow()
    session.add(row)
    return True


def by_token_hash(session: Session, token_hash: str, *, lock: bool = False) -> Invitation | None:
    """The invitation a token opens; locked, two acceptances of one token run one at a time."""
    query = select(Invitation).where(Invitation.token_hash == token_hash)
    if lock:
        query = query.with_for_update()
    return session.exec(query).first()
