"""A funding opened by a request that died before charging it (its API process, or the
database, went away) is resumed by the brand's next request instead of blocking the
campaign's funding for good; one still being charged is not."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import Engine

from models import money
from models.base import utcnow
from models.db import session_scope
from tests.e2e.money_support import BUDGET, deal
from tests.e2e.support import ok


def _left_pending(engine: Engine, campaign_id: str, workspace_id: uuid.UUID, age: timedelta) -> str:
    with session_scope(engine) as session:
        row = money.Funding(
            campaign_id=uuid.UUID(campaign_id), workspace_id=workspace_id,
            method="bank_transfer", provider="manual", currency="USD",
            budget_minor=BUDGET, fee_minor=BUDGET // 10, status="pending",
            created_at=utcnow() - age,
        )  # fmt: skip
        money.save(session, row)
        return str(row.id)


async def test_a_funding_its_request_left_pending_is_resumed_by_the_next_request(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    d = await deal(http, engine)
    path = f"/campaigns/{d.campaign_id}/fundings"
    charging = _left_pending(engine, d.campaign_id, d.brand.workspace_id, timedelta(seconds=5))
    # Still being charged, as far as anyone can tell: the next request is refused.
    assert (await http.post(path, json={"method": "bank_transfer"}, headers=d.b)).status_code == 409

    with session_scope(engine) as session:
        row = money.get_funding(session, uuid.UUID(charging))
        assert row is not None
        row.created_at = utcnow() - money.ABANDONED_AFTER - timedelta(seconds=1)
        money.save(session, row)
    resumed = ok(await http.post(path, json={"method": "bank_transfer"}, headers=d.b), 201)
    assert (resumed["id"], resumed["status"]) == (charging, "awaiting_transfer")
    confirmed = ok(await http.post(f"/ops/fundings/{charging}/confirm", headers=d.ops))
    assert confirmed["status"] == "succeeded"
    assert [f["id"] for f in ok(await http.get(path, headers=d.b))] == [charging]
