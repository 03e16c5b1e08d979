"""Ops escalations of the moderation pipeline: child-safety matches and overdue reviews."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Field, Session, SQLModel, col, select

from models.base import aware_datetime_field, created_at_field, id_field


class ModerationEscalation(SQLModel, table=True):
    __tablename__ = "moderation_escalations"
    # One escalation per asset and kind: a retried activity finds its row and adds nothing.
    __table_args__ = (UniqueConstraint("asset_id", "kind"),)

    id: uuid.UUID = id_field()
    asset_id: uuid.UUID = Field(index=True)
    kind: str = Field(max_length=40)  # "child_safety" | "review_overdue"
    reason: str = Field(max_length=2000)
    opened_at: datetime = created_at_field()
    resolved_at: datetime | None = aware_datetime_field()


def open_escalation(session: Session, asset_id: uuid.UUID, kind: str, reason: str) -> bool:
    """Open the escalation unless it is open already; True when this call opened it."""
    statement = (
        insert(ModerationEscalation)
        .values(ModerationEscalation(asset_id=asset_id, kind=kind, reason=reason).model_dump())
        .on_conflict_do_nothing(index_elements=["asset_id", "kind"])
        .returning(col(ModerationEscalation.id))
    )
    return session.exec(statement).first() is not None


def escalations(session: Session, asset_id: uuid.UUID) -> list[ModerationEscalation]:
    query = select(ModerationEscalation).where(ModerationEscalation.asset_id == asset_id)
    return list(session.exec(query.order_by(col(ModerationEscalation.opened_at))).all())


def open_escalations(session: Session, limit: int = 200) -> list[ModerationEscalation]:
    """Every unresolved escalation, oldest first: the ops console's to-do list."""
    query = select(ModerationEscalation).where(col(ModerationEscalation.resolved_at).is_(None))
    return list(session.exec(query.order_by(col(ModerationEscalation.opened_at)).limit(limit)))
