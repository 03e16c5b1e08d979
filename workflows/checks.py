"""The automated checks of a submitted draft, before the brand sees it.

A draft with a video is checked by the moderation pipeline (`moderation-<submission id>`: the
submission is the asset), whose caption rules include the ones a caption-only draft gets; the
delivery runs it as its child and reads its report through `to_check_report`.
AutomatedChecksWorkflow (`checks-<submission id>`) checks a caption-only draft, and finishes
the video drafts it took before deliveries ran moderation themselves."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.checks.activities import caption_check
    from activities.checks.spoken import clock
    from domain.findings import Finding
    from workflows.contracts.delivery import CheckReport, CheckRequest, ReviewMedia
    from workflows.contracts.moderation import (
        BriefRules,
        MediaFinding,
        MediaKind,
        ModerationReport,
        ModerationRequest,
    )
    from workflows.moderation import ModerationWorkflow
    from workflows.moderation import workflow_id as moderation_workflow_id
    from workflows.options import DB_RETRY


def workflow_id(submission_id: object) -> str:
    return f"checks-{submission_id}"


@workflow.defn
class AutomatedChecksWorkflow:
    @workflow.run
    async def run(self, request: CheckRequest) -> CheckReport:
        # Requests recorded before `media_key` existed have none: they replay on this branch.
        if request.media_key is None:
            return await workflow.execute_activity(
                caption_check,
                request,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=DB_RETRY,
            )
        report = await workflow.execute_child_workflow(
            ModerationWorkflow.run,
            moderation_request(request, request.media_key),
            id=moderation_workflow_id(request.submission_id),
        )
        return to_check_report(report, request.media_kind)


def moderation_request(request: CheckRequest, media_key: str) -> ModerationRequest:
    return ModerationRequest(
        asset_id=request.submission_id,
        source_key=media_key,
        kind=request.media_kind,
        caption=request.caption,
        brief=BriefRules(
            disclosure_required=request.disclosure_required,
            brand=request.brand,
            mandatory_mentions=request.mandatory_mentions,
            banned_words=request.banned_words,
            max_duration_s=request.max_duration_s,
            aspect_ratio=request.aspect_ratio,
            sensitivity=request.sensitivity,
            markets=request.markets,
            platform=request.platform,
            language=request.language,
        ),
    )


def to_check_report(report: ModerationReport, kind: MediaKind) -> CheckReport:
    """The delivery's view: passed only when moderation passed; what a person cleared in
    review stays visible as a warning. A child-safety block is final."""
    renditions = report.renditions
    media = None
    if renditions is not None:
        media = ReviewMedia(
            master_key=renditions.master_key,
            hls_key=renditions.hls_key,
            thumbnail_key=renditions.thumbnail_keys[0] if renditions.thumbnail_keys else None,
            captions_vtt_key=report.captions_vtt_key,
            report_key=report.report_key,
            kind=kind,
        )
    return CheckReport(
        passed=report.decision == "pass",
        findings=[_finding(f, report.decision) for f in report.findings],
        media=media,
        final=report.decision == "block"
        and any(f.check == "child_safety" for f in report.findings),
    )


def _finding(found: MediaFinding, decision: str) -> Finding:
    message = found.message
    if found.start_s is not None and clock(found.start_s) not in message:
        message += f" (at {clock(found.start_s)})"
    blocking = found.severity == "block" or (found.severity == "review" and decision == "block")
    return Finding(
        code=found.code,
        severity="block" if blocking else "warn",
        message=message,
        span=found.span,
        start_s=found.start_s,
    )
