"""Engine and session factory. Activities and API requests open their own sessions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlmodel import Session

import models.tables  # noqa: F401 - every table in the metadata before the first flush
from nexus.settings import DatabaseSettings

# A connection back in the pool for less than this was alive a moment ago: checking it out
# again skips the ping, which under load would cost a round trip on every request.
IDLE_PING_AFTER_S = 1.0


def make_engine(settings: DatabaseSettings, *, pre_ping: bool = True) -> Engine:
    engine = create_engine(
        settings.url.get_secret_value(),
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
    )
    if pre_ping:
        _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """Pessimistic disconnect handling for connections that sat idle: a server restarted
    meanwhile is noticed at checkout and the pool opens a fresh connection instead of failing
    the request. A disconnect found later still invalidates the whole pool."""

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(
        dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
    ) -> None:
        idle_since = record.info.get("checked_in_at")
        if idle_since is not None and time.monotonic() - idle_since < IDLE_PING_AFTER_S:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            # End the transaction the ping opened, so the checkout can still choose autocommit.
            dbapi_connection.rollback()
        except Exception as error:
            # The pool discards this connection and checks out (or opens) another.
            raise exc.DisconnectionError() from error


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """Reads only: each statement runs on its own (autocommit), so a read costs one round trip
    instead of three (BEGIN, the statement, COMMIT). Never for writes: nothing commits them
    together."""
    reader = engine.execution_options(isolation_level="AUTOCOMMIT")
    with Session(reader, expire_on_commit=False, autoflush=False) as session:
        yield session


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
