from __future__ import annotations

import httpx
from sqlalchemy import Engine, create_engine
from temporalio.client import Client

from api.app import create_app
from nexus.settings import Settings
from tests.support import free_port


async def test_healthz_and_readyz_when_everything_answers(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def _readyz(app_settings: Settings, engine: Engine, client: Client | None) -> httpx.Response:
    app = create_app(app_settings, engine=engine, temporal=client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.get("/readyz")


async def test_readyz_is_503_when_temporal_does_not_answer(
    settings: Settings, engine: Engine
) -> None:
    unreachable = settings.model_copy(
        update={
            "temporal": settings.temporal.model_copy(update={"address": f"127.0.0.1:{free_port()}"})
        }
    )
    response = await _readyz(unreachable, engine, None)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["temporal"]


async def test_readyz_is_503_when_postgres_does_not_answer(
    settings: Settings, client: Client
) -> None:
    dead = create_engine(f"postgresql+psycopg://nexus:nexus@127.0.0.1:{free_port()}/nexus")
    try:
        response = await _readyz(settings, dead, client)
    finally:
        dead.dispose()
    assert response.status_code == 503
    assert [e["field"] for e in response.json()["errors"]] == ["postgres"]


async def test_openapi_docs_are_served(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/openapi.json")).json()
    assert "/campaigns" in spec["paths"]
    assert (await http.get("/docs")).status_code == 200
