"""The creator's Profile page and a brand's page of a creator over HTTP: inline messages,
escaping, sample links, thumbnails of finished work, CSRF and scoping."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from sqlalchemy import Engine

from models.db import session_scope
from models.deliveries import Delivery
from nexus.settings import Settings
from tests.api.test_creator_profile import checked_work
from tests.api.test_portal import csrf_from, sign_in
from tests.api.test_portal_brand import error_of
from tests.support import make_creator, make_delivered_asset, make_tenant


async def test_the_creator_edits_the_profile_with_messages_next_to_the_fields(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    creator = make_creator(engine)
    await sign_in(http, creator.tenant)
    work = await http.get("/portal/work")
    assert 'href="/portal/profile"' in work.text
    page = await http.get("/portal/profile")
    assert page.status_code == 200
    csrf = csrf_from(page)
    form = {"csrf_token": csrf, "display_name": " ", "bio": "<script>x</script>",
            "country": "ZZ", "niches": "beauty", "platforms": "tiktok"}  # fmt: skip
    bad = await http.post("/portal/profile", data=form)
    assert bad.status_code == 422
    assert error_of(bad, "display_name")
    assert error_of(bad, "country").startswith("Choose a country")
    assert "&lt;script&gt;x&lt;/script&gt;" in bad.text
    assert "<script>x" not in bad.text

    form |= {"display_name": "Ana <Lima>", "country": "pt", "niches": "Food, travel"}
    saved = await http.post("/portal/profile", data=form)
    assert saved.status_code == 303
    page = await http.get(saved.headers["location"])
    assert "Profile saved." in page.text
    assert 'value="Ana &lt;Lima&gt;"' in page.text
    assert 'value="PT"' in page.text
    assert 'value="food, travel"' in page.text

    forged = await http.post("/portal/profile", data=form | {"csrf_token": "forged"})
    assert forged.status_code == 403


async def test_sample_links_are_added_checked_and_removed(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    creator = make_creator(engine)
    await sign_in(http, creator.tenant)
    csrf = csrf_from(await http.get("/portal/profile"))
    bad = await http.post(
        "/portal/profile/links", data={"csrf_token": csrf, "url": "javascript:alert(1)"}
    )
    assert bad.status_code == 422
    assert error_of(bad, "url") == "Enter an address starting with https://."
    added = await http.post(
        "/portal/profile/links",
        data={"csrf_token": csrf, "url": "https://example.com/reel", "title": "My <reel>"},
    )
    assert added.status_code == 303
    page = await http.get("/portal/profile")
    assert 'href="https://example.com/reel"' in page.text
    assert "My &lt;reel&gt;" in page.text
    removal = page.text.split('action="/portal/profile/links/')[1].split('"')[0]
    gone = await http.post(f"/portal/profile/links/{removal}", data={"csrf_token": csrf})
    assert gone.status_code == 303
    assert "https://example.com/reel" not in (await http.get("/portal/profile")).text


async def test_finished_work_shows_its_thumbnail_and_brands_see_only_their_creators(
    http: httpx.AsyncClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    brand, other_brand = make_tenant(engine), make_tenant(engine)
    creator = make_creator(engine)
    delivery_id, submission_id = checked_work(engine, settings, tmp_path, brand, creator)

    await sign_in(http, creator.tenant)
    page = await http.get("/portal/profile")
    video = f"/portal/media/{delivery_id}/{submission_id}"
    thumb = f"{video}/thumbnail"
    # A player of the checked video, the thumbnail its poster.
    assert f'<video controls preload="none" playsinline src="{video}" poster="{thumb}"' in (
        page.text
    )
    image = await http.get(thumb)
    assert image.status_code == 200
    assert image.content.endswith(b"thumb.jpg")
    played = await http.get(video)
    assert played.status_code == 200
    assert played.content.endswith(b"master.mp4")

    await sign_in(http, brand)
    campaign = await http.get(f"/portal/campaigns/{_campaign_of(engine, delivery_id)}")
    assert f'href="/portal/creators/{creator.creator_id}"' in campaign.text
    seen = await http.get(f"/portal/creators/{creator.creator_id}")
    assert seen.status_code == 200
    assert "Licensed campaign" in seen.text
    assert " · United States</p>" in seen.text  # the country by name, not its code
    assert f'poster="{thumb}"' in seen.text
    assert (await http.get(video)).status_code == 200

    await sign_in(http, other_brand)
    assert (await http.get(f"/portal/creators/{creator.creator_id}")).status_code == 404
    make_delivered_asset(engine, other_brand, creator)
    other_view = await http.get(f"/portal/creators/{creator.creator_id}")
    assert other_view.status_code == 200
    assert video not in other_view.text
    # Nor can it fetch the video of another brand's delivery by its address.
    assert (await http.get(video)).status_code == 404
    assert (await http.get(thumb)).status_code == 404


def _campaign_of(engine: Engine, delivery_id: uuid.UUID) -> str:
    with session_scope(engine) as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        return str(delivery.campaign_id)
