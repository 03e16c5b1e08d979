"""A request that fails because PostgreSQL went away, and whose key could not be given back
for the same reason, does not block the client's retry once the database is back."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from api.routers import brands
from models import idempotency
from models.brands import Brand
from tests.e2e.support import until
from tests.support import count_rows, login, make_tenant


def _database_gone() -> OperationalError:
    return OperationalError("INSERT", {}, Exception("the database system is shutting down"))


async def test_a_retry_after_an_outage_runs_instead_of_waiting_for_the_key_to_expire(
    http: httpx.AsyncClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    brand = make_tenant(engine)
    headers = await login(http, brand) | {"Idempotency-Key": "glow-during-outage"}
    real_release = idempotency.release
    releases: list[uuid.UUID] = []

    def release_while_down(session: Session, record_id: uuid.UUID) -> None:
        releases.append(record_id)
        if len(releases) == 1:
            raise _database_gone()
        real_release(session, record_id)

    def brand_while_down(**fields: Any) -> Brand:
        raise _database_gone()

    monkeypatch.setattr(idempotency, "release", release_while_down)
    monkeypatch.setattr(brands, "Brand", brand_while_down)
    failed = await http.post("/brands", json={"name": "Glow"}, headers=headers)
    assert failed.status_code == 503, failed.text
    monkeypatch.undo()  # the database is back

    async def retried() -> httpx.Response | None:
        again = await http.post("/brands", json={"name": "Glow"}, headers=headers)
        return again if again.status_code != 409 else None

    created = await until(retried, timeout_s=10)
    assert created is not None and created.status_code == 201, created
    assert count_rows(engine, "brands") == 2  # the tenant's own and "Glow", once
    assert len(releases) == 1  # given back later, by the real release
