"""HashListSyncWorkflow: brings the child-safety hash list synced from ThreatExchange up to
date. A Temporal Schedule runs it every `NEXUS_MODERATION__THREATEXCHANGE__EVERY_S` while a
privacy group is configured; a failed run leaves the last list in place and shows in the
Temporal UI, and the next run tries again."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.common import RetryPolicy
from temporalio.service import RPCError, RPCStatusCode

from workflows.schedules import ensure_interval_schedule

with workflow.unsafe.imports_passed_through():
    from activities.moderation.hash_lists import HashListActivities
    from nexus.settings import ThreatExchangeSettings
    from workflows.contracts.hash_lists import HashListSynced

SCHEDULE_ID = "child-safety-hash-list-sync"


@workflow.defn
class HashListSyncWorkflow:
    @workflow.run
    async def run(self) -> HashListSynced:
        return await workflow.execute_activity_method(
            HashListActivities.sync_threatexchange,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(minutes=2)),
        )


async def ensure_hash_list_schedule(
    client: Client, task_queue: str, settings: ThreatExchangeSettings
) -> None:
    """The sync's schedule while a privacy group is configured; none once it is not."""
    if settings.configured:
        action = ScheduleActionStartWorkflow(
            HashListSyncWorkflow.run, id=SCHEDULE_ID, task_queue=task_queue
        )
        await ensure_interval_schedule(
            client, SCHEDULE_ID, action, timedelta(seconds=settings.every_s)
        )
        return
    try:
        await client.get_schedule_handle(SCHEDULE_ID).delete()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
