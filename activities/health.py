"""Probes answered by each worker pool for `nexus check` and `nexus up --check`."""

from __future__ import annotations

import os
import socket

from sqlalchemy import Engine
from temporalio import activity

from models.db import ping
from workflows.contracts.health import WorkerProbe


class CpuProbe:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="health.probe_cpu")
    def probe_cpu(self) -> WorkerProbe:
        ping(self._engine)  # a CPU worker that cannot reach Postgres is not healthy
        return WorkerProbe(pool="cpu", host=socket.gethostname(), pid=os.getpid(), device="cpu")


class GpuProbe:
    def __init__(self, device: str) -> None:
        self._device = device

    @activity.defn(name="health.probe_gpu")
    async def probe_gpu(self) -> WorkerProbe:
        return WorkerProbe(
            pool="gpu", host=socket.gethostname(), pid=os.getpid(), device=self._device
        )
