"""AutomatedChecksWorkflow (`checks-<submission id>`): every check a submitted draft goes
through before the brand sees it."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.checks.activities import caption_check
    from workflows.contracts.delivery import CheckReport, CheckRequest
    from workflows.options import DB_RETRY


def workflow_id(submission_id: object) -> str:
    return f"checks-{submission_id}"


@workflow.defn
class AutomatedChecksWorkflow:
    @workflow.run
    async def run(self, request: CheckRequest) -> CheckReport:
        return await workflow.execute_activity(
            caption_check,
            request,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
        )
