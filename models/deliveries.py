"""Deliveries (one creator, one deliverable of a campaign) and their submissions."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, UniqueConstraint, column, table, text
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlmodel import Field, Session, SQLModel, col, select

from domain.enums import DeliveryStage
from models import audit
from models.base import aware_datetime_field, created_at_field, str_enum


class Delivery(SQLModel, table=True):
    __tablename__ = "deliveries"

    id: uuid.UUID = Field(primary_key=True)
    campaign_id: uuid.UUID = Field(foreign_key="campaigns.id", index=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True)
    deliverable_id: uuid.UUID = Field(foreign_key="deliverables.id")
    creator_id: uuid.UUID = Field(foreign_key="creator_profiles.id", index=True)
    application_id: uuid.UUID = Field(foreign_key="applications.id", unique=True)
    stage: DeliveryStage = Field(sa_type=str_enum(DeliveryStage), index=True)
    price_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    due_at: datetime | None = aware_datetime_field()
    review_due_at: datetime | None = aware_datetime_field()
    late: bool = False
    revisions_used: int = 0
    approved_at: datetime | None = aware_datetime_field()
    # Work handed to later processes (licensing, payout) and their state.
    handoffs: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class Submission(SQLModel, table=True):
    """One script, draft or final upload and what happened to it. `number` counts every
    submission of the delivery; people read `submission_titles` (numbered per kind)."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    id: uuid.UUID = Field(primary_key=True)
    delivery_id: uuid.UUID = Field(foreign_key="deliveries.id", index=True)
    number: int
    kind: str = Field(max_length=20)  # script, draft, final
    media_key: str | None = Field(default=None, max_length=1024)
    text: str = Field(default="", max_length=10_000)
    checks_passed: bool | None = None
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB)
    # Keys of the checked video's renditions (master, HLS, thumbnail, captions, report).
    media: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    review: str | None = Field(default=None, max_length=30)
    review_notes: str = Field(default="", max_length=4000)
    submitted_at: datetime = created_at_field()


_MUTABLE = ("stage", "due_at", "review_due_at", "late", "revisions_used", "approved_at", "handoffs")
_REVIEWED = ("checks_passed", "findings", "media", "review", "review_notes")


def upsert_delivery(session: Session, row: Delivery) -> None:
    before = _upsert(session, row, (*_MUTABLE, "updated_at"), Delivery.stage)
    if before != row.stage:
        audit.record(
            session, "delivery.stage_changed", "Delivery stage changed",
            workspace_id=row.workspace_id, target=audit.Target("delivery", str(row.id)),
            details={"from": before, "to": row.stage},
        )  # fmt: skip


def upsert_submission(session: Session, row: Submission) -> None:
    _upsert(session, row, _REVIEWED)


def _upsert(
    session: Session, row: Delivery | Submission, changing: tuple[str, ...], before: Any = None
) -> Any:
    """One INSERT ... ON CONFLICT: the read model is written on every step of every delivery.
    Answers the `before` column's value from before the write (None for a new row): the
    statement's own subquery still sees the old row."""
    table = type(row).__table__  # type: ignore[union-attr]
    statement = insert(table).values({c.name: getattr(row, c.name) for c in table.columns})
    upsert = statement.on_conflict_do_update(
        index_elements=[table.c.id], set_={name: statement.excluded[name] for name in changing}
    )
    if before is None:
        session.execute(upsert)
        return None
    previous = select(before).where(table.c.id == row.id).scalar_subquery()
    return session.execute(upsert.returning(previous)).scalar_one()


def get_delivery(session: Session, delivery_id: uuid.UUID) -> Delivery | None:
    return session.get(Delivery, delivery_id)


