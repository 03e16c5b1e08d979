"""A draft's caption is held to the disclosure rules of the brief's target markets and posting
platform: the delivery process carries them from the brief to its checks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from tests.api.delivery_support import started_delivery
from tests.e2e.support import ok, until, upload
from tests.media import sponsored_clip

# A clear disclosure in the US; in the UK the ASA wants "Ad" or "#ad" up front.
CAPTION = "Sponsored by Glow: my morning routine with Glow serum 30 ml"


@pytest.mark.parametrize(("market", "findings"), [("GB", ["caption_disclosure_insufficient"]),
                                                  ("US", [])])  # fmt: skip
async def test_the_briefs_market_chooses_the_disclosure_rules(
    http: httpx.AsyncClient, engine: Engine, market: str, findings: list[str]
) -> None:
    rights = {"platforms": ["tiktok"], "territories": [market]}
    s = await started_delivery(
        http, engine, country=market, target_countries=[market], usage_rights=rights
    )
    key = await upload(http, s.c, sponsored_clip())
    body = {"media_key": key, "caption": CAPTION}
    ok(await http.post(f"/deliveries/{s.delivery_id}/drafts", json=body, headers=s.c))

    async def checked() -> dict[str, Any]:
        current = await s.read(http)
        return current if current["stage"] in {"fixing", "in_review"} else {}

    found = await until(checked, timeout_s=60)
    assert [f["code"] for f in found["live"]["findings"]] == findings, found["live"]["findings"]
    assert found["stage"] == ("fixing" if findings else "in_review")
