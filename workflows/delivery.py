"""DeliveryWorkflow (`delivery-<id>`): one creator delivering one deliverable, step by step.

Guided tasks: accept the brief, confirm the product arrived (when the brief ships one), submit
a script (when asked: the brand approves it or asks for changes before any filming), upload a
draft, fix what the automated checks found, address revision notes, deliver the final files.
A video draft goes through ModerationWorkflow (a caption-only draft through
AutomatedChecksWorkflow), then to the brand; the final files go through the same checks, and
the delivery completes once they pass.
Durable timers send reminders, mark the creator late at the deadline, and auto-approve when the
brand does not review a script or a draft within its window (business days).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.deliveries import DeliveryActivities
    from domain.calendar import add_business_days
    from domain.enums import DeliverableFormat, DeliveryStage
    from domain.findings import Finding
    from domain.labels import delivery_state
    from domain.words import sentences
    from workflows import notify, timers
    from workflows import search_attributes as sa
    from workflows.checks import AutomatedChecksWorkflow, moderation_request, to_check_report
    from workflows.checks import workflow_id as checks_workflow_id
    from workflows.contracts.campaign import DeliveryOutcome
    from workflows.contracts.delivery import (
        BriefAcceptance,
        CheckReport,
        CheckRequest,
        CreatorAct,
        DeliveryRecord,
        DeliveryStart,
        DeliveryStatus,
        ExtendDeadline,
        ExtraRevisionAnswer,
        ExtraRevisionRequest,
        Reassign,
        Review,
        SubmissionRecord,
        SubmitDraft,
        SubmitFinal,
        SubmitScript,
        Task,
        TaskKey,
    )
    from workflows.contracts.license import LicenseGrant, LicenseTerms
    from workflows.contracts.notifications import Notify
    from workflows.contracts.payouts import PayoutRequest
    from workflows.license import LicenseWorkflow
    from workflows.license import workflow_id as license_workflow_id
    from workflows.moderation import ModerationWorkflow
    from workflows.moderation import workflow_id as moderation_workflow_id
    from workflows.options import DB_RETRY, DB_TIMEOUT, one_at_a_time
    from workflows.payout import PayoutWorkflow
    from workflows.payout import workflow_id as payout_workflow_id
    from workflows.timers import Timer

S = DeliveryStage
TERMINAL = frozenset({S.COMPLETED, S.CANCELLED, S.REASSIGNED})
# Stages where the next move is the creator's, with a deadline.
CREATOR_STAGES = frozenset(
    {
        S.AWAITING_BRIEF_ACCEPTANCE,
        S.AWAITING_PRODUCT,
        S.AWAITING_SCRIPT,
        S.AWAITING_DRAFT,
        S.FIXING,
        S.REVISING,
        S.AWAITING_FINAL,
    }
)
DRAFT_STAGES = frozenset({S.AWAITING_DRAFT, S.FIXING, S.REVISING})
# Stages where the brand reviews, within its review window.
REVIEW_STAGES = frozenset({S.SCRIPT_REVIEW, S.IN_REVIEW})
ASPECT_OF_FORMAT: dict[DeliverableFormat, Literal["9:16", "1:1", "16:9"]] = {
    DeliverableFormat.VIDEO_9_16: "9:16",
    DeliverableFormat.VIDEO_1_1: "1:1",
    DeliverableFormat.VIDEO_16_9: "16:9",
}
TASK_OF_STAGE: dict[DeliveryStage, TaskKey] = {
    S.AWAITING_BRIEF_ACCEPTANCE: "accept_brief",
    S.AWAITING_PRODUCT: "confirm_product",
    S.AWAITING_SCRIPT: "submit_script",
    S.AWAITING_DRAFT: "upload_draft",
    S.FIXING: "fix_issues",
    S.REVISING: "address_revisions",
    S.AWAITING_FINAL: "final_delivery",
}
TASK_TITLES: dict[TaskKey, str] = {
    "accept_brief": "Accept the brief and its usage rights",
    "confirm_product": "Confirm the product arrived",
    "submit_script": "Submit your script or concept",
    "upload_draft": "Upload your draft",
    "fix_issues": "Fix what the automated checks found",
    "address_revisions": "Address the brand's revision notes",
    "final_delivery": "Deliver the final files",
}


def workflow_id(delivery_id: object) -> str:
    return f"delivery-{delivery_id}"


@dataclass(frozen=True)
class _Approval:
    draft: SubmissionRecord | None
    auto: bool


def _reject(message: str) -> ApplicationError:
    return ApplicationError(message, type="InvalidStep", non_retryable=True)


@workflow.defn
class DeliveryWorkflow:
    @workflow.init
    def __init__(self, start: DeliveryStart) -> None:
        self._start = start
        self._stage = S.AWAITING_BRIEF_ACCEPTANCE
        self._done: set[TaskKey] = set()
        self._due_at = start.terms.due_at
        self._due_set_at: datetime | None = None
        self._late = False
        self._review_started_at: datetime | None = None
        self._review_due_at: datetime | None = None
        self._revisions_used = 0
        self._extra_granted = 0
        self._extra_pending = False
        self._findings: list[Finding] = []
        self._notes = ""
        # The brand's notes with a pending extra-revision request: the revision's notes once
        # the creator accepts it.
        self._extra_notes = ""
        self._cancel_reason: str | None = None
        self._submissions = 0
        self._pending_check: CheckRequest | None = None
        self._stage_before_check = S.AWAITING_DRAFT
        self._last_draft: SubmissionRecord | None = None
        self._last_script: SubmissionRecord | None = None
        self._last_final: SubmissionRecord | None = None
        self._unsaved_submissions: list[SubmissionRecord] = []
        self._approved_at: datetime | None = None
        self._perpetual_consent = False
        self._license_id: uuid.UUID | None = None
        self._payout_started = False
        # An approval whose hand-offs are still to start (see `_hand_off`).
        self._approval: _Approval | None = None
        self._fired: set[str] = set()
        self._events = 0
        self._wake = False
        self._lock = asyncio.Lock()

    # -- main loop ------------------------------------------------------------------------

    @workflow.run
    async def run(self, start: DeliveryStart) -> DeliveryStatus:
        self._due_set_at = workflow.now()
        await self._record()
        await self._notify_creator(
            "delivery_started",
            "You're in: accept the brief to start",
            "Your next step is to accept the brief.",
        )
        while self._stage not in TERMINAL:
            await self._sleep_until_next_timer()
            async with self._lock:
                await self._fire_due_timers()
                await self._hand_off()
            if self._pending_check is not None:
                await self._run_checks(self._pending_check)
        async with self._lock:
            await self._hand_off()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    def _timers(self) -> list[Timer]:
        moments: list[Timer] = []
        reminders = self._start.reminders
        if self._stage in CREATOR_STAGES and self._due_at is not None and not self._late:
            due = self._due_at
            for hours in reminders.creator_hours_before_due:
                when = due - timedelta(hours=hours)
                if self._due_set_at is not None and when > self._due_set_at:
                    moments.append(
                        Timer(when, f"remind:{due.isoformat()}:{hours}", self._remind_creator)
                    )
            moments.append(Timer(due, f"late:{due.isoformat()}", self._mark_late))
        if self._stage in REVIEW_STAGES and self._review_due_at and self._review_started_at:
            window = self._start.terms.review_window_days
            before = reminders.brand_business_days_before_review_due
            if window > before:
                when = add_business_days(self._review_started_at, window - before)
                moments.append(
                    Timer(when, f"review-remind:{self._submissions}", self._remind_brand)
                )
            # Keyed by the submission in review: a script and each draft get a window each.
            script = self._stage == S.SCRIPT_REVIEW
            approve = self._auto_approve_script if script else self._auto_approve
            moments.append(Timer(self._review_due_at, f"auto-approve:{self._submissions}", approve))
        return [t for t in moments if t.key not in self._fired]

    async def _sleep_until_next_timer(self) -> None:
        self._wake = False
        if self._pending_check is None and self._approval is None:
            await timers.sleep_until_next(self._timers(), lambda: self._wake)

    async def _fire_due_timers(self) -> None:
        await timers.fire_due(self._timers(), self._fired, lambda: self._stage not in TERMINAL)

    # -- timer actions --------------------------------------------------------------------

    async def _remind_creator(self) -> None:
        task = TASK_OF_STAGE.get(self._stage)
        if task is None or self._due_at is None:
            return
        await self._notify_creator(
            "reminder", f"Reminder: {TASK_TITLES[task]}", f"Due {self._due_at:%Y-%m-%d %H:%M} UTC."
        )

    async def _mark_late(self) -> None:
        self._late = True
        await self._record()
        await self._notify_creator(
            "late",
            "Your delivery is late",
            "The deadline passed; the brand may extend it or reassign.",
        )
        await self._notify_brand(
            "creator_late",
            "A creator missed a deadline",
            "Extend the deadline or reassign the delivery.",
        )

    async def _remind_brand(self) -> None:
        what = "script" if self._stage == S.SCRIPT_REVIEW else "draft"
        await self._notify_brand(
            "review_reminder",
            f"A {what} is waiting for your review",
            f"It is approved automatically at {self._review_due_at:%Y-%m-%d %H:%M} UTC.",
        )

    async def _auto_approve(self) -> None:
        await self._approve(auto=True)

    async def _auto_approve_script(self) -> None:
        await self._approve_script(auto=True, notes="")

    # -- steps ----------------------------------------------------------------------------

    async def _enter(self, stage: DeliveryStage, *, due_at: datetime | None = None) -> None:
        self._stage = stage
        if due_at is not None:
            self._due_at, self._due_set_at, self._late = due_at, workflow.now(), False
        workflow.upsert_search_attributes([sa.STAGE.value_set(stage.value)])
        await self._record()

    def _phase_due(self) -> datetime:
        days = self._start.reminders.phase_business_days
        fresh = add_business_days(workflow.now(), days)
        return max(fresh, self._due_at) if self._due_at else fresh

    async def _advance_from_brief(self) -> None:
        terms = self._start.terms
        if terms.ships_product and "confirm_product" not in self._done:
            await self._enter(S.AWAITING_PRODUCT)
        elif terms.script_required and "submit_script" not in self._done:
            await self._enter(S.AWAITING_SCRIPT)
        else:
            await self._enter(S.AWAITING_DRAFT)

    async def _run_checks(self, request: CheckRequest) -> None:
        found = TypedSearchAttributes(
            [
                SearchAttributePair(sa.CAMPAIGN_ID, str(self._start.campaign_id)),
                SearchAttributePair(sa.DELIVERY_ID, str(self._start.delivery_id)),
                SearchAttributePair(sa.CREATOR_ID, str(self._start.creator_id)),
            ]
        )
        report: CheckReport
        # Drafts checked before the delivery ran moderation itself went through a wrapper.
        if request.media_key is not None and workflow.patched("moderation-as-checks"):
            # A video can wait on a person (human review, escalation): no time limit.
            moderated = await workflow.execute_child_workflow(
                ModerationWorkflow.run,
                moderation_request(request, request.media_key),
                id=moderation_workflow_id(request.submission_id),
                search_attributes=found,
            )
            report = to_check_report(moderated, request.media_kind)
        else:
            report = await workflow.execute_child_workflow(
                AutomatedChecksWorkflow.run,
                request,
                id=checks_workflow_id(request.submission_id),
                execution_timeout=None if request.media_key else timedelta(hours=2),
                search_attributes=found,
            )
        async with self._lock:
            await self._after_checks(report)

    async def _after_checks(self, report: CheckReport) -> None:
        self._pending_check = None
        if self._stage in TERMINAL:
            return  # cancelled while the checks ran
        if self._stage_before_check == S.AWAITING_FINAL:
            await self._after_final_checks(report)
            return
        self._findings = report.findings
        assert self._last_draft is not None
        self._last_draft = self._last_draft.model_copy(
            update={
                "checks_passed": report.passed,
                "findings": report.findings,
                "media": report.media,
            }
        )
        self._save_with_next_record(self._last_draft)
        if report.final:
            await self._stop_for_safety()
            return
        if not report.passed:
            await self._enter(S.FIXING, due_at=self._phase_due())
            await self._notify_creator(
                "checks_failed",
                "Your draft needs fixes before review",
                sentences(f.message for f in report.findings if f.severity == "block"),
            )
            return
        previous = self._stage_before_check
        self._done.add("upload_draft")
        if previous == S.FIXING:
            self._done.add("fix_issues")
        if previous == S.REVISING:
            self._done.add("address_revisions")
        now = workflow.now()
        self._review_started_at = now
        self._review_due_at = add_business_days(now, self._start.terms.review_window_days)
        await self._enter(S.IN_REVIEW)
        await self._notify_brand(
            "draft_ready", "A draft is ready for your review", "Approve it or request a revision."
        )

    async def _after_final_checks(self, report: CheckReport) -> None:
        """The final files passed the checks: the delivery is complete. Otherwise they go back
        to the creator with what was found (a child-safety match included: the approved
        work is bought, ops have the file, and the creator delivers another)."""
        self._findings = report.findings
        assert self._last_final is not None
        self._last_final = self._last_final.model_copy(
            update={
                "checks_passed": report.passed,
                "findings": report.findings,
                "media": report.media,
            }
        )
        self._save_with_next_record(self._last_final)
        if not report.passed:
            await self._enter(S.AWAITING_FINAL, due_at=self._phase_due())
            blocking = [f.message for f in report.findings if f.severity == "block"]
            await self._notify_creator(
                "final_checks_failed",
                "Your final files need fixes",
                sentences(blocking) or "Fix what the checks found and upload the files again.",
            )
            return
        self._done.add("final_delivery")
        await self._hand_off()  # the approval reaches the campaign before the completion
        await self._enter(S.COMPLETED)
        await self._tell_campaign("completed")
        await self._notify_brand("delivered", "Final files delivered", "The delivery is complete.")
        await self._notify_creator(
            "final_accepted", "Your delivery is complete", "The final files passed the checks."
        )

    async def _approve_script(self, *, auto: bool, notes: str) -> None:
        self._review_due_at = None
        if self._last_script is not None:
            self._last_script = self._last_script.model_copy(
                update={"review": "auto_approved" if auto else "approved", "review_notes": notes}
            )
            self._save_with_next_record(self._last_script)
        self._done.add("submit_script")
        # The creator's clock stood still while the brand read the script.
        await self._enter(S.AWAITING_DRAFT, due_at=self._phase_due() if self._due_at else None)
        body = "Film and upload your draft."
        await self._notify_creator(
            "script_approved",
            "Your script was approved" + (" (review window passed)" if auto else ""),
            f"{body} Notes from the brand: {notes}" if notes else body,
        )
        if auto:
            await self._notify_brand(
                "script_auto_approved",
                "A script was approved automatically",
                "The review window passed without a decision.",
            )

    async def _ask_script_changes(self, notes: str) -> None:
        self._review_due_at = None
        if self._last_script is not None:
            self._last_script = self._last_script.model_copy(
                update={"review": "revision_requested", "review_notes": notes}
            )
            self._save_with_next_record(self._last_script)
        await self._enter(S.AWAITING_SCRIPT, due_at=self._phase_due())
        await self._notify_creator(
            "script_changes_requested", "The brand asked for changes to your script", notes
        )

    async def _approve(self, *, auto: bool) -> None:
        self._approved_at = workflow.now()
        # Approvals recorded before hand-offs were deferred started them inline, in this order.
        deferred = workflow.patched("hand-offs-after-approval")
        if not deferred and workflow.patched("payout-at-approval"):
            await self._start_payout()
        self._review_due_at = None
        self._extra_pending = False
        if self._last_draft is not None:
            self._last_draft = self._last_draft.model_copy(
                update={"review": "auto_approved" if auto else "approved"}
            )
            self._save_with_next_record(self._last_draft)
        if deferred:
            # The review answers now; the payout, the license, the campaign's record and the
            # notifications follow in the main loop. The hand-offs name them already.
            self._approval = _Approval(draft=self._last_draft, auto=auto)
            if self._last_draft is not None:
                self._license_id = workflow.uuid4()
            self._payout_started = True
        elif workflow.patched("license-at-approval") and self._last_draft is not None:
            self._license_id = workflow.uuid4()
            await self._grant_license(self._last_draft)
        await self._enter(
            S.AWAITING_FINAL,
            due_at=add_business_days(workflow.now(), self._start.reminders.phase_business_days),
        )
        if not deferred:
            await self._tell_campaign("approved")
            await self._notify_approved(auto=auto)

    async def _notify_approved(self, *, auto: bool) -> None:
        await self._notify_creator(
            "approved",
            "Your draft was approved" + (" (review window passed)" if auto else ""),
            "Deliver the final files to complete the delivery.",
        )
        if auto:
            await self._notify_brand(
                "auto_approved",
                "A draft was approved automatically",
                "The review window passed without a decision.",
            )

    async def _hand_off(self) -> None:
        """Start what follows an approval: the payout, the license, the campaign's record of
        it and the notifications. Runs once, before anything that could come after it."""
        approval, self._approval = self._approval, None
        if approval is None:
            return
        if workflow.patched("hand-offs-together"):
            # Independent of each other: their commands leave in one workflow task (with the
            # review's answer), and come back together instead of one round trip each. The
            # notices follow: a local activity would hold that workflow task, and the answer.
            steps = [self._start_payout(), self._tell_campaign("approved")]
            if approval.draft is not None:
                steps.append(self._grant_license(approval.draft))
            await asyncio.gather(*steps)
            await self._notify_approved(auto=approval.auto)
            return
        await self._start_payout()
        if approval.draft is not None:
            await self._grant_license(approval.draft)
        await self._tell_campaign("approved")
        await self._notify_approved(auto=approval.auto)

    async def _grant_license(self, draft: SubmissionRecord) -> None:
        """Hand the approved draft to its LicenseWorkflow, which outlives this delivery."""
        start = self._start
        assert self._license_id is not None
        grant = LicenseGrant(
            license_id=self._license_id,
            workspace_id=start.workspace_id,
            brand_id=start.brand_id,
            creator_id=start.creator_id,
            creator_user_id=start.creator_user_id,
            campaign_id=start.campaign_id,
            delivery_id=start.delivery_id,
            asset_id=draft.id,
            asset_key=draft.media_key,
            terms=LicenseTerms.from_brief(
                start.terms.usage_rights,
                starts_at=workflow.now(),
                currency=start.currency,
                consent=self._perpetual_consent,
            ),
        )
        await workflow.start_child_workflow(
            LicenseWorkflow.run,
            grant,
            id=license_workflow_id(self._license_id),
            parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=self._parties(),
        )

    async def _start_payout(self) -> None:
        """The creator's fee is owed from now on: a payout of its own, outliving this process."""
        start = self._start
        await workflow.start_child_workflow(
            PayoutWorkflow.run,
            PayoutRequest(
                payout_id=str(start.delivery_id),
                workspace_id=start.workspace_id,
                campaign_id=start.campaign_id,
                creator_id=start.creator_id,
                creator_user_id=start.creator_user_id,
                amount_minor=start.price_minor,
                currency=start.currency,
                reason="delivery",
                source_id=str(start.delivery_id),
            ),
            id=payout_workflow_id(start.delivery_id),
            parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=self._parties(),
        )
        self._payout_started = True

    def _parties(self) -> TypedSearchAttributes:
        """How ops find the processes that take over after approval."""
        start = self._start
        return TypedSearchAttributes(
            [
                SearchAttributePair(sa.CAMPAIGN_ID, str(start.campaign_id)),
                SearchAttributePair(sa.BRAND_ID, str(start.brand_id)),
                SearchAttributePair(sa.WORKSPACE_ID, str(start.workspace_id)),
                SearchAttributePair(sa.CREATOR_ID, str(start.creator_id)),
                SearchAttributePair(sa.DELIVERY_ID, str(start.delivery_id)),
            ]
        )

    async def _tell_campaign(self, outcome: Literal["approved", "completed", "reassigned"]) -> None:
        parent = workflow.get_external_workflow_handle(f"campaign-{self._start.campaign_id}")
        try:
            await parent.signal(
                "delivery_outcome",
                DeliveryOutcome(delivery_id=self._start.delivery_id, outcome=outcome),
            )
        except FailureError:
            workflow.logger.info("campaign closed before delivery outcome %s", outcome)

    # -- read model and notifications -----------------------------------------------------

    def _handoffs(self) -> dict[str, str]:
        # The processes that took over after approval (pending until each has started).
        if self._approved_at is None:
            return {}
        licensing = license_workflow_id(self._license_id) if self._license_id else "pending"
        payout = payout_workflow_id(self._start.delivery_id) if self._payout_started else "pending"
        return {"licensing": licensing, "payout": payout}

    async def _record(self) -> None:
        await workflow.execute_local_activity_method(
            DeliveryActivities.record,
            DeliveryRecord(
                start=self._start,
                stage=self._stage,
                due_at=self._due_at,
                review_due_at=self._review_due_at,
                late=self._late,
                revisions_used=self._revisions_used,
                approved_at=self._approved_at,
                handoffs=self._handoffs(),
                submissions=self._unsaved_submissions,
            ),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        self._unsaved_submissions = []

    def _new_submission(
        self,
        kind: Literal["script", "draft", "final"],
        *,
        media_key: str | None = None,
        text: str = "",
    ) -> SubmissionRecord:
        self._submissions += 1
        return SubmissionRecord(
            id=workflow.uuid4(),
            delivery_id=self._start.delivery_id,
            number=self._submissions,
            kind=kind,
            media_key=media_key,
            text=text,
            submitted_at=workflow.now(),
        )

    def _save_with_next_record(self, record: SubmissionRecord) -> None:
        # Every step that changes a submission also changes the delivery: one write for both.
        self._unsaved_submissions.append(record)

    def _event_key(self, kind: str) -> str:
        self._events += 1
        return f"{workflow.info().workflow_id}:{self._events}:{kind}"

    def _link(self) -> str:
        return f"/deliveries/{self._start.delivery_id}"

    async def _notify_creator(self, kind: str, title: str, body: str) -> None:
        await notify.send(
            Notify(
                event_key=self._event_key(kind),
                kind=kind,
                title=title,
                body=body,
                link=self._link(),
                user_ids=[self._start.creator_user_id],
            )
        )

    async def _notify_brand(self, kind: str, title: str, body: str) -> None:
        await notify.send(
            Notify(
                event_key=self._event_key(kind),
                kind=kind,
                title=title,
                body=body,
                link=self._link(),
                workspace_id=self._start.workspace_id,
                roles=notify.BRAND_ROLES,
            )
        )

    # -- queries --------------------------------------------------------------------------

    def _tasks(self) -> list[Task]:
        terms = self._start.terms
        keys: list[TaskKey] = ["accept_brief"]
        if terms.ships_product:
            keys.append("confirm_product")
        if terms.script_required:
            keys.append("submit_script")
        keys.append("upload_draft")
        # The step whose upload is being checked: handed in, waiting for its outcome.
        checked = TASK_OF_STAGE.get(self._stage_before_check) if self._stage == S.CHECKING else None
        if self._stage == S.FIXING or "fix_issues" in self._done or checked == "fix_issues":
            keys.append("fix_issues")
        if (
            self._stage == S.REVISING
            or "address_revisions" in self._done
            or checked == "address_revisions"
        ):
            keys.append("address_revisions")
        keys.append("final_delivery")
        current = TASK_OF_STAGE.get(self._stage) if self._stage not in TERMINAL else None
        tasks = []
        for key in keys:
            if key in self._done:
                status = "done"
            elif key == current:
                status = "current"
            elif (
                key == checked
                or (self._stage in (S.CHECKING, S.IN_REVIEW) and key == "final_delivery")
                or (self._stage == S.SCRIPT_REVIEW and key == "submit_script")  # the brand reads it
            ):
                status = "waiting"
            else:
                status = "upcoming"
            due = self._due_at if key == current else None
            tasks.append(Task(key=key, title=TASK_TITLES[key], status=status, due_at=due))
        return tasks

    @workflow.query
    def status(self) -> DeliveryStatus:
        current = TASK_OF_STAGE.get(self._stage) if self._stage not in TERMINAL else None
        return DeliveryStatus(
            delivery_id=self._start.delivery_id,
            stage=self._stage,
            tasks=self._tasks(),
            next_task=current,
            due_at=self._due_at,
            late=self._late,
            review_due_at=self._review_due_at,
            revisions_used=self._revisions_used,
            revision_cap=self._start.terms.revision_rounds + self._extra_granted,
            extra_revision_pending=self._extra_pending,
            extra_revision_notes=self._extra_notes if self._extra_pending else "",
            findings=self._findings,
            last_review_notes=self._notes,
            cancel_reason=self._cancel_reason,
            license_id=self._license_id,
        )

    # -- creator updates ------------------------------------------------------------------

    def _require_creator(self, act: CreatorAct, *stages: DeliveryStage) -> None:
        if act.creator_id != self._start.creator_id:
            raise _reject("this delivery belongs to another creator")
        if self._stage not in stages:
            raise _reject(f"not possible while the delivery is {delivery_state(self._stage)}")

    @workflow.update
    @one_at_a_time
    async def accept_brief(self, act: BriefAcceptance) -> DeliveryStatus:
        self._perpetual_consent = act.accept_perpetual_rights
        self._done.add("accept_brief")
        await self._advance_from_brief()
        return self.status()

    @accept_brief.validator
    def _check_accept_brief(self, act: BriefAcceptance) -> None:
        self._require_creator(act, S.AWAITING_BRIEF_ACCEPTANCE)
        if self._start.terms.usage_rights.perpetual and not act.accept_perpetual_rights:
            raise _reject(
                "the brief asks for perpetual usage rights: accept them explicitly "
                "(accept_perpetual_rights: true) or decline the brief"
            )

    @workflow.update
    @one_at_a_time
    async def confirm_product(self, act: CreatorAct) -> DeliveryStatus:
        self._done.add("confirm_product")
        await self._advance_from_brief()
        return self.status()

    @confirm_product.validator
    def _check_confirm_product(self, act: CreatorAct) -> None:
        self._require_creator(act, S.AWAITING_PRODUCT)

    @workflow.update
    @one_at_a_time
    async def submit_script(self, script: SubmitScript) -> DeliveryStatus:
        submission = self._new_submission("script", text=script.text)
        self._save_with_next_record(submission)
        # Scripts sent before the brand reviewed them went straight on to the draft.
        if workflow.patched("script-review"):
            self._last_script = submission
            now = workflow.now()
            self._review_started_at = now
            self._review_due_at = add_business_days(now, self._start.terms.review_window_days)
            await self._enter(S.SCRIPT_REVIEW)
            await self._notify_brand(
                "script_submitted",
                "A script is waiting for your review",
                f"Approve it or ask for changes. {script.text[:200]}",
            )
            self._wake = True
            return self.status()
        self._done.add("submit_script")
        await self._advance_from_brief()
        await self._notify_brand(
            "script_submitted", "A creator submitted a script", script.text[:200]
        )
        return self.status()

    @submit_script.validator
    def _check_submit_script(self, script: SubmitScript) -> None:
        self._require_creator(script, S.AWAITING_SCRIPT)

    @workflow.update
    @one_at_a_time
    async def submit_draft(self, draft: SubmitDraft) -> DeliveryStatus:
        self._stage_before_check = self._stage
        self._last_draft = self._new_submission(
            "draft", media_key=draft.media_key, text=draft.caption
        )
        self._save_with_next_record(self._last_draft)
        # Drafts before this patch got the caption checks only.
        media_key = draft.media_key if workflow.patched("drafts-through-moderation") else None
        return await self._send_to_checks(
            self._check_request(self._last_draft.id, draft.caption, media_key)
        )

    @submit_draft.validator
    def _check_submit_draft(self, draft: SubmitDraft) -> None:
        self._require_creator(draft, *DRAFT_STAGES)
        if self._late:
            raise _reject("the deadline passed; ask the brand to extend it before uploading")

    @workflow.update
    @one_at_a_time
    async def submit_final(self, final: SubmitFinal) -> DeliveryStatus:
        # Final files delivered before they were checked completed the delivery at once.
        if workflow.patched("final-through-moderation"):
            return await self._check_final(final)
        self._save_with_next_record(self._new_submission("final", media_key=final.media_key))
        self._done.add("final_delivery")
        await self._hand_off()  # the approval reaches the campaign before the completion
        await self._enter(S.COMPLETED)
        await self._tell_campaign("completed")
        await self._notify_brand("delivered", "Final files delivered", "The delivery is complete.")
        self._wake = True
        return self.status()

    async def _check_final(self, final: SubmitFinal) -> DeliveryStatus:
        """The final files go through the checks a draft went through, with the approved
        draft's caption (the one the brand approved to be posted with them)."""
        self._stage_before_check = S.AWAITING_FINAL
        self._last_final = self._new_submission("final", media_key=final.media_key)
        self._save_with_next_record(self._last_final)
        caption = self._last_draft.text if self._last_draft else ""
        return await self._send_to_checks(
            self._check_request(self._last_final.id, caption, final.media_key)
        )

    def _check_request(
        self, submission_id: uuid.UUID, caption: str, media_key: str | None
    ) -> CheckRequest:
        """What the checks are asked about a submission: its caption against the terms, and
        with `media_key` the file as well (the video, or the photo)."""
        terms = self._start.terms
        check = CheckRequest(
            delivery_id=self._start.delivery_id,
            submission_id=submission_id,
            caption=caption,
            disclosure_required=terms.disclosure_required,
            mandatory_mentions=terms.mandatory_mentions,
            markets=terms.markets,
            platform=terms.platform,
            language=terms.language,
        )
        if media_key is None:
            return check
        aspect = ASPECT_OF_FORMAT.get(self._start.format)
        # Photos sent before photos were moderated got the caption checks only.
        if aspect is None and not workflow.patched("photos-through-moderation"):
            return check
        return check.model_copy(
            update={
                "media_key": media_key,
                "media_kind": "video" if aspect else "photo",
                "brand": terms.brand_name,
                "banned_words": terms.banned_claims,
                "aspect_ratio": aspect,
                "max_duration_s": self._start.duration_s if aspect else None,
                "sensitivity": terms.brand_safety_sensitivity,
            }
        )

    async def _send_to_checks(self, check: CheckRequest) -> DeliveryStatus:
        """Hand a submission to the checks: the delivery waits in CHECKING for their answer."""
        self._pending_check = check
        self._findings = []
        await self._enter(S.CHECKING)
        self._wake = True
        return self.status()

    @submit_final.validator
    def _check_submit_final(self, final: SubmitFinal) -> None:
        self._require_creator(final, S.AWAITING_FINAL)

    @workflow.update
    @one_at_a_time
    async def answer_extra_revision(self, answer: ExtraRevisionAnswer) -> DeliveryStatus:
        self._extra_pending = False
        if answer.accept:
            self._extra_granted += 1
            # The notes the brand sent with its request are the revision's notes.
            self._notes = self._extra_notes or self._notes
            await self._start_revision()
        else:
            await self._notify_brand(
                "extra_revision_declined",
                "The creator declined an extra revision",
                "Approve the draft, or it is approved when the review window ends.",
            )
        self._wake = True
        return self.status()

    @answer_extra_revision.validator
    def _check_answer_extra_revision(self, answer: ExtraRevisionAnswer) -> None:
        if answer.creator_id == self._start.creator_id and not self._extra_pending:
            raise _reject("no extra revision request waits for your answer")
        self._require_creator(answer, S.IN_REVIEW)

    # -- brand updates --------------------------------------------------------------------

    @workflow.update
    @one_at_a_time
    async def review(self, review: Review) -> DeliveryStatus:
        self._notes = review.notes
        if review.decision == "approve":
            await self._approve(auto=False)
        else:
            await self._start_revision()
        self._wake = True
        return self.status()

    @review.validator
    def _check_review(self, review: Review) -> None:
        if self._stage != S.IN_REVIEW:
            raise _reject(
                f"there is no draft in review (the delivery is {delivery_state(self._stage)})"
            )
        if review.decision == "revise":
            if not review.notes.strip():
                raise _reject("a revision request needs notes for the creator")
            cap = self._start.terms.revision_rounds + self._extra_granted
            if self._revisions_used >= cap:
                raise _reject(
                    f"all {cap} revision rounds are used; request an extra revision, which "
                    "needs the creator's consent"
                )

    @workflow.update
    @one_at_a_time
    async def review_script(self, review: Review) -> DeliveryStatus:
        """The brand approves the script (the creator films the draft next) or asks for
        changes, with notes (the creator sends the script again)."""
        notes = review.notes.strip()
        if review.decision == "approve":
            await self._approve_script(auto=False, notes=notes)
        else:
            await self._ask_script_changes(notes)
        self._wake = True
        return self.status()

    @review_script.validator
    def _check_review_script(self, review: Review) -> None:
        if self._stage != S.SCRIPT_REVIEW:
            raise _reject(
                f"there is no script in review (the delivery is {delivery_state(self._stage)})"
            )
        if review.decision == "revise" and not review.notes.strip():
            raise _reject("asking for changes to a script needs notes for the creator")

    async def _start_revision(self) -> None:
        if self._last_draft is not None:
            self._last_draft = self._last_draft.model_copy(
                update={"review": "revision_requested", "review_notes": self._notes}
            )
            self._save_with_next_record(self._last_draft)
        self._revisions_used += 1
        self._review_due_at = None
        await self._enter(S.REVISING, due_at=self._phase_due())
        await self._notify_creator(
            "revision_requested", "The brand asked for a revision", self._notes
        )

    @workflow.update
    @one_at_a_time
    async def request_extra_revision(self, request: ExtraRevisionRequest) -> DeliveryStatus:
        self._extra_pending = True
        self._extra_notes = request.notes
        await self._notify_creator(
            "extra_revision_requested",
            "The brand asks for an extra revision round",
            f"Your brief's revision rounds are used; accept or decline. Notes: {request.notes}",
        )
        return self.status()

    @request_extra_revision.validator
    def _check_request_extra_revision(self, request: ExtraRevisionRequest) -> None:
        if self._stage != S.IN_REVIEW:
            raise _reject("there is no draft in review")
        if self._revisions_used < self._start.terms.revision_rounds + self._extra_granted:
            raise _reject("revision rounds are still available; request a revision")
        if self._extra_pending:
            raise _reject("an extra revision is already waiting for the creator")

    @workflow.update
    @one_at_a_time
    async def extend_deadline(self, extension: ExtendDeadline) -> DeliveryStatus:
        await self._enter(self._stage, due_at=extension.due_at)
        await self._notify_creator(
            "deadline_extended",
            "Your deadline was extended",
            f"New deadline {extension.due_at:%Y-%m-%d %H:%M} UTC.",
        )
        self._wake = True
        return self.status()

    @extend_deadline.validator
    def _check_extend_deadline(self, extension: ExtendDeadline) -> None:
        if self._stage not in CREATOR_STAGES:
            raise _reject(
                f"no creator deadline while the delivery is {delivery_state(self._stage)}"
            )
        if extension.due_at <= workflow.now():
            raise _reject("the new deadline must be in the future")

    @workflow.update
    @one_at_a_time
    async def reassign(self, request: Reassign) -> DeliveryStatus:
        self._cancel_reason = request.reason
        await self._enter(S.REASSIGNED)
        await self._tell_campaign("reassigned")
        await self._notify_creator(
            "reassigned", "The brand reassigned this delivery", request.reason
        )
        self._wake = True
        return self.status()

    @reassign.validator
    def _check_reassign(self, request: Reassign) -> None:
        if not self._late or self._stage not in CREATOR_STAGES - {S.AWAITING_FINAL}:
            raise _reject("only a late delivery that is not approved can be reassigned")

    # -- campaign signal ------------------------------------------------------------------

    @workflow.signal
    async def campaign_cancelled(self, reason: str) -> None:
        async with self._lock:
            await self._stop_for_campaign(reason)

    async def _stop_for_safety(self) -> None:
        """A child-safety match: the upload is gone and ops have it; the delivery ends here
        and its slot reopens for the brand."""
        self._cancel_reason = "The draft was blocked and referred to the safety team."
        await self._enter(S.CANCELLED)
        await self._tell_campaign("reassigned")
        await self._notify_creator("draft_blocked", "Your draft was blocked", self._cancel_reason)
        await self._notify_brand("draft_blocked", "A draft was blocked", self._cancel_reason)
        self._wake = True

    async def _stop_for_campaign(self, reason: str) -> None:
        # Approved work is bought: it still completes; everything else stops.
        if self._stage in TERMINAL or self._approved_at is not None:
            return
        self._cancel_reason = reason
        self._pending_check = None
        await self._enter(S.CANCELLED)
        await self._notify_creator("campaign_cancelled", "The campaign was cancelled", reason)
        self._wake = True
