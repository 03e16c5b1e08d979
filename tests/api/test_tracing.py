from __future__ import annotations

import asyncio

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import Engine

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
