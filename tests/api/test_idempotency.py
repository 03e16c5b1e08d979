"""`Idempotency-Key` on the mutating API: a retry gets the first outcome and changes nothing
more; concurrent duplicates make one change; a key is bound to its request and its caller."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, text

from api.app import close_app, create_app
from domain.enums import Role
from models import idempotency
from models.db import session_scope
from nexus.settings import Settings
from tests.e2e.support import ok, until
from tests.support import (
    Tenant,
    campaign_body,
    count_rows,
    free_port,
    fund,
    login,
    make_creator,
    make_delivered_asset,
    make_tenant,
)

PROBLEM = "application/problem+json"
REPLAYED = "idempotent-replayed"
GLOW = b'{"name": "Glow"}'
KEY_BODY = {"scopes": ["campaigns:read"]}


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    return body


async def new_campaign(http: httpx.AsyncClient, headers: dict[str, str], brand: Tenant) -> str:
    body = campaign_body(brand.brand_id)
    body["brief"]["application_deadline"] = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    created = ok(await http.post("/campaigns", headers=headers, json=body), 201)
    return str(created["id"])


async def test_a_retried_funding_gets_the_first_answer_and_moves_money_once(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    headers = await login(http, brand)
    campaign_id = await new_campaign(http, headers, brand)
    path, body = f"/campaigns/{campaign_id}/fundings", {"method": "bank_transfer"}

    first = await http.post(path, json=body, headers=headers | {"Idempotency-Key": "fund-1"})
    retried = await http.post(path, json=body, headers=headers | {"Idempotency-Key": "fund-1"})

    assert first.status_code == retried.status_code == 201, retried.text
    assert retried.json() == first.json()
    assert retried.headers[REPLAYED] == "true"
    assert REPLAYED not in first.headers
    assert count_rows(engine, "fundings") == 1
    # Without the key the same request really runs again, and is refused: one funding is open.
    assert_problem(await http.post(path, json=body, headers=headers), 409, "conflict")

    ops = await login(http, make_tenant(engine, Role.OPS)) | {"Idempotency-Key": "arrived"}
    confirm = f"/ops/fundings/{first.json()['id']}/confirm"
    confirmed = [await http.post(confirm, headers=ops) for _ in range(2)]

    assert [c.status_code for c in confirmed] == [200, 200]
    assert confirmed[0].json() == confirmed[1].json()
    assert confirmed[0].json()["status"] == "succeeded"
    assert confirmed[1].headers[REPLAYED] == "true"
    assert count_rows(engine, "ledger_entries") == 1


async def test_a_retried_delivery_step_gets_the_first_answer_and_moves_the_delivery_once(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand, creator = make_tenant(engine), make_creator(engine)
    b, c = await login(http, brand), await login(http, creator.tenant)
    campaign_id = await new_campaign(http, b, brand)
    await fund(http, engine, b, campaign_id)
    campaign = ok(await http.post(f"/campaigns/{campaign_id}/publish", headers=b))
    application = ok(
        await http.post(
            f"/marketplace/campaigns/{campaign_id}/applications",
            json={"deliverable_id": campaign["deliverables"][0]["id"], "pitch": "Me",
                  "price_minor": 90_000},
            headers=c,
        ),
        201,
    )  # fmt: skip
    decided = ok(
        await http.post(
            f"/campaigns/{campaign_id}/applications/{application['id']}/decision",
            json={"action": "accept"},
            headers=b,
        )
    )
    delivery = f"/deliveries/{decided['delivery_id']}"

    async def awaiting_brief() -> bool:
        response = await http.get(delivery, headers=c)  # 404 until the delivery is recorded
        return (
            response.status_code == 200 and response.json()["stage"] == "awaiting_brief_acceptance"
        )

    await until(awaiting_brief)
    step, key = f"{delivery}/brief-acceptance", {"Idempotency-Key": "accept-brief"}

    first = await http.post(step, headers=c | key)
    retried = await http.post(step, headers=c | key)

    assert first.status_code == retried.status_code == 200, retried.text
    assert retried.json() == first.json()
    assert first.json()["stage"] != "awaiting_brief_acceptance"
    assert retried.headers[REPLAYED] == "true"
    # The step itself is not repeatable: run again without the key, it is refused.
    assert_problem(await http.post(step, headers=c), 409, "conflict")


async def test_concurrent_duplicates_make_one_change(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    headers = await login(http, brand) | {"Idempotency-Key": "new-key"}

    responses = await asyncio.gather(
        *(
            http.post("/api-keys", json=KEY_BODY | {"name": "Shop sync"}, headers=headers)
            for _ in range(2)
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([201, 201], [201, 409]), [r.text for r in responses]
    created = [r for r in responses if r.status_code == 201]
    assert len({r.json()["key"] for r in created}) == 1
    for refused in (r for r in responses if r.status_code == 409):
        body = assert_problem(refused, 409, "idempotency-key-in-use")
        assert "Idempotency-Key" in body["detail"]
        assert refused.headers["retry-after"] == "1"
    assert count_rows(engine, "api_keys") == 1


async def test_a_retry_while_the_first_request_runs_is_told_to_wait(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    headers = await login(http, brand) | {"Idempotency-Key": "slow"}
    with session_scope(engine) as session:
        claimed = idempotency.claim(session, _first_request(brand, "slow", "/brands"))
    assert isinstance(claimed, idempotency.Claimed)

    response = await http.post(
        "/brands", content=GLOW, headers=headers | {"Content-Type": "application/json"}
    )

    assert_problem(response, 409, "idempotency-key-in-use")
    assert count_rows(engine, "brands") == 1


def _first_request(brand: Tenant, key: str, path: str) -> idempotency.Request:
    return idempotency.Request(
        workspace_id=brand.workspace_id,
        actor_id=brand.user_id,
        key_hash=hashlib.sha256(key.encode()).hexdigest(),
        method="POST",
        path=path,
        request_hash=hashlib.sha256(GLOW).hexdigest(),
    )


async def test_the_same_key_with_another_request_is_refused(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    headers = await login(http, brand) | {"Idempotency-Key": "brand-1"}
    ok(await http.post("/brands", json={"name": "Glow"}, headers=headers), 201)

    other_body = await http.post("/brands", json={"name": "Shine"}, headers=headers)
    other_path = await http.post("/api-keys", json=KEY_BODY | {"name": "Glow"}, headers=headers)

    for refused in (other_body, other_path):
        body = assert_problem(refused, 422, "idempotency-key-reused")
        assert body["errors"] == [
            {"field": "header.idempotency-key", "reason": "used for a different request"}
        ]
    assert count_rows(engine, "brands") == 2  # the tenant's own and "Glow"
    assert count_rows(engine, "api_keys") == 0


async def test_without_a_key_every_request_runs(http: httpx.AsyncClient, engine: Engine) -> None:
    brand = make_tenant(engine)
    headers = await login(http, brand)

    responses = [await http.post("/brands", json={"name": "Glow"}, headers=headers) for _ in "ab"]

    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].json()["id"] != responses[1].json()["id"]
    assert all(REPLAYED not in r.headers for r in responses)
    assert count_rows(engine, "brands") == 3


async def test_keys_belong_to_their_caller_and_expire_after_a_day(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand, other = make_tenant(engine), make_tenant(engine)
    mine = await login(http, brand) | {"Idempotency-Key": "k"}
    theirs = await login(http, other) | {"Idempotency-Key": "k"}

    a = ok(await http.post("/brands", json={"name": "Glow"}, headers=mine), 201)
    b = ok(await http.post("/brands", json={"name": "Glow"}, headers=theirs), 201)
    assert a["id"] != b["id"]

    with engine.begin() as conn:
        conn.execute(
            text("UPDATE idempotency_keys SET expires_at = :at"),
            {"at": datetime.now(UTC) - timedelta(seconds=1)},
        )
    later = await http.post("/brands", json={"name": "Glow"}, headers=mine)

    assert later.status_code == 201 and REPLAYED not in later.headers
    assert later.json()["id"] != a["id"]
    assert count_rows(engine, "brands") == 5


async def test_a_refusal_is_kept_and_given_again(http: httpx.AsyncClient, engine: Engine) -> None:
    brand = make_tenant(engine)
    headers = await login(http, brand) | {"Idempotency-Key": "missing"}
    path = f"/campaigns/{uuid.uuid4()}/fundings"

    first = await http.post(path, json={"method": "bank_transfer"}, headers=headers)
    again = await http.post(path, json={"method": "bank_transfer"}, headers=headers)

    assert_problem(first, 404, "not-found")
    assert_problem(again, 404, "not-found")
    assert again.headers[REPLAYED] == "true"


async def test_kept_answers_are_unreadable_in_the_database(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    headers = await login(http, brand) | {"Idempotency-Key": "secret-bearing"}
    created = ok(
        await http.post("/api-keys", json=KEY_BODY | {"name": "Shop"}, headers=headers), 201
    )

    with engine.connect() as conn:
        stored = conn.execute(text("SELECT key_hash, response_body FROM idempotency_keys")).one()

    assert created["key"].encode() not in stored.response_body
    assert b"Shop" not in stored.response_body
    assert "secret-bearing" not in stored.key_hash
    replay = await http.post("/api-keys", json=KEY_BODY | {"name": "Shop"}, headers=headers)
    assert replay.json() == created


async def test_a_malformed_key_is_refused(http: httpx.AsyncClient, engine: Engine) -> None:
    brand = make_tenant(engine)
    headers = await login(http, brand)

    for key in (b"k" * 201, b"", b"tab\there", "caf\u00e9".encode()):
        malformed = httpx.Headers(headers)
        malformed["Idempotency-Key"] = key.decode("latin-1")
        response = await http.post("/brands", json={"name": "Glow"}, headers=malformed)

        body = assert_problem(response, 422, "validation-failed")
        assert [e["field"] for e in body["errors"]] == ["header.idempotency-key"], key
    assert count_rows(engine, "brands") == 1


async def test_the_openapi_document_offers_the_header_on_mutating_operations(
    http: httpx.AsyncClient,
) -> None:
    paths = ok(await http.get("/openapi.json"))["paths"]

    def header_names(path: str, method: str) -> list[str]:
        operation = paths[path][method]
        return [p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"]

    for path, method in [
        ("/campaigns/{campaign_id}/fundings", "post"),
        ("/deliveries/{delivery_id}/brief-acceptance", "post"),
        ("/deliveries/{delivery_id}/review", "post"),
        ("/api-keys/{key_id}", "delete"),
        ("/creator/profile", "put"),
        ("/campaigns", "post"),
    ]:
        assert header_names(path, method).count("idempotency-key") == 1, (path, method)
    assert "409" in paths["/campaigns/{campaign_id}/fundings"]["post"]["responses"]
    assert "idempotency-key" not in header_names("/campaigns/{campaign_id}/fundings", "get")
    assert "idempotency-key" not in header_names("/auth/login", "post")


async def test_a_server_error_is_not_kept_so_the_retry_runs(
    settings: Settings, engine: Engine
) -> None:
    brand = make_tenant(engine)
    delivered = make_delivered_asset(engine, brand, make_creator(engine))
    # Nothing listens there: the route answers 503 without reaching the workflow engine.
    unreachable = settings.model_copy(
        update={
            "temporal": settings.temporal.model_copy(update={"address": f"127.0.0.1:{free_port()}"})
        }
    )
    app = create_app(unreachable, engine=engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as http:
        headers = await login(http, brand) | {"Idempotency-Key": "publish"}
        path = f"/campaigns/{delivered.campaign_id}/publish"
        answers = [await http.post(path, headers=headers) for _ in range(2)]
    await close_app(app)

    for answer in answers:
        assert_problem(answer, 503, "service-unavailable")
        assert REPLAYED not in answer.headers
    assert count_rows(engine, "idempotency_keys") == 0
