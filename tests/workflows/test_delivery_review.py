"""The brand's reviews of a delivery beyond the draft: the script (when the brief asks for
one), the final files (checked like drafts), and an extra revision's notes.

Real workers and activities on the time-skipping server (the world of test_timers), asserting
the live state, the read model and the inbox. `NEXUS_RECORD_HISTORIES=<folder>` saves the
histories of the new paths there (tests/histories/ keeps them for the replay test)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from domain.enums import DeliveryStage
from integrations.storage import store_from_settings
from nexus.settings import Settings
from tests.media import video
from tests.workflows.test_timers import (
    DRAFT,
    Accepted,
    brief_accepted,
    campaign_world,
    draft_in_review,
    rejection,
    stage_is,
)
from workflows.contracts.delivery import (
    BriefAcceptance,
    DeliveryStatus,
    ExtraRevisionAnswer,
    ExtraRevisionRequest,
    Review,
    SubmitDraft,
    SubmitFinal,
    SubmitScript,
)
from workflows.delivery import DeliveryWorkflow

SCRIPT = "Hook: 'My skin in 30 seconds.' Show the serum, apply it, say it is sponsored."
# Passes the caption rules, but the video never says it is sponsored: the checks refuse it.
SILENT = "uploads/timers/silent-final.mp4"


async def _record(d: Accepted, name: str) -> None:
    folder = os.environ.get("NEXUS_RECORD_HISTORIES")
    if folder:
        history = await d.delivery.fetch_history()
        (Path(folder) / f"{name}.json").write_text(history.to_json())


async def _script_sent(d: Accepted, text: str = SCRIPT) -> DeliveryStatus:
    return await d.delivery.execute_update(
        DeliveryWorkflow.submit_script, SubmitScript(creator_id=d.creator.creator_id, text=text)
    )


def _task(status: DeliveryStatus, key: str) -> str:
    return next(t.status for t in status.tasks if t.key == key)


async def test_a_script_waits_for_the_brand_who_asks_for_changes_with_notes_then_approves(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with campaign_world(time_skipping_env, settings, engine, script_required=True) as w:
        d = await w.accept()
        status = await d.delivery.execute_update(
            DeliveryWorkflow.accept_brief, BriefAcceptance(creator_id=d.creator.creator_id)
        )
        assert status.stage == DeliveryStage.AWAITING_SCRIPT
        early = await rejection(
            d.delivery.execute_update(DeliveryWorkflow.review_script, Review(decision="approve"))
        )
        assert "no script in review" in early

        status = await _script_sent(d)
        # The brand's move now: nothing for the creator to do, and no filming yet.
        assert status.stage == DeliveryStage.SCRIPT_REVIEW and status.next_task is None
        assert _task(status, "submit_script") == "waiting"
        assert _task(status, "upload_draft") == "upcoming"
        assert status.review_due_at is not None and status.review_due_at > await w.now()
        refused = await rejection(
            d.delivery.execute_update(
                DeliveryWorkflow.submit_draft,
                SubmitDraft(creator_id=d.creator.creator_id, media_key=DRAFT),
            )
        )
        assert (
            "not possible while the delivery is waiting for the brand to review the script"
            in refused
        )
        await w.settle()
        row = w.delivery_row(d.delivery_id)
        assert row is not None and row.stage == DeliveryStage.SCRIPT_REVIEW
        assert row.review_due_at == status.review_due_at
        [told] = w.inbox(w.brand.user_id, "script_submitted")
        assert told.title == "A script is waiting for your review"

        no_notes = await rejection(
            d.delivery.execute_update(
                DeliveryWorkflow.review_script, Review(decision="revise", notes="  ")
            )
        )
        assert "needs notes" in no_notes
        notes = "Open on the texture, then the bottle."
        status = await d.delivery.execute_update(
            DeliveryWorkflow.review_script, Review(decision="revise", notes=notes)
        )
        assert status.stage == DeliveryStage.AWAITING_SCRIPT
        assert status.next_task == "submit_script" and status.due_at is not None
        assert status.review_due_at is None
        await w.settle()
        [asked] = w.inbox(d.creator.user_id, "script_changes_requested")
        assert asked.body == notes
        [first] = w.submissions(d.delivery_id)
        assert (first.kind, first.text) == ("script", SCRIPT)
        assert (first.review, first.review_notes) == ("revision_requested", notes)

        status = await _script_sent(d, SCRIPT + " Open on the texture.")
        assert status.stage == DeliveryStage.SCRIPT_REVIEW
        status = await d.delivery.execute_update(
            DeliveryWorkflow.review_script, Review(decision="approve", notes="Love the hook")
        )
        assert status.stage == DeliveryStage.AWAITING_DRAFT
        assert status.next_task == "upload_draft" and _task(status, "submit_script") == "done"
        await w.settle()
        [approved] = w.inbox(d.creator.user_id, "script_approved")
        assert approved.title == "Your script was approved" and "Love the hook" in approved.body
        assert [(s.kind, s.review) for s in w.submissions(d.delivery_id)] == [
            ("script", "revision_requested"),
            ("script", "approved"),
        ]
        row = w.delivery_row(d.delivery_id)
        assert row is not None and row.stage == DeliveryStage.AWAITING_DRAFT
        assert row.review_due_at is None
        await _record(d, "delivery_script_review")


async def test_a_script_the_brand_leaves_unread_is_approved_when_its_window_ends(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with campaign_world(
        time_skipping_env, settings, engine, script_required=True, due_in=timedelta(days=2)
    ) as w:
        d = await w.accept()
        await d.delivery.execute_update(
            DeliveryWorkflow.accept_brief, BriefAcceptance(creator_id=d.creator.creator_id)
        )
        status = await _script_sent(d)
        first_due, review_due = status.due_at, status.review_due_at
        assert first_due is not None and review_due is not None and review_due > first_due

        # The creator's deadline passes while the brand reads: not the creator's lateness.
        await w.advance_to(first_due + timedelta(minutes=1))
        status = await d.delivery.query(DeliveryWorkflow.status)
        assert status.stage == DeliveryStage.SCRIPT_REVIEW and not status.late
        await w.advance_to(review_due + timedelta(minutes=1))
        status = await d.delivery.query(DeliveryWorkflow.status)
        assert status.stage == DeliveryStage.AWAITING_DRAFT and not status.late
        assert status.due_at is not None and status.due_at > review_due
        [reminder] = w.inbox(w.brand.user_id, "review_reminder")
        assert reminder.title == "A script is waiting for your review"
        assert len(w.inbox(w.brand.user_id, "script_auto_approved")) == 1
        [told] = w.inbox(d.creator.user_id, "script_approved")
        assert told.title == "Your script was approved (review window passed)"
        [script] = w.submissions(d.delivery_id)
        assert script.review == "auto_approved"


async def test_final_files_are_checked_and_complete_the_delivery_only_once_they_pass(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    silent = video(tmp_path / "silent.mp4", seconds=2, size="352x640")
    store_from_settings(settings.storage).put_file(SILENT, silent, "video/mp4")
    async with campaign_world(time_skipping_env, settings, engine) as w:
        d = await w.accept()
        await brief_accepted(d)
        await draft_in_review(d)
        await d.delivery.execute_update(DeliveryWorkflow.review, Review(decision="approve"))

        status = await d.delivery.execute_update(
            DeliveryWorkflow.submit_final,
            SubmitFinal(creator_id=d.creator.creator_id, media_key=SILENT),
        )
        assert status.stage == DeliveryStage.CHECKING
        assert _task(status, "final_delivery") == "waiting"
        await stage_is(d, DeliveryStage.AWAITING_FINAL)
        status = await d.delivery.query(DeliveryWorkflow.status)
        assert status.next_task == "final_delivery"
        assert any(f.severity == "block" for f in status.findings)
        await w.settle()
        [refused] = w.inbox(d.creator.user_id, "final_checks_failed")
        assert refused.title == "Your final files need fixes" and refused.body
        # The findings read as sentences, each with one full stop.
        assert ".;" not in refused.body and ".." not in refused.body
        assert refused.body.endswith(".")
        assert w.inbox(w.brand.user_id, "delivered") == []
        final = w.submissions(d.delivery_id)[-1]
        assert (final.kind, final.checks_passed) == ("final", False) and final.findings

        status = await d.delivery.execute_update(
            DeliveryWorkflow.submit_final,
            SubmitFinal(creator_id=d.creator.creator_id, media_key=DRAFT),
        )
        assert status.stage == DeliveryStage.CHECKING and status.findings == []
        await stage_is(d, DeliveryStage.COMPLETED)
        assert (await d.delivery.result()).stage == DeliveryStage.COMPLETED
        await w.settle()
        kinds = [(s.kind, s.checks_passed) for s in w.submissions(d.delivery_id)]
        assert kinds == [("draft", True), ("final", False), ("final", True)]
        # The brand's player gets the checked final like a draft.
        assert (w.submissions(d.delivery_id)[-1].media or {}).get("master_key")
        assert len(w.inbox(w.brand.user_id, "delivered")) == 1
        row = w.delivery_row(d.delivery_id)
        assert row is not None and row.stage == DeliveryStage.COMPLETED
        await _record(d, "delivery_final_through_moderation")


async def test_an_extra_revisions_notes_wait_with_the_request_and_become_the_revisions(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with campaign_world(time_skipping_env, settings, engine, revision_rounds=0) as w:
        d = await w.accept()
        await brief_accepted(d)
        await draft_in_review(d)
        status = await d.delivery.execute_update(
            DeliveryWorkflow.request_extra_revision, ExtraRevisionRequest(notes="Brighter light")
        )
        assert status.extra_revision_pending
        assert status.extra_revision_notes == "Brighter light"
        # A request is not a revision: nothing reads as the brand's revision notes yet.
        assert status.last_review_notes == ""
        status = await d.delivery.execute_update(
            DeliveryWorkflow.answer_extra_revision,
            ExtraRevisionAnswer(creator_id=d.creator.creator_id, accept=False),
        )
        assert status.stage == DeliveryStage.IN_REVIEW and not status.extra_revision_pending
        assert status.extra_revision_notes == ""

        notes = "Brighter light, and hold the bottle still"
        await d.delivery.execute_update(
            DeliveryWorkflow.request_extra_revision, ExtraRevisionRequest(notes=notes)
        )
        status = await d.delivery.execute_update(
            DeliveryWorkflow.answer_extra_revision,
            ExtraRevisionAnswer(creator_id=d.creator.creator_id, accept=True),
        )
        assert status.stage == DeliveryStage.REVISING and status.last_review_notes == notes
        await w.settle()
        [draft] = w.submissions(d.delivery_id)
        assert (draft.review, draft.review_notes) == ("revision_requested", notes)
