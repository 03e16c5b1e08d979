"""Applications and invitations: one row per creator per deliverable of a campaign."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from domain.enums import ApplicationOrigin, ApplicationStatus
from models.base import created_at_field, str_enum, utcnow


class Application(SQLModel, table=True):
    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("campaign_id", "deliverable_id", "creator_id"),)

    id: uuid.UUID = Field(primary_key=True)
    campaign_id: uuid.UUID = Field(foreign_key="campaigns.id", index=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True)
    deliverable_id: uuid.UUID = Field(foreign_key="deliverables.id")
    creator_id: uuid.UUID = Field(foreign_key="creator_profiles.id", index=True)
    origin: ApplicationOrigin = Field(sa_type=str_enum(ApplicationOrigin))
    status: ApplicationStatus = Field(sa_type=str_enum(ApplicationStatus), index=True)
    pitch: str = Field(default="", max_length=4000)
    price_minor: int = Field(sa_type=BigInteger)
    counter_price_minor: int | None = Field(default=None, sa_type=BigInteger)
    delivery_id: uuid.UUID | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


def upsert_application(session: Session, row: Application) -> None:
    """Write the workflow's view of an application (idempotent: last state wins)."""
    existing = session.get(Application, row.id)
    if existing is None:
        session.add(row)
        return
    for name in ("status", "price_minor", "counter_price_minor", "delivery_id"):
        setattr(existing, name, getattr(row, name))
    existing.updated_at = utcnow()
    session.add(existing)


def list_for_campaign(session: Session, campaign_id: uuid.UUID) -> list[Application]:
    return list(
        session.exec(
            select(Application)
            .where(Application.campaign_id == campaign_id)
            .order_by(col(Application.created_at), col(Application.id))
        ).all()
    )


def list_for_creator(session: Session, creator_id: uuid.UUID) -> list[Application]:
    return list(
        session.exec(
            select(Application)
            .where(Application.creator_id == creator_id)
            .order_by(col(Application.created_at).desc(), col(Application.id))
        ).all()
    )


def get_application(session: Session, application_id: uuid.UUID) -> Application | None:
    return session.get(Application, application_id)
