"""Delivery activity: writes the delivery read model and its changed submissions at once."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from models.db import session_scope
from models.deliveries import (
    Delivery,
    Submission,
    announce_change,
    upsert_delivery,
    upsert_submission,
)
from workflows.contracts.delivery import DeliveryRecord, SubmissionRecord


class DeliveryActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="deliveries.record")
    def record(self, record: DeliveryRecord) -> None:
        start = record.start
        with session_scope(self._engine) as session:
            upsert_delivery(
                session,
                Delivery(
                    id=start.delivery_id,
                    campaign_id=start.campaign_id,
                    workspace_id=start.workspace_id,
                    deliverable_id=start.deliverable_id,
                    creator_id=start.creator_id,
                    application_id=start.application_id,
                    stage=record.stage,
                    price_minor=start.price_minor,
                    currency=start.currency,
                    due_at=record.due_at,
                    review_due_at=record.review_due_at,
                    late=record.late,
                    revisions_used=record.revisions_used,
                    approved_at=record.approved_at,
                    handoffs=record.handoffs,
                ),
            )
            for submission in record.submissions:
                upsert_submission(session, _submission_row(submission))
            announce_change(session, start.delivery_id)


def _submission_row(record: SubmissionRecord) -> Submission:
    return Submission(
        id=record.id,
        delivery_id=record.delivery_id,
        number=record.number,
        kind=record.kind,
        media_key=record.media_key,
        text=record.text,
        checks_passed=record.checks_passed,
        findings=[f.model_dump() for f in record.findings],
        media=record.media.model_dump() if record.media else None,
        review=record.review,
        review_notes=record.review_notes,
        submitted_at=record.submitted_at,
    )
