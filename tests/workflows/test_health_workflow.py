from __future__ import annotations

import os
import uuid
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from nexus.settings import Settings
from workflows.health import HealthCheckWorkflow
from workflows.task_queues import cpu_queue, gpu_queue, gpu_queue_for


def test_gpu_queue_pairs_with_the_cpu_queue() -> None:
    assert gpu_queue_for(cpu_queue("nexus")) == gpu_queue("nexus") == "nexus.gpu"


async def test_health_check_reaches_both_pools(
    client: Client, settings: Settings, workers: list[Worker]
) -> None:
    health = await client.execute_workflow(
        HealthCheckWorkflow.run,
        id=f"health-{uuid.uuid4()}",
        task_queue=cpu_queue(settings.temporal.task_queue),
        execution_timeout=timedelta(seconds=30),
    )
    assert health.cpu.pool == "cpu" and health.gpu.pool == "gpu"
    assert health.cpu.pid == health.gpu.pid == os.getpid()  # both in-process in tests
    assert health.gpu.device == "cpu"


async def test_health_check_fails_when_the_gpu_pool_is_missing(
    client: Client, settings: Settings, workers: list[Worker]
) -> None:
    import pytest
    from temporalio.client import WorkflowFailureError

    gpu_worker = workers[1]
    await gpu_worker.__aexit__(None, None, None)
    workers.pop()
    with pytest.raises(WorkflowFailureError):
        await client.execute_workflow(
            HealthCheckWorkflow.run,
            id=f"health-{uuid.uuid4()}",
            task_queue=cpu_queue(settings.temporal.task_queue),
            execution_timeout=timedelta(seconds=30),
        )
