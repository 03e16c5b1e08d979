"""LedgerCheckpointWorkflow: signs a Merkle checkpoint over the rights-ledger entries that no
checkpoint covers yet. A Temporal Schedule runs it periodically, so entries are covered within
the interval even when fewer than `checkpoint_every` arrive."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client, ScheduleActionStartWorkflow

from workflows.schedules import ensure_interval_schedule

with workflow.unsafe.imports_passed_through():
    from activities.licensing.activities import LicensingActivities
    from workflows.contracts.license import CheckpointMade
    from workflows.options import DB_RETRY

SCHEDULE_ID = "rights-ledger-checkpoint"


@workflow.defn
class LedgerCheckpointWorkflow:
    @workflow.run
    async def run(self) -> CheckpointMade | None:
        return await workflow.execute_activity_method(
            LicensingActivities.checkpoint,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=DB_RETRY,
        )


async def ensure_checkpoint_schedule(client: Client, task_queue: str, every: timedelta) -> None:
    """Create the schedule, or bring an existing one to the configured interval."""
    action = ScheduleActionStartWorkflow(
        LedgerCheckpointWorkflow.run, id=SCHEDULE_ID, task_queue=task_queue
    )
    await ensure_interval_schedule(client, SCHEDULE_ID, action, every)
