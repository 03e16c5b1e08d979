"""Long-lived handles the API shares between requests: the DB engine and the Temporal client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from models.db import read_scope, session_scope
from nexus.errors import ServiceUnavailable
from nexus.settings import TemporalSettings
from nexus.temporal import connect

P = ParamSpec("P")
T = TypeVar("T")


class Database:
    """Runs repository calls in a worker thread, each in its own unit of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def run(self, fn: Callable[..., T], /, *args: object) -> T:
        def unit_of_work() -> T:
            with session_scope(self.engine) as session:
                return fn(session, *args)

        return await run_in_threadpool(unit_of_work)

    async def read(self, fn: Callable[..., T], /, *args: object) -> T:
        """Like `run` for repository calls that only read: no transaction around them."""

        def reads() -> T:
            with read_scope(self.engine) as session:
                return fn(session, *args)

        return await run_in_threadpool(reads)


class TemporalGateway:
    """Connects lazily, so the API starts (and /readyz reports) while Temporal is down."""

    def __init__(
        self, settings: TemporalSettings, client: Client | None = None, *, tracing: bool = False
    ) -> None:
        self._settings = settings
        self._client = client
        self._tracing = tracing
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await asyncio.wait_for(
                        connect(self._settings, tracing=self._tracing), timeout=5
                    )
                except (RuntimeError, TimeoutError) as exc:
                    raise ServiceUnavailable("the workflow engine is not reachable") from exc
            return self._client


__all__ = ["Database", "Session", "TemporalGateway"]
