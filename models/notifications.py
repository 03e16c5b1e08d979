"""The in-app inbox (the embedded default channel for notifications), what each person wants
by e-mail, the e-mail outbox (e-mail waiting to be sent, written with the inbox rows), and the
development mail catcher's messages."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, Text, UniqueConstraint, func, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlmodel import Field, Session, SQLModel, col, select

from domain.enums import Role
from domain.notifications import EMAIL_GROUPS, group_of
from models.base import aware_datetime_field, created_at_field, id_field, utcnow
from models.workspaces import Membership


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


# -- the e-mail outbox ----------------------------------------------------------------------


class OutboxEmail(SQLModel, table=True):
    """One e-mail to one recipient about one event, stored in the transaction that stores the
    event's inbox rows and sent afterwards: right away, and by the sweep while it keeps
    failing. Sent once the SMTP server accepted it; given up (and ops told) after failing for
    a day."""

    __tablename__ = "email_outbox"
    # One e-mail per event per address: a repeated delivery adds nothing.
    __table_args__ = (
        UniqueConstraint("event_key", "email"),
        Index(
            "ix_email_outbox_due",
            "next_attempt_at",
            postgresql_where=text("sent_at IS NULL AND given_up_at IS NULL"),
        ),
    )

    id: uuid.UUID = id_field()
    event_key: str = Field(max_length=300)
    # None: the recipient has no account (an invitation); the e-mail then has no preferences link.
    user_id: uuid.UUID | None = Field(default=None)
    kind: str = Field(max_length=60)
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    subject: str = Field(max_length=300)
    body: str = Field(default="", max_length=4000)
    link: str = Field(default="", max_length=500)
    # Derived from event key and address: every try sends the same Message-ID.
    message_id: str = Field(max_length=998)
    attempts: int = 0
    next_attempt_at: datetime = created_at_field()
    last_attempt_at: datetime | None = aware_datetime_field()
    last_error: str = Field(default="", max_length=1000)
    sent_at: datetime | None = aware_datetime_field()
    given_up_at: datetime | None = aware_datetime_field()
    created_at: datetime = created_at_field()


def enqueue_emails(session: Session, rows: Sequence[OutboxEmail]) -> list[uuid.UUID]:
    """Store the e-mails not stored yet (same event key and address), in one statement;
    answer the ids of those stored now."""
    if not rows:
        return []
    statement = (
        insert(OutboxEmail)
        .values([r.model_dump() for r in rows])
        .on_conflict_do_nothing(index_elements=["event_key", "email"])
        .returning(col(OutboxEmail.id))
    )
    return list(session.exec(statement).scalars())


def _unsent() -> Any:
    return (col(OutboxEmail.sent_at).is_(None)) & (col(OutboxEmail.given_up_at).is_(None))


def claim_email(
    session: Session,
    now: datetime,
    *,
    among: Collection[uuid.UUID] | None = None,
    skip: Collection[uuid.UUID] = (),
) -> OutboxEmail | None:
    """The next unsent e-mail to try, locked for this transaction: the one due longest among
    all, or any of `among` (due or not). One that another sender holds is skipped, so two
    senders never send one e-mail at once."""
    query = select(OutboxEmail).where(_unsent())
    if among is not None:
        query = query.where(col(OutboxEmail.id).in_(list(among)))
    else:
        query = query.where(col(OutboxEmail.next_attempt_at) <= now)
    if skip:
        query = query.where(col(OutboxEmail.id).not_in(list(skip)))
    query = query.order_by(col(OutboxEmail.next_attempt_at), col(OutboxEmail.id))
    return session.exec(query.limit(1).with_for_update(skip_locked=True)).first()


def email_sent(session: Session, row: OutboxEmail, now: datetime) -> None:
    row.attempts += 1
    row.last_attempt_at = row.sent_at = now
    session.add(row)


def email_failed(
    session: Session, row: OutboxEmail, now: datetime, error: str, next_attempt_at: datetime
) -> None:
    row.attempts += 1
    row.last_attempt_at = now
    row.last_error = error[:1000]
    row.next_attempt_at = next_attempt_at
    session.add(row)


def give_up_emails(session: Session, now: datetime, after: timedelta) -> list[OutboxEmail]:
    """Give up the unsent e-mails that were still failing `after` their creation (a try
    failed since), skipping any a sender holds; answer them."""
    stale = (
        select(col(OutboxEmail.id))
        .where(
            _unsent(),
            col(OutboxEmail.created_at) <= now - after,
            col(OutboxEmail.last_attempt_at) >= col(OutboxEmail.created_at) + after,
        )
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(OutboxEmail)
        .where(col(OutboxEmail.id).in_(stale.scalar_subquery()))
        .values(given_up_at=now)
        .returning(OutboxEmail)
    )
    rows = session.execute(select(OutboxEmail).from_statement(statement)).scalars()
    return sorted(rows, key=lambda r: (r.created_at, r.id))


def outbox_of(session: Session, event_key: str) -> list[OutboxEmail]:
    """The e-mails of one event, by address."""
    query = select(OutboxEmail).where(OutboxEmail.event_key == event_key)
    return list(session.exec(query.order_by(col(OutboxEmail.email))).all())


def ops_user_ids(session: Session) -> list[uuid.UUID]:
    """The people of the operations team (who hear of e-mail given up)."""
    query = select(Membership.user_id).where(Membership.role == Role.OPS).distinct()
    return list(session.exec(query).all())


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
