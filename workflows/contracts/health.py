"""Contracts of the health-check process that proves both worker pools answer."""

from __future__ import annotations

from pydantic import BaseModel


class WorkerProbe(BaseModel):
    pool: str
    host: str
    pid: int
    device: str


class PoolsHealth(BaseModel):
    cpu: WorkerProbe
    gpu: WorkerProbe
