"""The per-request reads (api.services.Lookups) and the answers kept by version: a connection
the server ended is replaced, a database that is down answers 503, and a kept answer never
outlives a change to its rows."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest
from psycopg import AsyncConnection
from sqlalchemy import Engine, create_engine
from temporalio.client import Client

from api.app import close_app, create_app
from api.services import Lookups, VersionedAnswers
from nexus.postgres import LocalPostgres
from nexus.settings import Settings
from tests.support import Tenant, campaign_body, free_port, login, make_tenant


@pytest.fixture
def owner(engine: Engine) -> Tenant:
    return make_tenant(engine)


async def _backend_pid(conn: AsyncConnection[Any]) -> int:
    row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
    assert row is not None
    return int(row[0])


async def test_a_connection_the_server_ended_is_replaced_and_the_read_answers(
    engine: Engine, postgres: LocalPostgres
) -> None:
    lookups = Lookups(engine, size=1)
    first = await lookups.run(_backend_pid)
    with psycopg.connect(postgres.admin_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))

    try:
        assert await lookups.run(_backend_pid) != first
    finally:
        await lookups.close()


def test_an_answer_is_kept_for_its_version_only_and_the_least_recently_used_go_first() -> None:
    answers = VersionedAnswers(limit=2)
    answers.put("a", "1", b"A1")
    answers.put("b", "1", b"B1")

    assert answers.get("a", "1") == b"A1"
    assert answers.get("a", "2") is None  # the rows changed since
    answers.put("c", "1", b"C1")  # "b" was used least recently
    assert (answers.get("a", "1"), answers.get("b", "1"), answers.get("c", "1")) == (
        b"A1",
        None,
        b"C1",
    )


async def test_an_unchanged_campaign_is_sent_from_the_kept_answer_and_a_change_replaces_it(
    http: httpx.AsyncClient, engine: Engine, owner: Tenant
) -> None:
    headers = await login(http, owner)
    created = await http.post("/campaigns", json=campaign_body(owner.brand_id), headers=headers)
    cid = created.json()["id"]

    first = await http.get(f"/campaigns/{cid}", headers=headers)
    again = await http.get(f"/campaigns/{cid}", headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert first.headers["content-type"] == "application/json"

    # A write made outside the API (as a workflow's activity makes it) shows on the next read.
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE briefs SET product = 'Glow serum 50 ml'")
    assert (await http.get(f"/campaigns/{cid}", headers=headers)).json()["brief"][
        "product"
    ] == "Glow serum 50 ml"


async def test_a_request_while_the_database_is_down_is_told_to_retry_and_not_kept_waiting(
    settings: Settings, client: Client, http: httpx.AsyncClient, owner: Tenant
) -> None:
    headers = await login(http, owner)
    nothing_there = create_engine(f"postgresql+psycopg://nexus:nexus@127.0.0.1:{free_port()}/x")
    app = create_app(settings, engine=nothing_there, temporal=client)
    app.state.lookups = Lookups(nothing_there, size=1, timeout_s=0.5)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as down:
        answer = await down.get(f"/campaigns/{owner.brand_id}", headers=headers)
    await close_app(app)
    nothing_there.dispose()

    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"
