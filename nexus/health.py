"""Health of every platform component, for `nexus check` and `nexus up --check`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
import psycopg
from sqlalchemy.engine import make_url
from temporalio.client import Client

from nexus.settings import Settings
from nexus.temporal import connect
from workflows.health import HealthCheckWorkflow
from workflows.task_queues import cpu_queue

COMPONENTS = ("postgres", "temporal", "api", "workers")


@dataclass(frozen=True)
class ComponentHealth:
    name: str
    ok: bool
    detail: str


def libpq_dsn(sqlalchemy_url: str) -> str:
    """The same URL without SQLAlchemy's driver suffix, for psycopg."""
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


async def _postgres(settings: Settings) -> str:
    dsn = libpq_dsn(settings.database.url.get_secret_value())
    conn = await psycopg.AsyncConnection.connect(dsn, connect_timeout=3)
    async with conn:
        row = await (await conn.execute("SHOW server_version")).fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


async def _temporal_client(settings: Settings) -> Client:
    return await asyncio.wait_for(connect(settings.temporal), timeout=5)


async def _temporal(settings: Settings) -> str:
    client = await _temporal_client(settings)
    if not await client.service_client.check_health(timeout=timedelta(seconds=3)):
        raise RuntimeError("not serving")
    return f"{settings.temporal.address} namespace {settings.temporal.namespace}"


async def _api(settings: Settings) -> str:
    async with httpx.AsyncClient(base_url=settings.api.public_url, timeout=5) as http:
        response = await http.get("/readyz")
    if response.status_code != 200:
        raise RuntimeError(f"/readyz answered {response.status_code}: {response.text[:200]}")
    return settings.api.public_url


async def _workers(settings: Settings) -> str:
    client = await _temporal_client(settings)
    health = await client.execute_workflow(
        HealthCheckWorkflow.run,
        id=f"health-{uuid.uuid4()}",
        task_queue=cpu_queue(settings.temporal.task_queue),
        execution_timeout=timedelta(seconds=15),
    )
    return f"cpu pid {health.cpu.pid}; gpu pid {health.gpu.pid} on {health.gpu.device}"


_CHECKS: dict[str, Callable[[Settings], Awaitable[str]]] = {
    "postgres": _postgres,
    "temporal": _temporal,
    "api": _api,
    "workers": _workers,
}


async def check(settings: Settings, names: tuple[str, ...] = COMPONENTS) -> list[ComponentHealth]:
    async def one(name: str) -> ComponentHealth:
        try:
            return ComponentHealth(name, True, await _CHECKS[name](settings))
        except Exception as exc:
            return ComponentHealth(name, False, f"{type(exc).__name__}: {exc}".strip())

    return list(await asyncio.gather(*(one(n) for n in names)))
