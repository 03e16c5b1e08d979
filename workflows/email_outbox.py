"""EmailOutboxSweepWorkflow: sends the e-mail waiting in the outbox that is due (what failed
when first sent, because the mail server was down or slow), a batch at a time, then gives up
what has kept failing for a day and tells ops. A Temporal Schedule runs it every
`notifications.outbox_sweep_s`, one run at a time."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.common import RetryPolicy

from workflows.schedules import ensure_interval_schedule

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from workflows.contracts.notifications import EmailSweep
    from workflows.options import DB_RETRY, DB_TIMEOUT

SCHEDULE_ID = "email-outbox-sweep"
# Batches per run: a longer backlog is the next run's.
MAX_BATCHES = 20
# A batch waits on the mail server for each e-mail; the next run retries a failed one. A
# batch that fails as a whole (the database restarting) is tried again for about a minute,
# so that a short outage does not fail the run.
SEND_TIMEOUT = timedelta(minutes=5)
SEND_RETRY = RetryPolicy(maximum_attempts=6, maximum_interval=timedelta(seconds=20))


@workflow.defn
class EmailOutboxSweepWorkflow:
    @workflow.run
    async def run(self) -> EmailSweep:
        swept = EmailSweep()
        for _ in range(MAX_BATCHES):
            batch = await workflow.execute_activity_method(
                NotificationActivities.send_due_email,
                start_to_close_timeout=SEND_TIMEOUT,
                retry_policy=SEND_RETRY,
            )
            swept.sent += batch.sent
            swept.failed += batch.failed
            swept.more = batch.more
            if not batch.more:
                break
        swept.given_up = await workflow.execute_activity_method(
            NotificationActivities.give_up_email,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        return swept


async def ensure_email_outbox_schedule(client: Client, task_queue: str, every: timedelta) -> None:
    """Create the sweep's schedule, or bring an existing one to this queue and interval."""
    action = ScheduleActionStartWorkflow(
        EmailOutboxSweepWorkflow.run, id=SCHEDULE_ID, task_queue=task_queue
    )
    await ensure_interval_schedule(client, SCHEDULE_ID, action, every)
