"""The API's engine notices connections that died while idle in the pool (a PostgreSQL restart,
a failover) and opens fresh ones, without pinging connections that were in use a moment ago."""

from __future__ import annotations

import psycopg
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from models import db
from nexus.postgres import LocalPostgres
from nexus.settings import DatabaseSettings


def _engine(database_url: str) -> Engine:
    return db.make_engine(DatabaseSettings(url=SecretStr(database_url), pool_size=1))


def _kill_connections(postgres: LocalPostgres, database_url: str) -> None:
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.admin_dsn, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_killed_while_idle_is_replaced_at_checkout(
    postgres: LocalPostgres, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "IDLE_PING_AFTER_S", 0.0)
    engine = _engine(database_url)
    first = _backend_pid(engine)
    _kill_connections(postgres, database_url)

    assert _backend_pid(engine) != first
    engine.dispose()


def test_a_connection_in_use_a_moment_ago_is_not_pinged(
    postgres: LocalPostgres, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the idle threshold far away the dead connection is handed out unchecked: the first
    # statement fails (and invalidates the pool), which is what the ping saves idle ones from.
    monkeypatch.setattr(db, "IDLE_PING_AFTER_S", 3600.0)
    engine = _engine(database_url)
    _backend_pid(engine)
    _kill_connections(postgres, database_url)

    with pytest.raises(OperationalError):
        _backend_pid(engine)
    assert _backend_pid(engine) > 0
    engine.dispose()


def test_a_read_scope_runs_its_statements_outside_a_transaction(database_url: str) -> None:
    # Autocommit: no BEGIN before the statement and no COMMIT after it, one round trip each.
    engine = _engine(database_url)
    with db.read_scope(engine) as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1
        raw = session.connection().connection.dbapi_connection
        assert raw is not None
        assert raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with db.session_scope(engine) as session:
        session.execute(text("SELECT 1"))
        raw = session.connection().connection.dbapi_connection
        assert raw is not None
        assert raw.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    engine.dispose()
