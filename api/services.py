"""Long-lived handles the API shares between requests: the DB engine and the Temporal client."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import ParamSpec, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool
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


class Lookups:
    """The reads made on every request (the token check, a campaign's version): plain SQL on an
    async connection pool in autocommit, with no worker thread and no ORM, which cost several
    times the query itself. Opened on first use, in the event loop that serves requests."""

    def __init__(self, engine: Engine, *, size: int, timeout_s: float = 5) -> None:
        # The engine's own database, so an app built on a test's engine reads the same one.
        self._pool = AsyncConnectionPool(
            engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
            min_size=1,
            max_size=size,
            open=False,
            timeout=timeout_s,
            kwargs={"autocommit": True},
        )
        self._opened = False

    async def run(self, fn: Callable[..., Awaitable[T]], /, *args: object) -> T:
        if not self._opened:
            self._opened = True
            await self._pool.open(wait=False)
        try:
            async with self._pool.connection() as conn:
                return await fn(conn, *args)
        except psycopg.OperationalError:
            # A connection the server ended while it sat in the pool (a restart, a failover):
            # the pool drops it, and a read is safe to make once more on a fresh one.
            async with self._pool.connection() as conn:
                return await fn(conn, *args)

    async def close(self) -> None:
        if self._opened:
            await self._pool.close()


class VersionedAnswers:
    """Serialized answers kept with the version of the rows they were made from: a read whose
    version is unchanged sends the same bytes without loading or validating anything again.
    Bounded; the least recently used go first."""

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._items: OrderedDict[Hashable, tuple[str, bytes]] = OrderedDict()

    def get(self, key: Hashable, version: str) -> bytes | None:
        found = self._items.get(key)
        if found is None or found[0] != version:
            return None
        self._items.move_to_end(key)
        return found[1]

    def put(self, key: Hashable, version: str, body: bytes) -> None:
        self._items[key] = (version, body)
        self._items.move_to_end(key)
        while len(self._items) > self._limit:
            self._items.popitem(last=False)


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


__all__ = ["Database", "Lookups", "Session", "TemporalGateway", "VersionedAnswers"]
