"""A delivery under way, reached through the API as brand and creator do: for the tests of
the delivery's later steps (script review, drafts, extra revisions, final files)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine

from tests.e2e.support import GOOD_CAPTION, ok, until, upload
from tests.media import sponsored_clip
from tests.support import (
    CreatorAccount,
    Tenant,
    campaign_body,
    fund,
    login,
    make_creator,
    make_tenant,
)

Headers = dict[str, str]


@dataclass(frozen=True)
class Started:
    brand: Tenant
    creator: CreatorAccount
    b: Headers
    c: Headers
    campaign_id: str
    delivery_id: str

    async def read(self, http: httpx.AsyncClient) -> dict[str, Any]:
        return dict(ok(await http.get(f"/deliveries/{self.delivery_id}", headers=self.b)))

    async def stage(self, http: httpx.AsyncClient, expected: str, timeout_s: float = 60) -> None:
        async def reached() -> bool:
            return bool((await self.read(http))["stage"] == expected)

        await until(reached, timeout_s=timeout_s)

    async def send_draft(self, http: httpx.AsyncClient) -> None:
        """A draft that passes the checks, then in review."""
        key = await upload(http, self.c, sponsored_clip())
        body = {"media_key": key, "caption": GOOD_CAPTION}
        ok(await http.post(f"/deliveries/{self.delivery_id}/drafts", json=body, headers=self.c))
        await self.stage(http, "in_review")

    async def send_final(self, http: httpx.AsyncClient) -> None:
        key = await upload(http, self.c, sponsored_clip())
        path = f"/deliveries/{self.delivery_id}/final"
        ok(await http.post(path, json={"media_key": key}, headers=self.c))
        await self.stage(http, "completed")


async def started_delivery(
    http: httpx.AsyncClient,
    engine: Engine,
    *,
    country: str = "US",
    languages: list[str] | None = None,
    deliverable: dict[str, Any] | None = None,
    **brief: Any,
) -> Started:
    """A published, funded campaign (one slot; `brief` overrides its brief, `deliverable`
    its deliverable), a creator (in `country`, posting in `languages`) accepted for it, and
    the brief accepted: the delivery waits for the script or draft."""
    brand = make_tenant(engine)
    creator = make_creator(engine, niches=["beauty"], country=country, languages=languages)
    b, c = await login(http, brand), await login(http, creator.tenant)
    body = campaign_body(brand.brand_id)
    body["brief"] |= {"application_deadline": "2099-01-01T00:00:00Z", **brief}
    body["deliverables"][0] |= {"quantity": 1, **(deliverable or {})}
    cid = ok(await http.post("/campaigns", json=body, headers=b), 201)["id"]
    await fund(http, engine, b, cid)
    ok(await http.post(f"/campaigns/{cid}/publish", headers=b))
    [listed] = ok(await http.get("/marketplace/campaigns", headers=c))
    application = {"deliverable_id": listed["deliverables"][0]["id"], "pitch": "I love serums",
                   "price_minor": 90_000}  # fmt: skip
    ok(await http.post(f"/marketplace/campaigns/{cid}/applications", json=application,
                       headers=c), 201)  # fmt: skip
    [app] = ok(await http.get(f"/campaigns/{cid}/applications", headers=b))
    decided = await http.post(
        f"/campaigns/{cid}/applications/{app['id']}/decision", json={"action": "accept"}, headers=b
    )
    delivery_id = ok(decided)["delivery_id"]

    async def recorded() -> bool:
        return (await http.get(f"/deliveries/{delivery_id}", headers=c)).status_code == 200

    await until(recorded)
    ok(await http.post(f"/deliveries/{delivery_id}/brief-acceptance", headers=c))
    return Started(brand, creator, b, c, cid, delivery_id)
