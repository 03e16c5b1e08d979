"""Calling workflows from requests: one place that turns Temporal outcomes into API errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.services import TemporalGateway
from nexus.errors import Conflict, ServiceUnavailable
from nexus.settings import ApiSettings

T = TypeVar("T")


async def execute_update(
    temporal: TemporalGateway,
    settings: ApiSettings,
    workflow_id: str,
    update: Any,
    *args: Any,
    result_type: type[T],
) -> T:
    """Run a workflow Update; a rejection by its validator becomes 409 with the reason, and
    nothing changed."""
    client = await temporal.client()
    handle = client.get_workflow_handle(workflow_id)
    try:
        result: T = await handle.execute_update(
            update,
            args=args,
            result_type=result_type,
            rpc_timeout=timedelta(seconds=settings.workflow_rpc_timeout_s),
        )
    except WorkflowUpdateFailedError as exc:
        if isinstance(exc.cause, ApplicationError):
            raise Conflict(exc.cause.message) from exc
        raise
    except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
        raise ServiceUnavailable(
            "the process did not answer in time; the step may still be applied, so check its "
            "state before repeating it"
        ) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Conflict("this process has already finished") from exc
        raise ServiceUnavailable("the workflow engine did not accept the request") from exc
    return result
