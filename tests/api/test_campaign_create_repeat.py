"""A campaign accepted while its process could not record it yet (the worker was down) is
picked up by repeating the request with the same Idempotency-Key, even once its application
deadline has passed meanwhile: the repeat is not checked as a new campaign."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import close_app, create_app
from nexus.settings import Settings
from tests.support import campaign_body, login, make_tenant
from workers.cpu.main import build_worker as build_cpu_worker


async def test_repeating_a_campaign_accepted_before_its_deadline_passed_picks_it_up(
    settings: Settings, engine: Engine, client: Client
) -> None:
    impatient = settings.model_copy(
        update={"api": settings.api.model_copy(update={"workflow_rpc_timeout_s": 1})}
    )
    app = create_app(impatient, engine=engine, temporal=client)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as http:
        brand = make_tenant(engine)
        headers = await login(http, brand) | {"Idempotency-Key": "spring-launch"}
        body = campaign_body(brand.brand_id)
        deadline = datetime.now(UTC) + timedelta(seconds=2)
        body["brief"]["application_deadline"] = deadline.isoformat()

        # No worker: the campaign's process is started but cannot record it.
        accepted = await http.post("/campaigns", json=body, headers=headers)
        assert accepted.status_code == 503, accepted.text
        assert "accepted but is not recorded yet" in accepted.json()["detail"]
        await asyncio.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 0.5)

        async with build_cpu_worker(client, settings, engine):
            repeated = await http.post("/campaigns", json=body, headers=headers)
    await close_app(app)

    assert repeated.status_code == 201, repeated.text
    assert repeated.json()["id"] in accepted.json()["detail"]
