"""Creator profiles: one per creator user, owned by the creator's own workspace."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, Session, SQLModel, col, select

from models.base import created_at_field, id_field
from models.enums import Role, WorkspaceKind
from models.workspaces import Membership, User, Workspace, find_user_by_email


class CreatorProfile(SQLModel, table=True):
    __tablename__ = "creator_profiles"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="users.id", unique=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True)
    handle: str = Field(max_length=100, unique=True)
    display_name: str = Field(max_length=200)
    bio: str = Field(default="", max_length=2000)
    country: str = Field(max_length=2)
    niches: list[str] = Field(default_factory=list, sa_type=JSONB)
    platforms: list[str] = Field(default_factory=list, sa_type=JSONB)
    created_at: datetime = created_at_field()


def get_profile(session: Session, creator_id: uuid.UUID) -> CreatorProfile | None:
    return session.get(CreatorProfile, creator_id)


def profile_of_user(session: Session, user_id: uuid.UUID) -> CreatorProfile | None:
    return session.exec(select(CreatorProfile).where(CreatorProfile.user_id == user_id)).first()


def search_profiles(
    session: Session, *, niche: str | None, country: str | None, limit: int, offset: int
) -> list[CreatorProfile]:
    query = select(CreatorProfile)
    if niche:
        query = query.where(col(CreatorProfile.niches).contains([niche]))
    if country:
        query = query.where(CreatorProfile.country == country)
    query = query.order_by(col(CreatorProfile.handle)).limit(limit).offset(offset)
    return list(session.exec(query).all())


def taken(session: Session, email: str, handle: str) -> list[str]:
    """Which of a new creator's unique names already belong to someone: "email", "handle"."""
    clashes = []
    if find_user_by_email(session, email) is not None:
        clashes.append("email")
    if session.exec(select(CreatorProfile).where(CreatorProfile.handle == handle)).first():
        clashes.append("handle")
    return clashes


def sign_up(
    session: Session,
    user: User,
    *,
    handle: str,
    country: str,
    niches: list[str],
    platforms: list[str],
) -> CreatorProfile:
    """A new creator: the user, their own creator workspace, membership and profile."""
    workspace = Workspace(name=f"{user.name} (creator)", kind=WorkspaceKind.CREATOR)
    session.add_all([workspace, user])
    session.flush()
    profile = CreatorProfile(
        user_id=user.id,
        workspace_id=workspace.id,
        handle=handle,
        display_name=user.name,
        country=country,
        niches=niches,
        platforms=platforms,
    )
    session.add_all(
        [profile, Membership(user_id=user.id, workspace_id=workspace.id, role=Role.CREATOR)]
    )
    session.flush()
    return profile
