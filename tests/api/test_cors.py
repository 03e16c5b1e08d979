from __future__ import annotations

import httpx
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from nexus.settings import Settings


async def preflight(
    settings: Settings, engine: Engine, client: Client, origin: str
) -> httpx.Response:
    app = create_app(settings, engine=engine, temporal=client)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        return await http.options(
            "/campaigns",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )


async def test_configured_origins_may_call_the_api(
    settings: Settings, engine: Engine, client: Client
) -> None:
    allowed = settings.model_copy(
        update={"api": settings.api.model_copy(update={"cors_origins": ["https://portal.example"]})}
    )
    response = await preflight(allowed, engine, client, "https://portal.example")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://portal.example"

    refused = await preflight(allowed, engine, client, "https://evil.example")
    assert "access-control-allow-origin" not in refused.headers


async def test_no_cross_origin_access_by_default(
    settings: Settings, engine: Engine, client: Client
) -> None:
    response = await preflight(settings, engine, client, "https://portal.example")
    assert "access-control-allow-origin" not in response.headers
