"""The moderation pipeline's read model for people: the cases held for a person's review
(what ops see and decide, what tells the creator a person is on it), and the ops
escalations (child-safety matches and overdue reviews)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint, text, update
from sqlalchemy import select as select_columns
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlmodel import Field, Session, SQLModel, col, select

from models.base import aware_datetime_field, created_at_field, id_field
from models.brands import Brand
from models.campaigns import Campaign
from models.creators import CreatorProfile
from models.deliveries import Delivery, Submission
from workflows.contracts.moderation import (
    MediaFinding,
    ReviewCase,
    ReviewClosed,
    ReviewRecipient,
)


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


class ModerationReview(SQLModel, table=True):
    """A video held for a person's decision, written when the moderation starts waiting
    and closed when the decision is recorded."""

    __tablename__ = "moderation_reviews"
    # The ops queue: open cases, the nearest deadline first.
    __table_args__ = (
        Index(
            "ix_moderation_reviews_open_due", "due_at", postgresql_where=text("decided_at IS NULL")
        ),
    )

    asset_id: uuid.UUID = Field(primary_key=True)
    caption: str = Field(default="", max_length=10_000)
    reason: str = Field(default="", max_length=4000)
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB)
    master_key: str | None = Field(default=None, max_length=1024)
    captions_vtt_key: str | None = Field(default=None, max_length=1024)
    opened_at: datetime = created_at_field()
    due_at: datetime = created_at_field()
    decided_at: datetime | None = aware_datetime_field()
    decision: str | None = Field(default=None, max_length=10)  # pass | block
    note: str = Field(default="", max_length=2000)
    reviewer: str | None = Field(default=None, max_length=200)


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


# -- cases held for a person -----------------------------------------------------------------


def open_review(session: Session, case: ReviewCase) -> None:
    """Record the case (once: a retried activity finds its row and changes nothing)."""
    row = ModerationReview(
        asset_id=case.asset_id,
        caption=case.caption,
        reason=case.reason,
        findings=[f.model_dump(mode="json") for f in case.findings],
        master_key=case.master_key,
        captions_vtt_key=case.captions_vtt_key,
        opened_at=case.opened_at,
        due_at=case.due_at,
    )
    session.execute(
        insert(ModerationReview)
        .values(row.model_dump())
        .on_conflict_do_nothing(index_elements=["asset_id"])
    )


def close_review(session: Session, closed: ReviewClosed) -> None:
    """Record the decision on the case (the first one recorded stays)."""
    session.execute(
        update(ModerationReview)
        .where(
            col(ModerationReview.asset_id) == closed.asset_id,
            col(ModerationReview.decided_at).is_(None),
        )
        .values(
            decided_at=closed.decided_at,
            decision=closed.decision,
            note=closed.note,
            reviewer=closed.reviewer,
        )
    )


def recipient_of(session: Session, asset_id: uuid.UUID) -> ReviewRecipient | None:
    """The creator whose draft this asset is, when it is a delivery's submission."""
    found = session.exec(
        select(CreatorProfile.user_id, Delivery.id, Campaign.title)
        .select_from(Submission)
        .join(Delivery, col(Delivery.id) == Submission.delivery_id)
        .join(CreatorProfile, col(CreatorProfile.id) == Delivery.creator_id)
        .join(Campaign, col(Campaign.id) == Delivery.campaign_id)
        .where(Submission.id == asset_id)
    ).first()
    if found is None:
        return None
    user_id, delivery_id, title = found
    return ReviewRecipient(user_id=user_id, delivery_id=delivery_id, campaign_title=title)


@dataclass(frozen=True)
class CaseNames:
    """Who and what a case is about, by name (all None for an asset that is no delivery's
    submission)."""

    brand: str | None = None
    campaign: str | None = None
    creator: str | None = None
    creator_handle: str | None = None
    delivery_id: uuid.UUID | None = None
    campaign_id: uuid.UUID | None = None
    draft_number: int | None = None


@dataclass(frozen=True)
class Case:
    review: ModerationReview | None  # None: a case held before cases were recorded
    asset_id: uuid.UUID
    names: CaseNames
    escalated: bool

    @property
    def findings(self) -> list[MediaFinding]:
        rows = self.review.findings if self.review is not None else []
        return [MediaFinding.model_validate(f) for f in rows]

    @property
    def first_moment(self) -> float | None:
        """Where the player starts: the first moment a finding points at."""
        moments = [f.start_s for f in self.findings if f.start_s is not None]
        return min(moments) if moments else None


