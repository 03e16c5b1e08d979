"""The worker entrypoints as deployed: separate processes that poll their pools and drain on
SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client

from nexus.settings import Settings
from workflows.health import HealthCheckWorkflow
from workflows.task_queues import cpu_queue


async def test_worker_processes_serve_both_pools_and_drain_on_sigterm(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "NEXUS_DATABASE__URL": settings.database.url.get_secret_value(),
        "NEXUS_TEMPORAL__ADDRESS": settings.temporal.address,
        "NEXUS_TEMPORAL__TASK_QUEUE": settings.temporal.task_queue,
        "NEXUS_GPU__DEVICE": "cpu",
        # A deployed CPU worker refuses to start without the key that signs the rights ledger.
        "NEXUS_LICENSING__LEDGER_SIGNING_KEY": (
            settings.licensing.ledger_signing_key.get_secret_value()
        ),
    }
    logs = {pool: tmp_path / f"{pool}.log" for pool in ("cpu", "gpu")}
    processes = {
        pool: await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "nexus",
            "worker",
            pool,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        for pool, log in logs.items()
    }
    try:
        health = await client.execute_workflow(
            HealthCheckWorkflow.run,
            id=f"health-{uuid.uuid4()}",
            task_queue=cpu_queue(settings.temporal.task_queue),
            execution_timeout=timedelta(seconds=60),
        )
        assert health.cpu.pid == processes["cpu"].pid
        assert health.gpu.pid == processes["gpu"].pid
        assert health.gpu.device == "cpu"
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        codes = {
            pool: await asyncio.wait_for(process.wait(), 30) for pool, process in processes.items()
        }
    assert codes == {"cpu": 0, "gpu": 0}, {
        pool: log.read_text()[-2000:] for pool, log in logs.items()
    }
    for log in logs.values():
        assert "draining worker" in log.read_text()
