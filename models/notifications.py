"""The in-app inbox (the embedded default channel for notifications), what each person wants
by e-mail, and the development mail catcher's messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Text, UniqueConstraint, func, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlmodel import Field, Session, SQLModel, col, select

from domain.notifications import EMAIL_GROUPS, group_of
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
    session: Session, user_id: uuid.UUID, *, unread_only: bool, limit: int, offset: int = 0
) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    query = query.order_by(col(Notification.created_at).desc(), col(Notification.id))
    return list(session.exec(query.limit(limit).offset(offset)).all())


def unread_count(session: Session, user_id: uuid.UUID) -> int:
    query = select(func.count()).where(
        Notification.user_id == user_id, col(Notification.read_at).is_(None)
    )
    return int(session.exec(query).one())


def get(session: Session, user_id: uuid.UUID, notification_id: uuid.UUID) -> Notification | None:
    """The user's notification; another user's is as if it did not exist."""
    return session.exec(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id
        )
    ).first()


def mark_read(session: Session, user_id: uuid.UUID, notification_id: uuid.UUID) -> bool:
    row = get(session, user_id, notification_id)
    if row is None:
        return False
    if row.read_at is None:
        row.read_at = utcnow()
        session.add(row)
    return True


def mark_all_read(session: Session, user_id: uuid.UUID, *, link: str | None = None) -> int:
    """Mark the user's unread notifications read (only those with `link`, when given);
    answers how many were unread."""
    statement = update(Notification).where(
        col(Notification.user_id) == user_id, col(Notification.read_at).is_(None)
    )
    if link is not None:
        statement = statement.where(col(Notification.link) == link)
    result = session.execute(statement.values(read_at=utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]


# -- e-mail preferences ----------------------------------------------------------------------


class NotificationPreference(SQLModel, table=True):
    """The groups of notifications a person does not want by e-mail (everything always
    reaches their inbox). No row: every group by e-mail."""

    __tablename__ = "notification_preferences"

    user_id: uuid.UUID = Field(foreign_key="users.id", primary_key=True)
    email_off: list[str] = Field(default_factory=list, sa_type=JSONB)
    updated_at: datetime = created_at_field()


def email_choices(session: Session, user_id: uuid.UUID) -> dict[str, bool]:
    """Each e-mail group, and whether the user gets it by e-mail."""
    row = session.get(NotificationPreference, user_id)
    off = set(row.email_off) if row is not None else set()
    return {group: group not in off for group in EMAIL_GROUPS}


def set_email_choices(session: Session, user_id: uuid.UUID, choices: dict[str, bool]) -> None:
    off = sorted(group for group in EMAIL_GROUPS if not choices.get(group, True))
    statement = insert(NotificationPreference).values(
        user_id=user_id, email_off=off, updated_at=utcnow()
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id"],
            set_={"email_off": statement.excluded.email_off, "updated_at": utcnow()},
        )
    )


def emailed(session: Session, user_id: uuid.UUID | None, kind: str) -> bool:
    """Whether a notification of `kind` goes to this user by e-mail too. Someone without an
    account (an invitation) has no preferences: it does."""
    group = group_of(kind)
    if user_id is None or group is None:
        return True
    return email_choices(session, user_id)[group]


# -- the development mail catcher ------------------------------------------------------------


class CaughtEmail(SQLModel, table=True):
    """An e-mail the development stack's mail catcher received instead of sending it on."""

    __tablename__ = "caught_emails"

    id: uuid.UUID = id_field()
    # Kept once: a resend of the same message (same Message-ID) adds nothing.
    message_id: str | None = Field(default=None, max_length=998, unique=True)
    mail_from: str = Field(default="", max_length=998)
    recipients: list[str] = Field(default_factory=list, sa_type=JSONB)
    subject: str = Field(default="", max_length=998)
    text: str = Field(default="", sa_type=Text)
    received_at: datetime = created_at_field()


def catch(session: Session, email: CaughtEmail) -> bool:
    """Keep a caught e-mail; False when its Message-ID was kept already."""
    values: dict[str, Any] = email.model_dump()
    statement = insert(CaughtEmail).values(values).on_conflict_do_nothing()
    return bool(session.execute(statement.returning(col(CaughtEmail.id))).first())


def caught(session: Session, *, recipient: str | None, limit: int) -> list[CaughtEmail]:
    """The newest caught e-mails first; only those to `recipient` when given."""
    query = select(CaughtEmail)
    if recipient is not None:
        query = query.where(col(CaughtEmail.recipients).contains([recipient.lower()]))
    query = query.order_by(col(CaughtEmail.received_at).desc(), col(CaughtEmail.id))
    return list(session.exec(query.limit(limit)).all())