def case_names(session: Session, asset_ids: list[uuid.UUID]) -> dict[uuid.UUID, CaseNames]:
    """Brand, campaign and creator of each asset that is a delivery's submission."""
    if not asset_ids:
        return {}
    rows = session.execute(
        select_columns(
            col(Submission.id), col(Submission.number), col(Delivery.id), col(Campaign.id),
            col(Campaign.title), col(Brand.name), col(CreatorProfile.display_name),
            col(CreatorProfile.handle),
        )
        .select_from(Submission)
        .join(Delivery, col(Delivery.id) == Submission.delivery_id)
        .join(Campaign, col(Campaign.id) == Delivery.campaign_id)
        .join(Brand, col(Brand.id) == Campaign.brand_id)
        .join(CreatorProfile, col(CreatorProfile.id) == Delivery.creator_id)
        .where(col(Submission.id).in_(asset_ids))
    ).all()  # fmt: skip
    drafts = _draft_numbers(session, {row[2] for row in rows})
    return {
        asset: CaseNames(
            brand=brand,
            campaign=title,
            creator=creator,
            creator_handle=handle,
            delivery_id=delivery_id,
            campaign_id=campaign_id,
            draft_number=drafts.get(asset, number),
        )
        for asset, number, delivery_id, campaign_id, title, brand, creator, handle in rows
    }


def _draft_numbers(session: Session, delivery_ids: set[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Each draft's number among its delivery's drafts (1 for the first), whatever came
    before it (a script is a submission too)."""
    if not delivery_ids:
        return {}
    drafts = session.exec(
        select(Submission.id, Submission.delivery_id)
        .where(col(Submission.delivery_id).in_(delivery_ids), Submission.kind == "draft")
        .order_by(col(Submission.delivery_id), col(Submission.number))
    ).all()
    numbers: dict[uuid.UUID, int] = {}
    seen: dict[uuid.UUID, int] = {}
    for submission_id, delivery_id in drafts:
        seen[delivery_id] = seen.get(delivery_id, 0) + 1
        numbers[submission_id] = seen[delivery_id]
    return numbers


def _escalated(session: Session, asset_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not asset_ids:
        return set()
    return set(
        session.exec(
            select(ModerationEscalation.asset_id).where(
                col(ModerationEscalation.asset_id).in_(asset_ids),
                col(ModerationEscalation.resolved_at).is_(None),
            )
        ).all()
    )


def _cases(
    session: Session, reviews: list[ModerationReview], unrecorded: list[uuid.UUID]
) -> list[Case]:
    ids = [r.asset_id for r in reviews] + unrecorded
    names = case_names(session, ids)
    escalated = _escalated(session, ids)
    by_id = {r.asset_id: r for r in reviews}
    return [Case(by_id.get(a), a, names.get(a, CaseNames()), a in escalated) for a in ids]


def waiting_cases(
    session: Session, *, also: list[uuid.UUID] | None = None, limit: int = 100
) -> list[Case]:
    """The cases waiting for a person, the nearest deadline first, with their names; then
    those of `also` (assets the workflow engine holds for a person) without a recorded case:
    held before cases were recorded."""
    reviews = list(
        session.exec(
            select(ModerationReview)
            .where(col(ModerationReview.decided_at).is_(None))
            .order_by(col(ModerationReview.due_at), col(ModerationReview.asset_id))
            .limit(limit)
        ).all()
    )
    held = also or []
    recorded = set(
        session.exec(
            select(ModerationReview.asset_id).where(col(ModerationReview.asset_id).in_(held))
        ).all()
    )
    return _cases(session, reviews, [a for a in held if a not in recorded])


def case(session: Session, asset_id: uuid.UUID) -> Case:
    """One case, recorded or not (a case held before cases were recorded has only names)."""
    review = session.get(ModerationReview, asset_id)
    return _cases(session, [review] if review else [], [] if review else [asset_id])[0]


def waiting_review(session: Session, delivery_id: uuid.UUID) -> ModerationReview | None:
    """The case of the delivery's latest video (draft or final files) while a person
    reviews it (None otherwise)."""
    latest = session.exec(
        select(Submission.id)
        .where(Submission.delivery_id == delivery_id, Submission.kind != "script")
        .order_by(col(Submission.number).desc())
        .limit(1)
    ).first()
    if latest is None:
        return None
    review = session.get(ModerationReview, latest)
    return review if review is not None and review.decided_at is None else None
