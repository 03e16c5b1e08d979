"""A creator's profile and portfolio: editing with checked fields, finished work with its
checked media, sample links (https only, at most 20), and brands seeing only creators who
applied to or were invited to their campaigns."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from sqlalchemy import Engine

from domain.enums import DeliveryStage
from integrations.storage import store_from_settings
from models.base import utcnow
from models.db import session_scope
from models.deliveries import Delivery, Submission
from nexus.settings import Settings
from tests.support import (
    CreatorAccount,
    Tenant,
    campaign_body,
    login,
    make_creator,
    make_delivered_asset,
    make_tenant,
)


async def test_the_creator_edits_the_profile_and_bad_fields_are_named(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    creator = make_creator(engine)
    headers = await login(http, creator.tenant)
    before = (await http.get("/creator/profile", headers=headers)).json()
    assert before["id"] == str(creator.creator_id)

    bad = await http.put(
        "/creator/profile",
        json={"display_name": "", "country": "XX", "niches": ["x" * 51], "platforms": []},
        headers=headers,
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"body.display_name", "body.country", "body.niches.0"} <= fields
    assert (await http.get("/creator/profile", headers=headers)).json() == before

    body = {"display_name": " Ana Lima ", "bio": "Skincare <b>reviews</b>", "country": "br",
            "niches": ["Beauty", "skincare", "beauty"], "platforms": ["TikTok"],
            "languages": ["pt-BR", "en"]}  # fmt: skip
    saved = await http.put("/creator/profile", json=body, headers=headers)
    assert saved.status_code == 200, saved.text
    assert saved.json() | {"id": None} == {
        "id": None, "handle": before["handle"], "display_name": "Ana Lima",
        "bio": "Skincare <b>reviews</b>", "country": "BR", "niches": ["beauty", "skincare"],
        "platforms": ["tiktok"], "languages": ["pt", "en"],
    }  # fmt: skip
    brand = make_tenant(engine)
    refused = await http.get("/creator/profile", headers=await login(http, brand))
    assert refused.status_code == 403


async def test_portfolio_links_are_https_at_most_twenty_and_the_creators_own(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    creator, other = make_creator(engine), make_creator(engine)
    headers = await login(http, creator.tenant)
    for url in ("http://example.com/v", "javascript:alert(1)", "https://", "not a url"):
        bad = await http.post("/creator/portfolio/links", json={"url": url}, headers=headers)
        assert bad.status_code == 422, url
        assert bad.json()["errors"][0]["field"] == "body.url"

    added = [
        await http.post(
            "/creator/portfolio/links",
            json={"url": f"https://example.com/v/{n}", "title": f"Sample {n}"},
            headers=headers,
        )
        for n in range(20)
    ]
    assert {a.status_code for a in added} == {201}
    full = await http.post(
        "/creator/portfolio/links", json={"url": "https://example.com/21"}, headers=headers
    )
    assert full.status_code == 409
    assert full.json()["errors"][0]["field"] == "body.url"

    link_id = added[0].json()["id"]
    other_headers = await login(http, other.tenant)
    foreign = await http.delete(f"/creator/portfolio/links/{link_id}", headers=other_headers)
    assert foreign.status_code == 404
    assert (
        await http.delete(f"/creator/portfolio/links/{link_id}", headers=headers)
    ).status_code == 204
    links = (await http.get("/creator/portfolio", headers=headers)).json()["links"]
    assert len(links) == 19
    assert links[0]["url"] == "https://example.com/v/1"


def checked_work(
    engine: Engine, settings: Settings, tmp_path: Path, brand: Tenant, creator: CreatorAccount
) -> tuple[uuid.UUID, uuid.UUID]:
    """An approved delivery whose draft has a checked video and thumbnail in the store."""
    asset = make_delivered_asset(engine, brand, creator)
    store = store_from_settings(settings.storage)
    keys = {"master_key": f"media/{asset.asset_id}/master.mp4",
            "thumbnail_key": f"media/{asset.asset_id}/thumb.jpg"}  # fmt: skip
    for key in keys.values():
        source = tmp_path / key.rsplit("/", 1)[1]
        source.write_bytes(b"bytes of " + key.encode())
        store.put_file(key, source, "application/octet-stream")
    with session_scope(engine) as session:
        delivery = session.get(Delivery, asset.delivery_id)
        submission = session.get(Submission, asset.asset_id)
        assert delivery is not None and submission is not None
        delivery.approved_at = utcnow()
        submission.checks_passed, submission.media = True, keys
        session.add_all([delivery, submission])
    return asset.delivery_id, asset.asset_id


async def test_completed_work_shows_the_checked_video_not_the_final_upload_or_a_refused_draft(
    http: httpx.AsyncClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    brand, creator = make_tenant(engine), make_creator(engine)
    delivery_id, submission_id = checked_work(engine, settings, tmp_path, brand, creator)
    refused = make_delivered_asset(engine, brand, creator)
    with session_scope(engine) as session:
        # The delivery completes with its final files, which have no renditions of their own.
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        delivery.stage = DeliveryStage.COMPLETED
        session.add(delivery)
        session.add(Submission(id=uuid.uuid4(), delivery_id=delivery_id, number=2,
                               kind="final", media_key="uploads/final.mp4"))  # fmt: skip
        # Another approved delivery whose only video the checks refused: nothing to show.
        other = session.get(Delivery, refused.delivery_id)
        draft = session.get(Submission, refused.asset_id)
        assert other is not None and draft is not None
        other.approved_at = utcnow()
        draft.checks_passed, draft.media = False, {"master_key": "media/x/master.mp4"}
        session.add_all([other, draft])
    headers = await login(http, creator.tenant)
    work = (await http.get("/creator/portfolio", headers=headers)).json()["work"]
    shown = {w["delivery_id"]: w for w in work}
    assert shown[str(delivery_id)]["submission_id"] == str(submission_id)
    assert set(shown[str(delivery_id)]["media"]) == {"video", "thumbnail"}
    assert shown[str(refused.delivery_id)]["media"] == {}


async def test_finished_work_links_the_checked_video_and_thumbnail(
    http: httpx.AsyncClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    brand, creator = make_tenant(engine), make_creator(engine)
    delivery_id, submission_id = checked_work(engine, settings, tmp_path, brand, creator)
    headers = await login(http, creator.tenant)
    work = (await http.get("/creator/portfolio", headers=headers)).json()["work"]
    assert len(work) == 1
    assert work[0]["campaign_title"] == "Licensed campaign"
    base = f"/deliveries/{delivery_id}/submissions/{submission_id}/media"
    assert work[0]["media"] == {"video": f"{base}/video", "thumbnail": f"{base}/thumbnail"}
    video = await http.get(work[0]["media"]["video"], headers=headers)
    assert video.status_code == 200
    assert video.content.endswith(b"master.mp4")


async def test_brands_see_only_creators_they_work_with_and_only_their_own_videos(
    http: httpx.AsyncClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    brand, other_brand = make_tenant(engine), make_tenant(engine)
    creator, stranger = make_creator(engine), make_creator(engine)
    checked_work(engine, settings, tmp_path, other_brand, creator)
    creator_headers = await login(http, creator.tenant)
    await http.post(
        "/creator/portfolio/links",
        json={"url": "https://example.com/reel"},
        headers=creator_headers,
    )
    headers = await login(http, brand)
    assert (await http.get(f"/creators/{creator.creator_id}", headers=headers)).status_code == 404

    make_delivered_asset(engine, brand, creator)  # an application to this brand's campaign
    page = await http.get(f"/creators/{creator.creator_id}", headers=headers)
    assert page.status_code == 200, page.text
    assert page.json()["profile"]["handle"].startswith("creator")
    assert [link["url"] for link in page.json()["portfolio"]["links"]] == [
        "https://example.com/reel"
    ]
    # The other brand's approved video is not shown to this brand.
    assert page.json()["portfolio"]["work"] == []
    assert (await http.get(f"/creators/{stranger.creator_id}", headers=headers)).status_code == 404
    assert (await http.get(f"/creators/{uuid.uuid4()}", headers=headers)).status_code == 404


async def test_typed_names_and_text_refuse_control_characters_and_are_stored_nfc(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    creator = make_creator(engine)
    headers = await login(http, creator.tenant)
    before = (await http.get("/creator/profile", headers=headers)).json()
    body = {"display_name": "Ana", "bio": "", "country": "BR", "niches": [], "platforms": []}

    for field, value in [
        ("display_name", "Ana\x1b[2J"),  # a terminal escape
        ("display_name", "Ana\nLima"),  # one line only
        ("bio", "Hi\x00there"),
        ("bio", "Hi\x85there"),  # C1
        ("niches", ["beauty\x07"]),
    ]:
        bad = await http.put("/creator/profile", json=body | {field: value}, headers=headers)
        assert bad.status_code == 422, (field, value)
        assert bad.headers["content-type"] == "application/problem+json"
        [problem] = bad.json()["errors"]
        assert problem["field"].startswith(f"body.{field}")
        assert "control characters" in problem["reason"]
    assert (await http.get("/creator/profile", headers=headers)).json() == before

    link = await http.post(
        "/creator/portfolio/links",
        json={"url": "https://example.com/a", "title": "Reel\x7f"},
        headers=headers,
    )
    assert link.status_code == 422
    assert [e["field"] for e in link.json()["errors"]] == ["body.title"]

    # Decomposed "é" (e + combining accent) is stored composed; a bio keeps its line breaks.
    saved = await http.put(
        "/creator/profile",
        json=body | {"display_name": "Zoe\u0301", "bio": "Line one\r\n\tLine two"},
        headers=headers,
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["display_name"] == "Zo\u00e9"
    assert saved.json()["bio"] == "Line one\n\tLine two"


async def test_brand_names_and_campaign_titles_refuse_control_characters(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    headers = await login(http, brand)

    named = await http.post("/brands", json={"name": "Glow\x08Co"}, headers=headers)
    titled = await http.post(
        "/campaigns", json=campaign_body(brand.brand_id, title="Launch\u009b"), headers=headers
    )
    briefed = campaign_body(brand.brand_id)
    briefed["brief"]["dos"] = ["Smile\x1b"]
    brief = await http.post("/campaigns", json=briefed, headers=headers)

    assert [e["field"] for e in named.json()["errors"]] == ["body.name"]
    assert [e["field"] for e in titled.json()["errors"]] == ["body.title"]
    assert [e["field"] for e in brief.json()["errors"]] == ["body.brief.dos.0"]
    assert {named.status_code, titled.status_code, brief.status_code} == {422}
    assert len((await http.get("/brands", headers=headers)).json()) == 1
    assert (await http.get("/campaigns", headers=headers)).json()["items"] == []
