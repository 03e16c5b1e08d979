"""Activity options shared by the workflows."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# Read-model writes and notifications run as local activities: short, on the workflow's own
# worker, without a task round trip through the server; retried until the database answers.
DB_TIMEOUT = timedelta(seconds=30)
DB_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
