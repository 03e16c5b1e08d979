"""The core marketplace process over HTTP on the real dev server: brief -> publish -> apply
-> accept -> guided tasks -> draft -> checks -> revision -> approval -> final delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from temporalio.client import Client

from tests.e2e.support import GOOD_CAPTION, until, upload
from tests.media import sponsored_clip, video
from tests.support import campaign_body, fund, login, make_creator, make_tenant
from workflows.search_attributes import DELIVERY_ID


async def test_brief_to_approved_delivery(
    http: httpx.AsyncClient, engine: Engine, client: Client, tmp_path: Path
) -> None:
    brand = make_tenant(engine)
    creator = make_creator(engine, niches=["beauty"])
    b = await login(http, brand)
    c = await login(http, creator.tenant)
    now = datetime.now(UTC)
    body = campaign_body(brand.brand_id)
    body["brief"] |= {
        "application_deadline": (now + timedelta(seconds=4)).isoformat(),
        "delivery_deadline": (now + timedelta(days=14)).isoformat(),
        "revision_rounds": 1,
        "target_niches": ["beauty"],
    }
    body["deliverables"][0]["quantity"] = 1
    campaign = (await http.post("/campaigns", json=body, headers=b)).json()
    cid = campaign["id"]
    await fund(http, engine, b, cid)
    published = await http.post(f"/campaigns/{cid}/publish", headers=b)
    assert published.status_code == 200, published.text
    assert published.json()["stage"] == "published"

    listing = (await http.get("/marketplace/campaigns", headers=c)).json()
    assert [x["id"] for x in listing] == [cid]
    deliverable_id = listing[0]["deliverables"][0]["id"]
    applied = await http.post(
        f"/marketplace/campaigns/{cid}/applications",
        json={"deliverable_id": deliverable_id, "pitch": "I love serums", "price_minor": 90_000},
        headers=c,
    )
    assert applied.status_code == 201, applied.text
    again = await http.post(
        f"/marketplace/campaigns/{cid}/applications",
        json={"deliverable_id": deliverable_id, "pitch": "again", "price_minor": 90_000},
        headers=c,
    )
    assert again.status_code == 409

    apps = (await http.get(f"/campaigns/{cid}/applications", headers=b)).json()
    assert [a["pitch"] for a in apps] == ["I love serums"]
    accepted = await http.post(
        f"/campaigns/{cid}/applications/{apps[0]['id']}/decision",
        json={"action": "accept"},
        headers=b,
    )
    assert accepted.status_code == 200, accepted.text
    delivery_id = accepted.json()["delivery_id"]

    async def delivery() -> dict[str, Any]:
        response = await http.get(f"/deliveries/{delivery_id}", headers=c)
        return response.json() if response.status_code == 200 else {}

    d = await until(delivery)
    assert d["live"]["next_task"] == "accept_brief"
    step = await http.post(f"/deliveries/{delivery_id}/brief-acceptance", headers=c)
    assert step.json()["live"]["next_task"] == "upload_draft"

    silent = video(tmp_path / "silent.mp4", say="here is my morning routine", seconds=2)
    bad = await http.post(
        f"/deliveries/{delivery_id}/drafts",
        json={"media_key": await upload(http, c, silent), "caption": "Loving this serum #spon"},
        headers=c,
    )
    assert bad.status_code == 200

    async def stage(expected: str) -> dict[str, Any]:
        current = await delivery()
        return current if current and current["stage"] == expected else {}

    # The video went through moderation: it never says it is sponsored, nor names the
    # product, and the caption's "#spon" is not a disclosure.
    fixing = await until(lambda: stage("fixing"), timeout_s=60)
    codes = {f["code"] for f in fixing["live"]["findings"]}
    assert codes == {
        "caption_disclosure_insufficient",
        "mandatory_mention_missing",
        "spoken_disclosure_missing",
    }
    spoken = next(f for f in fixing["live"]["findings"] if f["code"] == "spoken_disclosure_missing")
    assert spoken["start_s"] == 0

    await http.post(
        f"/deliveries/{delivery_id}/drafts",
        json={"media_key": await upload(http, c, sponsored_clip()), "caption": GOOD_CAPTION},
        headers=c,
    )
    # A long poll answers once the checks are done, without the client polling.
    waited = await http.get(
        f"/deliveries/{delivery_id}", params={"while_stage": "checking", "wait_s": 60}, headers=b
    )
    assert waited.json()["stage"] == "in_review"
    in_review = await until(lambda: stage("in_review"), timeout_s=60)
    # The delivery ran the draft's moderation as its own child, found by the delivery's ID.
    checked = await client.get_workflow_handle(
        f"moderation-{in_review['submissions'][-1]['id']}"
    ).describe()
    assert checked.parent_id == f"delivery-{delivery_id}"
    assert checked.typed_search_attributes.get(DELIVERY_ID) == delivery_id
    queue = (await http.get("/deliveries?stage=in_review", headers=b)).json()
    assert [q["id"] for q in queue] == [delivery_id]

    # The brand's player gets the checked, streamable master (seekable) and its captions.
    media = in_review["submissions"][-1]["media"]
    assert set(media) == {"video", "thumbnail", "captions", "report"}
    clip = await http.get(media["video"], headers={**b, "Range": "bytes=0-99"})
    assert (clip.status_code, clip.headers["content-type"]) == (206, "video/mp4")
    assert len(clip.content) == 100
    captions = await http.get(media["captions"], headers=b)
    assert captions.text.startswith("WEBVTT")
    outsider = await login(http, make_tenant(engine))
    assert (await http.get(media["video"], headers=outsider)).status_code == 404

    revise = await http.post(
        f"/deliveries/{delivery_id}/review",
        json={"decision": "revise", "notes": "Show the texture closer"},
        headers=b,
    )
    assert revise.json()["stage"] == "revising"
    await http.post(
        f"/deliveries/{delivery_id}/drafts",
        json={"media_key": await upload(http, c, sponsored_clip()), "caption": GOOD_CAPTION},
        headers=c,
    )
    await until(lambda: stage("in_review"), timeout_s=60)
    over_cap = await http.post(
        f"/deliveries/{delivery_id}/review",
        json={"decision": "revise", "notes": "One more"},
        headers=b,
    )
    assert over_cap.status_code == 409
    assert "revision rounds are used" in over_cap.json()["detail"]

    approved = await http.post(
        f"/deliveries/{delivery_id}/review", json={"decision": "approve"}, headers=b
    )
    assert approved.json()["stage"] == "awaiting_final"
    handoffs = approved.json()["handoffs"]
    license_id = approved.json()["live"]["license_id"]
    assert handoffs == {"licensing": f"license-{license_id}", "payout": f"payout-{delivery_id}"}
    final = await http.post(
        f"/deliveries/{delivery_id}/final",
        json={"media_key": await upload(http, c, sponsored_clip())},
        headers=c,
    )
    # The final files go through the checks a draft went through, then the delivery completes.
    assert final.json()["stage"] == "checking"
    done = await until(lambda: stage("completed"), timeout_s=60)
    assert [s["title"] for s in done["submissions"]] == [
        "Draft 1", "Draft 2", "Draft 3", "Final files",
    ]  # fmt: skip
    assert done["submissions"][-1]["checks_passed"] is True
    tasks = done["live"]["tasks"]
    assert [t["key"] for t in tasks] == [
        "accept_brief", "upload_draft", "fix_issues", "address_revisions", "final_delivery",
    ]  # fmt: skip
    assert {t["status"] for t in tasks} == {"done"}

    async def campaign_stage() -> str:
        return str((await http.get(f"/campaigns/{cid}", headers=b)).json()["stage"])

    await until(lambda: _eq(campaign_stage(), "completed"))
    inbox = (await http.get("/notifications", headers=c)).json()
    assert {"delivery_started", "checks_failed", "revision_requested", "approved"} <= {
        n["kind"] for n in inbox
    }


async def _eq(value: Any, expected: str) -> bool:
    return bool(await value == expected)
