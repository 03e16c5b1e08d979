"""A request that finds PostgreSQL down (restarting, failing over) is told to try again."""

from __future__ import annotations

import httpx
from sqlalchemy import create_engine
from temporalio.client import Client

from api.app import close_app, create_app
from nexus.settings import Settings
from tests.support import free_port


async def test_a_request_while_the_database_is_down_answers_503_with_retry_after(
    settings: Settings, client: Client
) -> None:
    nothing_there = create_engine(f"postgresql+psycopg://nexus:nexus@127.0.0.1:{free_port()}/x")
    app = create_app(settings, engine=nothing_there, temporal=client)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as http:
        answer = await http.post(
            "/auth/login", json={"email": "ada@example.com", "password": "x" * 12}
        )
    await close_app(app)
    nothing_there.dispose()

    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["type"] == "/problems/service-unavailable"
