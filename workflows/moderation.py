"""ModerationWorkflow (`moderation-<asset id>`): ingest and check one uploaded video or photo.

probe -> the master and what the checks read (an upload that is already a browser-playable
9:16 H.264 file is copied, anything else gets the one-pass transcode) -> frame hashes (a
child-safety match quarantines the asset at once) -> speech-to-text and nudity detection on
the GPU pool (the CPU pool when no GPU worker picks them up in time) -> every check -> pass,
block, or human review (a case for ops with its deadline, the creator told; an ops Update,
with an SLA timer that escalates) -> the report, stored and returned. A copied master's HLS
ladder and contact sheet are made after the automated decision by RenditionsWorkflow
(`renditions-<asset id>`), which the moderation does not wait for. A photo takes the same
path with its own probe and conversion (its upright JPEG without metadata, a thumbnail, one
frame for the hashes, the nudity detector and on-image text) and no speech."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutType
from temporalio.exceptions import TimeoutError as ActivityTimeout
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.checks.safety import check_child_safety
    from activities.moderation.activities import MediaActivities, ModelActivities
    from domain.calendar import add_business_days
    from domain.words import duration_words, when
    from workflows import notify
    from workflows.contracts.moderation import (
        BrandSafetyRequest,
        EscalationRequest,
        EvaluateRequest,
        FrameHashes,
        LadderRequest,
        MediaAnalysis,
        MediaFinding,
        MediaInfo,
        ModerationReport,
        ModerationRequest,
        ModerationStatus,
        ProbeRequest,
        QuarantineRequest,
        Renditions,
        ReusedAnalysis,
        ReuseRequest,
        ReviewCase,
        ReviewClosed,
        ReviewDecision,
        SaveAnalysis,
        ScreenText,
        SemanticMatch,
        Stage,
        TranscodeRequest,
        Transcript,
    )
    from workflows.contracts.notifications import Notify
    from workflows.search_attributes import STAGE
    from workflows.task_queues import gpu_queue_for

A = TypeVar("A")
T = TypeVar("T")

MEDIA_RETRY = RetryPolicy(
    maximum_attempts=5,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["MediaMissing", "TranscodeFailed"],
)
QUICK = timedelta(minutes=5)
# Object-store reads and writes of small documents, and rules: seconds. A worker killed in the
# middle of one holds the moderation only this long.
SMALL = timedelta(seconds=30)
TRANSCODE = timedelta(hours=1)
MODELS = timedelta(minutes=20)
# A video held for a person is decided within this many business days: the deadline ops
# see and the creator is told.
REVIEW_BUSINESS_DAYS = 1
# What the creator reads when a file that probed well cannot be converted.
UNCONVERTIBLE = {
    "video": "We could not convert this video: it may be damaged partway through or too "
    "heavy to process. Export it again as an H.264 MP4 and re-upload.",
    "photo": "We could not convert this photo: it may be damaged. Export it again as a JPEG "
    "and re-upload.",
}


def workflow_id(asset_id: object) -> str:
    return f"moderation-{asset_id}"


def renditions_workflow_id(asset_id: object) -> str:
    return f"renditions-{asset_id}"


@workflow.defn
class ModerationWorkflow:
    def __init__(self) -> None:
        self._status: ModerationStatus | None = None
        self._review: ReviewDecision | None = None

    @workflow.run
    async def run(self, request: ModerationRequest) -> ModerationReport:
        self._status = ModerationStatus(asset_id=request.asset_id, stage="probing")
        self._set_stage("probing")
        probe = await workflow.execute_activity_method(
            MediaActivities.probe,
            ProbeRequest(
                asset_id=request.asset_id, source_key=request.source_key, kind=request.kind
            ),
            start_to_close_timeout=QUICK,
            heartbeat_timeout=timedelta(seconds=request.heartbeat_timeout_s),
            retry_policy=MEDIA_RETRY,
        )
        # Listed by its bytes (MD5): quarantined before anything decodes it. Only such a probe
        # carries matches, so histories from before replay past this unchanged.
        if probe.matches and workflow.patched("md5-match"):
            return await self._quarantine(
                request, FrameHashes(hashes=[], matches=probe.matches), probe.sha256
            )
        if probe.info is None:
            assert probe.rejection is not None
            return await self._finish(
                ModerationReport(
                    asset_id=request.asset_id,
                    decision="block",
                    reason=probe.rejection.message,
                    findings=[probe.rejection],
                )
            )

        reused: ReusedAnalysis | None = None
        if probe.sha256 is not None and workflow.patched("reuse-analysis"):
            reused = await workflow.execute_activity_method(
                MediaActivities.reuse_analysis,
                ReuseRequest(asset_id=request.asset_id, sha256=probe.sha256),
                start_to_close_timeout=SMALL,
                retry_policy=MEDIA_RETRY,
            )
        if reused is not None:
            self._set_stage("analyzing")
            analysis, hashes = reused.analysis, reused.hashes
            if hashes.matches:
                return await self._quarantine(request, hashes, probe.sha256)
        else:
            fresh = await self._analyze(request, probe.info, probe.sha256)
            if isinstance(fresh, ModerationReport):
                return fresh
            analysis, hashes = fresh
        semantic = await self._brand_safety(request, analysis.transcript)
        report = await workflow.execute_activity_method(
            MediaActivities.evaluate,
            EvaluateRequest(
                request=request,
                info=probe.info,
                renditions=analysis.renditions,
                hashes=hashes,
                transcript=analysis.transcript,
                nudity=analysis.nudity,
                screen_text=analysis.screen_text,
                semantic=semantic,
            ),
            start_to_close_timeout=SMALL,
            retry_policy=MEDIA_RETRY,
        )
        if analysis.renditions.ladder_pending and report.decision != "block":
            # Off the checks' path: the review player plays the master meanwhile.
            await workflow.start_child_workflow(
                RenditionsWorkflow.run,
                LadderRequest(
                    asset_id=request.asset_id, info=probe.info, renditions=analysis.renditions
                ),
                id=renditions_workflow_id(request.asset_id),
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        if report.decision == "review":
            report = await self._human_review(request, report)
        return await self._finish(report)

    async def _analyze(
        self, request: ModerationRequest, info: MediaInfo, sha256: str | None
    ) -> tuple[MediaAnalysis, FrameHashes] | ModerationReport:
        """Transcode, hash and run the models; a report instead when the file cannot be
        converted or matches a child-safety list."""
        self._set_stage("transcoding")
        # Assets started before an upload's own streams could be the master replay the
        # full transcode.
        convert = MediaActivities.transcode
        if request.kind == "photo":
            convert = MediaActivities.prepare_photo
        elif workflow.patched("fast-master"):
            convert = MediaActivities.prepare
        try:
            renditions = await workflow.execute_activity_method(
                convert,
                TranscodeRequest(
                    asset_id=request.asset_id, source_key=request.source_key, info=info
                ),
                start_to_close_timeout=TRANSCODE,
                heartbeat_timeout=timedelta(seconds=request.heartbeat_timeout_s),
                retry_policy=MEDIA_RETRY,
            )
        except ActivityError as exc:
            # A file that probes well but breaks (or stalls) the encoder later is the
            # creator's to fix, not a failed process.
            if not (
                isinstance(exc.cause, ApplicationError) and exc.cause.type == "TranscodeFailed"
            ):
                raise
            unusable = MediaFinding(
                check="ingest",
                code="transcode_failed",
                severity="block",
                message=UNCONVERTIBLE[request.kind],
            )
            return await self._finish(
                ModerationReport(
                    asset_id=request.asset_id,
                    decision="block",
                    reason=unusable.message,
                    findings=[unusable],
                    info=info,
                )
            )

        self._set_stage("analyzing")
        hashes: FrameHashes = await workflow.execute_activity_method(
            MediaActivities.hash_frames,
            renditions,
            start_to_close_timeout=QUICK,
            heartbeat_timeout=timedelta(seconds=request.heartbeat_timeout_s),
            retry_policy=MEDIA_RETRY,
        )
        if hashes.matches:
            return await self._quarantine(request, hashes, None)

        transcript, nudity, screen_text = await asyncio.gather(
            self._transcript(renditions, request),
            self._model(ModelActivities.detect_nudity, renditions, request),
            self._screen_text(renditions),
        )
        analysis = MediaAnalysis(
            renditions=renditions,
            hashes=hashes.hashes,
            transcript=transcript,
            nudity=nudity,
            screen_text=screen_text,
        )
        if sha256 is not None:
            await workflow.execute_activity_method(
                MediaActivities.save_analysis,
                SaveAnalysis(sha256=sha256, analysis=analysis),
                start_to_close_timeout=SMALL,
                retry_policy=MEDIA_RETRY,
            )
        return analysis, hashes

    async def _transcript(self, renditions: Renditions, request: ModerationRequest) -> Transcript:
        if request.kind == "photo":
            return Transcript(language="", segments=[], words=[])
        return await self._model(ModelActivities.transcribe, renditions, request)

    async def _screen_text(self, renditions: Renditions) -> list[ScreenText]:
        # Assets analysed before on-screen text was read replay without it.
        if not workflow.patched("screen-text"):
            return []
        return await workflow.execute_activity_method(
            MediaActivities.read_screen_text,
            renditions,
            start_to_close_timeout=MODELS,
            heartbeat_timeout=timedelta(seconds=60),
            retry_policy=MEDIA_RETRY,
        )

    async def _brand_safety(
        self, request: ModerationRequest, transcript: Transcript
    ) -> list[SemanticMatch]:
        # Assets checked before the embeddings replay without them.
        if not workflow.patched("garm-embeddings"):
            return []
        return await self._model(
            ModelActivities.garm_similarity,
            BrandSafetyRequest(words=transcript.words, caption=request.caption),
            request,
        )

    async def _model(
        self,
        method: Callable[[ModelActivities, A], T],
        argument: A,
        request: ModerationRequest,
    ) -> T:
        """Run a model activity on the GPU pool; if no GPU worker takes it in time, on the
        CPU pool, which has the same models (slower)."""
        try:
            return await workflow.execute_activity_method(
                method,
                argument,
                task_queue=gpu_queue_for(workflow.info().task_queue),
                schedule_to_start_timeout=timedelta(seconds=request.gpu_wait_s),
                start_to_close_timeout=MODELS,
                # Model work heartbeats: a worker killed in the middle of it is noticed within
                # seconds and the work retried elsewhere, instead of after MODELS.
                heartbeat_timeout=timedelta(seconds=request.heartbeat_timeout_s),
                retry_policy=MEDIA_RETRY,
            )
        except ActivityError as exc:
            cause = exc.cause
            if not (
                isinstance(cause, ActivityTimeout) and cause.type == TimeoutType.SCHEDULE_TO_START
            ):
                raise
        workflow.logger.warning("no GPU worker took the model work; running it on the CPU pool")
        return await workflow.execute_activity_method(
            method,
            argument,
            start_to_close_timeout=MODELS,
            heartbeat_timeout=timedelta(seconds=request.heartbeat_timeout_s),
            retry_policy=MEDIA_RETRY,
        )

    async def _quarantine(
        self, request: ModerationRequest, hashes: FrameHashes, sha256: str | None
    ) -> ModerationReport:
        lists = sorted({m.list_name for m in hashes.matches})
        frames = [m for m in hashes.matches if m.kind == "pdq"]
        reason = (
            f"PDQ match on {', '.join(lists)} (frames at "
            + ", ".join(f"{m.time_s:g}s d={m.distance}" for m in frames[:5])
            + ")"
            if frames
            else f"MD5 of the file on {', '.join(lists)}"
        )
        await workflow.execute_activity_method(
            MediaActivities.quarantine,
            QuarantineRequest(
                asset_id=request.asset_id,
                source_key=request.source_key,
                reason=reason,
                sha256=sha256,
            ),
            start_to_close_timeout=QUICK,
            retry_policy=MEDIA_RETRY,
        )
        assert self._status is not None
        self._status.escalated = True
        findings = check_child_safety(hashes.matches)
        # Nothing of the asset is left to point at: the report carries no renditions.
        return await self._finish(
            ModerationReport(
                asset_id=request.asset_id,
                decision="block",
                reason="Matched a child-safety hash list; referred to the safety team.",
                findings=findings,
            )
        )

    async def _human_review(
        self, request: ModerationRequest, report: ModerationReport
    ) -> ModerationReport:
        # Reviews that began before a case was recorded for ops (and the creator told)
        # replay without it. The case is recorded before ops can find the video waiting.
        recorded = workflow.patched("review-case")
        if recorded:
            assert self._status is not None
            self._status.stage = "review"  # a decision is taken from now on
            await self._open_case(request, report)
        self._set_stage("review")
        try:
            await workflow.wait_condition(
                lambda: self._review is not None,
                timeout=timedelta(seconds=request.review_sla_s),
            )
        except TimeoutError:
            assert self._status is not None
            self._status.escalated = True
            reason = f"No review decision within {request.review_sla_s} s: {report.reason}"
            if recorded:
                waited = duration_words(timedelta(seconds=request.review_sla_s))
                reason = f"No decision within {waited}. {report.reason}"
            await workflow.execute_activity_method(
                MediaActivities.escalate,
                EscalationRequest(asset_id=request.asset_id, kind="review_overdue", reason=reason),
                start_to_close_timeout=SMALL,
                retry_policy=MEDIA_RETRY,
            )
            # Escalated, never auto-decided: the asset waits for a person.
            await workflow.wait_condition(lambda: self._review is not None)
        review = self._review
        assert review is not None
        findings = report.findings
        if recorded:
            if review.decision == "block":
                # The creator reads why a person turned the draft down, with the findings.
                findings = [
                    *findings,
                    MediaFinding(
                        check="human_review",
                        code="human_review_rejected",
                        severity="block",
                        message=f"Our review team: {review.reason}",
                    ),
                ]
            await workflow.execute_activity_method(
                MediaActivities.close_review,
                ReviewClosed(
                    asset_id=request.asset_id,
                    decision=review.decision,
                    note=review.reason,
                    reviewer=review.reviewer,
                    decided_at=workflow.now(),
                ),
                start_to_close_timeout=SMALL,
                retry_policy=MEDIA_RETRY,
            )
        return report.model_copy(
            update={
                "decision": review.decision,
                "reason": f"Reviewed: {review.reason}",
                "findings": findings,
                "reviewed_by": review.reviewer,
                "decided_at": workflow.now(),
            }
        )

    async def _open_case(self, request: ModerationRequest, report: ModerationReport) -> None:
        """Record the case for ops with its deadline, and tell the creator (when the video
        is a creator's draft) that a person is reviewing it and by when."""
        assert self._status is not None
        now = workflow.now()
        due = add_business_days(now, REVIEW_BUSINESS_DAYS)
        self._status.review_due_at = due
        renditions = report.renditions
        recipient = await workflow.execute_activity_method(
            MediaActivities.open_review,
            ReviewCase(
                asset_id=request.asset_id,
                caption=request.caption,
                reason=report.reason,
                findings=report.findings,
                master_key=renditions.master_key if renditions else None,
                captions_vtt_key=report.captions_vtt_key,
                opened_at=now,
                due_at=due,
            ),
            start_to_close_timeout=SMALL,
            retry_policy=MEDIA_RETRY,
        )
        if recipient is None:
            return
        await notify.send(
            Notify(
                event_key=f"{workflow.info().workflow_id}:human-review",
                kind="draft_in_human_review",
                title="A person is reviewing your draft",
                body=f"A member of our review team is checking your draft for "
                f"{recipient.campaign_title}. You'll hear by {when(due)}.",
                link=f"/deliveries/{recipient.delivery_id}",
                user_ids=[recipient.user_id],
            )
        )

    async def _finish(self, report: ModerationReport) -> ModerationReport:
        key = await workflow.execute_activity_method(
            MediaActivities.store_report,
            report,
            start_to_close_timeout=SMALL,
            retry_policy=MEDIA_RETRY,
        )
        assert self._status is not None
        self._status.decision = report.decision
        self._set_stage("done")
        return report.model_copy(update={"report_key": key})

    def _set_stage(self, stage: Stage) -> None:
        assert self._status is not None
        self._status.stage = stage
        workflow.upsert_search_attributes([STAGE.value_set(f"moderation:{stage}")])

    @workflow.query
    def status(self) -> ModerationStatus | None:
        return self._status

    @workflow.update
    async def review(self, decision: ReviewDecision) -> ModerationStatus:
        self._review = decision
        await workflow.wait_condition(
            lambda: self._status is not None and self._status.stage == "done"
        )
        assert self._status is not None
        return self._status

    @review.validator
    def _check_review(self, decision: ReviewDecision) -> None:
        if self._status is None or self._status.stage != "review" or self._review is not None:
            raise ValueError("this video is not waiting for a review")


@workflow.defn
class RenditionsWorkflow:
    """The renditions the checks did not wait for: the HLS ladder and the contact sheet of
    a copied master, written at the keys the moderation report already names."""

    @workflow.run
    async def run(self, request: LadderRequest) -> Renditions | None:
        try:
            return await workflow.execute_activity_method(
                MediaActivities.ladder,
                request,
                start_to_close_timeout=TRANSCODE,
                heartbeat_timeout=timedelta(seconds=30),
                retry_policy=MEDIA_RETRY,
            )
        except ActivityError as exc:
            if not (
                isinstance(exc.cause, ApplicationError) and exc.cause.type == "TranscodeFailed"
            ):
                raise
            # The master it was made from is what the review plays: nothing is lost.
            workflow.logger.warning("no HLS ladder for %s: %s", request.asset_id, exc.cause)
            return None
