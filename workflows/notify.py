"""Notifications from inside a workflow: one local-activity call shared by the processes."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from workflows.contracts.notifications import Notify
    from workflows.options import DB_RETRY, DB_TIMEOUT

BRAND_ROLES = ["brand_admin", "brand_member"]


async def send(notify: Notify) -> None:
    await workflow.execute_local_activity_method(
        NotificationActivities.notify,
        notify,
        start_to_close_timeout=DB_TIMEOUT,
        retry_policy=DB_RETRY,
    )
