"""Activity options shared by the workflows."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.common import RetryPolicy

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])

# Read-model writes and notifications run as local activities: short, on the workflow's own
# worker, without a task round trip through the server; retried until the database answers.
DB_TIMEOUT = timedelta(seconds=30)
DB_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))


def one_at_a_time(handler: Handler) -> Handler:
    """Run an Update handler under the workflow's `_lock`, re-running its validator first.

    Validators of updates delivered in one workflow task all run before any handler, and a
    handler may await activities before its state change shows: serializing the handlers and
    checking again inside the lock keeps two concurrent steps from both passing."""

    @functools.wraps(handler)
    async def serialized(self: Any, *args: Any) -> Any:
        async with self._lock:
            validator = getattr(self, f"_check_{handler.__name__}", None)
            if validator is not None:
                validator(*args)
            return await handler(self, *args)

    return serialized  # type: ignore[return-value]
