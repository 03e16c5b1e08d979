"""HealthCheckWorkflow: one activity on each worker pool, so a check proves both poll."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.health import CpuProbe, GpuProbe
    from workflows.contracts.health import PoolsHealth
    from workflows.task_queues import gpu_queue_for

PROBE_TIMEOUT = timedelta(seconds=10)
NO_RETRY = RetryPolicy(maximum_attempts=1)


@workflow.defn
class HealthCheckWorkflow:
    @workflow.run
    async def run(self) -> PoolsHealth:
        cpu = await workflow.execute_activity_method(
            CpuProbe.probe_cpu,
            schedule_to_close_timeout=PROBE_TIMEOUT,
            retry_policy=NO_RETRY,
        )
        gpu = await workflow.execute_activity_method(
            GpuProbe.probe_gpu,
            task_queue=gpu_queue_for(workflow.info().task_queue),
            schedule_to_close_timeout=PROBE_TIMEOUT,
            retry_policy=NO_RETRY,
        )
        return PoolsHealth(cpu=cpu, gpu=gpu)
