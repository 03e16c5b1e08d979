"""The in-app inbox: the embedded default channel for notifications."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Field, Session, SQLModel, col, select

from models.base import aware_datetime_field, created_at_field, id_field, utcnow


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    # One row per event per recipient: a retried activity finds its row and adds nothing.
    __table_args__ = (UniqueConstraint("event_key", "user_id"),)

    id: uuid.UUID = id_field()
    event_key: str = Field(max_length=300)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=60)
    title: str = Field(max_length=300)
    body: str = Field(default="", max_length=4000)
    link: str = Field(default="", max_length=500)
    created_at: datetime = created_at_field()
    read_at: datetime | None = aware_datetime_field()


def add_new(session: Session, rows: list[Notification]) -> set[uuid.UUID]:
    """Insert the rows whose (event_key, user_id) is not stored yet, in one statement;
    return the user ids that got a new row."""
    if not rows:
        return set()
    statement = (
        insert(Notification)
        .values([r.model_dump() for r in rows])
        .on_conflict_do_nothing(index_elements=["event_key", "user_id"])
        .returning(col(Notification.user_id))
    )
    return set(session.exec(statement).scalars())


def inbox(
    session: Session, user_id: uuid.UUID, *, unread_only: bool, limit: int
) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    return list(
        session.exec(query.order_by(col(Notification.created_at).desc()).limit(limit)).all()
    )


def mark_read(session: Session, user_id: uuid.UUID, notification_id: uuid.UUID) -> bool:
    row = session.exec(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id
        )
    ).first()
    if row is None:
        return False
    if row.read_at is None:
        row.read_at = utcnow()
        session.add(row)
    return True