def list_deliveries(
    session: Session,
    *,
    workspace_id: uuid.UUID | None = None,
    creator_id: uuid.UUID | None = None,
    campaign_id: uuid.UUID | None = None,
    stage: DeliveryStage | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Delivery]:
    query = select(Delivery)
    if workspace_id is not None:
        query = query.where(Delivery.workspace_id == workspace_id)
    if creator_id is not None:
        query = query.where(Delivery.creator_id == creator_id)
    if campaign_id is not None:
        query = query.where(Delivery.campaign_id == campaign_id)
    if stage is not None:
        query = query.where(Delivery.stage == stage)
    query = query.order_by(col(Delivery.updated_at).desc(), col(Delivery.id))
    return list(session.exec(query.limit(limit).offset(offset)).all())


def get_submission(
    session: Session, delivery_id: uuid.UUID, submission_id: uuid.UUID
) -> Submission | None:
    row = session.get(Submission, submission_id)
    return row if row is not None and row.delivery_id == delivery_id else None


def list_submissions(session: Session, delivery_id: uuid.UUID) -> list[Submission]:
    return list(
        session.exec(
            select(Submission)
            .where(Submission.delivery_id == delivery_id)
            .order_by(col(Submission.number))
        ).all()
    )


def submission_titles(rows: Iterable[Submission]) -> dict[uuid.UUID, str]:
    """What people call each submission of a delivery: numbered per kind ("Script 1",
    "Draft 1", "Draft 2", "Final files"), in the order they were submitted."""
    counts: dict[str, int] = {}
    titles: dict[uuid.UUID, str] = {}
    for row in sorted(rows, key=lambda r: r.number):
        n = counts[row.kind] = counts.get(row.kind, 0) + 1
        if row.kind == "final":
            titles[row.id] = "Final files" if n == 1 else f"Final files (upload {n})"
        else:
            titles[row.id] = f"{row.kind.capitalize()} {n}"
    return titles


REVIEW_STAGES = (DeliveryStage.SCRIPT_REVIEW, DeliveryStage.IN_REVIEW)
# The creator names the queue shows (models.creators reads this module: no import back).
_PROFILES = table("creator_profiles", column("id"), column("display_name"))


@dataclass(frozen=True)
class QueueEntry:
    """A delivery waiting for the brand, with its creator's name and what waits (a script
    or a draft, by its title)."""

    delivery: Delivery
    creator_name: str
    waiting: str


def review_queue(
    session: Session, workspace_id: uuid.UUID, *, limit: int, offset: int
) -> list[QueueEntry]:
    """The workspace's scripts and drafts waiting for the brand, the nearest review deadline
    first."""
    query = (
        select(Delivery, _PROFILES.c.display_name)
        .join(_PROFILES, _PROFILES.c.id == col(Delivery.creator_id))
        .where(Delivery.workspace_id == workspace_id, col(Delivery.stage).in_(REVIEW_STAGES))
        .order_by(col(Delivery.review_due_at).asc().nulls_last(), col(Delivery.id))
    )
    found = session.exec(query.limit(limit).offset(offset)).all()
    submissions: list[Submission] = []
    if found:
        submissions = list(
            session.exec(
                select(Submission).where(col(Submission.delivery_id).in_([d.id for d, _ in found]))
            ).all()
        )
    titles = submission_titles(submissions)
    latest: dict[uuid.UUID, Submission] = {}
    for row in submissions:
        kept = latest.get(row.delivery_id)
        if kept is None or row.number > kept.number:
            latest[row.delivery_id] = row
    return [
        QueueEntry(d, name, titles[latest[d.id].id] if d.id in latest else "") for d, name in found
    ]


# Every write of a delivery's read model announces itself here (delivered at commit), so a
# request waiting for the delivery to change wakes at once instead of polling.
CHANGES_CHANNEL = "delivery_changed"
LISTEN_FOR_CHANGES = f"LISTEN {CHANGES_CHANNEL}"


def announce_change(session: Session, delivery_id: uuid.UUID) -> None:
    session.execute(
        text("SELECT pg_notify(:channel, :id)"),
        {"channel": CHANGES_CHANNEL, "id": str(delivery_id)},
    )


def stage_of(session: Session, delivery_id: uuid.UUID) -> DeliveryStage | None:
    found = session.exec(select(Delivery.stage).where(Delivery.id == delivery_id)).first()
    return None if found is None else DeliveryStage(found)
