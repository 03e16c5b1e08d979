from __future__ import annotations

import asyncio

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from nexus.settings import Settings, TelemetrySettings
from tests.support import campaign_body, login, make_tenant


async def test_one_trace_links_the_request_to_its_workflow_and_activities(
    http: httpx.AsyncClient, engine: Engine, spans: InMemorySpanExporter
) -> None:
    tenant = make_tenant(engine)
    headers = await login(http, tenant)
    spans.clear()
    response = await http.post("/campaigns", json=campaign_body(tenant.brand_id), headers=headers)
    assert response.status_code == 201

    [server] = [
        s for s in spans.get_finished_spans()
        if s.kind == SpanKind.SERVER and s.name == "POST /campaigns"
    ]  # fmt: skip
    assert server.context is not None
    trace_id = server.context.trace_id

    def names_in_trace() -> set[str]:
        return {
            s.name
            for s in spans.get_finished_spans()
            if s.context is not None and s.context.trace_id == trace_id
        }

    for _ in range(50):  # workflow-side spans finish on the worker, just after the reply
        if "RunActivity:campaigns.create_record" in names_in_trace():
            break
        await asyncio.sleep(0.1)
    names = names_in_trace()
    assert "RunWorkflow:CampaignWorkflow" in names
    assert "StartActivity:campaigns.create_record" in names
    assert "RunActivity:campaigns.create_record" in names


async def test_without_an_exporter_requests_make_no_spans(
    settings: Settings, engine: Engine, client: Client, spans: InMemorySpanExporter
) -> None:
    quiet = settings.model_copy(update={"telemetry": TelemetrySettings(exporter="none")})
    app = create_app(quiet, engine=engine, temporal=client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as http:
        assert (await http.get("/healthz")).status_code == 200
    assert [s.name for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER] == []
