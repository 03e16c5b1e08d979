"""Creator profiles: one per creator user, owned by the creator's own workspace."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, or_
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, Session, SQLModel, col, select

from domain.enums import DeliveryStage, Role, WorkspaceKind
from models.applications import Application
from models.base import created_at_field, id_field
from models.campaigns import Campaign
from models.deliveries import Delivery, Submission
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
    # The languages the creator posts in, the usual one first.
    languages: list[str] = Field(default_factory=list, sa_type=JSONB)
    created_at: datetime = created_at_field()


class PortfolioLink(SQLModel, table=True):
    """A sample of the creator's work elsewhere (https only)."""

    __tablename__ = "portfolio_links"

    id: uuid.UUID = id_field()
    creator_id: uuid.UUID = Field(foreign_key="creator_profiles.id", index=True)
    url: str = Field(max_length=2000)
    title: str = Field(default="", max_length=200)
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
    # The workspace's name holds 200 characters, as the person's does: room for the suffix.
    suffix = " (creator)"
    workspace = Workspace(
        name=f"{user.name[: 200 - len(suffix)]}{suffix}", kind=WorkspaceKind.CREATOR
    )
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


def update_profile(
    session: Session,
    creator_id: uuid.UUID,
    *,
    display_name: str,
    bio: str,
    country: str,
    niches: list[str],
    platforms: list[str],
    languages: list[str],
) -> CreatorProfile:
    profile = session.get(CreatorProfile, creator_id)
    assert profile is not None
    profile.display_name = display_name
    profile.bio = bio
    profile.country = country
    profile.niches = niches
    profile.platforms = platforms
    profile.languages = languages
    session.add(profile)
    session.flush()
    return profile


def portfolio_links(session: Session, creator_id: uuid.UUID) -> list[PortfolioLink]:
    return list(
        session.exec(
            select(PortfolioLink)
            .where(PortfolioLink.creator_id == creator_id)
            .order_by(col(PortfolioLink.created_at))
        ).all()
    )


def add_portfolio_link(
    session: Session, creator_id: uuid.UUID, url: str, title: str, limit: int
) -> PortfolioLink | None:
    """The new link, or None when the creator has `limit` links already."""
    # Locking the profile keeps two concurrent additions from both passing the count.
    session.exec(select(CreatorProfile).where(CreatorProfile.id == creator_id).with_for_update())
    count = session.exec(
        select(func.count()).where(col(PortfolioLink.creator_id) == creator_id)
    ).one()
    if count >= limit:
        return None
    link = PortfolioLink(creator_id=creator_id, url=url, title=title)
    session.add(link)
    session.flush()
    return link


def remove_portfolio_link(session: Session, creator_id: uuid.UUID, link_id: uuid.UUID) -> bool:
    link = session.exec(
        select(PortfolioLink).where(
            PortfolioLink.id == link_id, PortfolioLink.creator_id == creator_id
        )
    ).first()
    if link is None:
        return False
    session.delete(link)
    return True


def finished_work(
    session: Session, creator_id: uuid.UUID
) -> list[tuple[Delivery, str, Submission | None]]:
    """Completed or approved deliveries, newest first, each with its campaign's title and the
    latest submission whose checked video passed the checks (the final files once checked,
    else the draft the brand approved)."""
    rows = session.exec(
        select(Delivery, Campaign.title)
        .join(Campaign, col(Campaign.id) == col(Delivery.campaign_id))
        .where(
            Delivery.creator_id == creator_id,
            or_(
                col(Delivery.stage) == DeliveryStage.COMPLETED,
                col(Delivery.approved_at).is_not(None),
            ),
        )
        .order_by(col(Delivery.updated_at).desc())
    ).all()
    checked: dict[uuid.UUID, Submission] = {}
    if rows:
        submissions = session.exec(
            select(Submission)
            .where(
                col(Submission.delivery_id).in_([d.id for d, _ in rows]),
                col(Submission.checks_passed).is_(True),
            )
            .order_by(col(Submission.number))
        ).all()
        # A submission without renditions holds JSON null, not SQL NULL, in `media`.
        checked = {s.delivery_id: s for s in submissions if (s.media or {}).get("master_key")}
    return [(d, title, checked.get(d.id)) for d, title in rows]


def known_to_workspace(session: Session, workspace_id: uuid.UUID, creator_id: uuid.UUID) -> bool:
    """Whether the creator applied to, or was invited to, a campaign of the workspace."""
    found = session.exec(
        select(Application.id).where(
            Application.workspace_id == workspace_id, Application.creator_id == creator_id
        )
    ).first()
    return found is not None
