"""Media reaches browsers from the platform's origin only as what its bytes prove it is: a
creator's HTML or SVG, whatever it is named or declared as, is never a page there (it would
run with the brand's session), and no media answer can run script."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import close_app, create_app
from integrations.storage import ObjectStore, store_from_settings
from integrations.storage.minio import S3Store
from models.db import session_scope
from models.deliveries import Submission
from nexus.settings import Settings
from tests.api.test_portal import sign_in
from tests.e2e.support import GOOD_CAPTION, ok
from tests.e2e.test_bad_input import accepted_delivery, delivery_in
from tests.integrations.test_storage import s3_settings
from tests.support import login, make_creator, make_delivered_asset, make_tenant

PUBLIC_URL = "http://nexus.test"
# What a creator would send to take over the brand's workspace from its own origin.
ATTACK = b"<html><script>fetch('/portal/team/invitations',{method:'POST'})</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 100
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 100
VTT = b"WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n"
REPORT = b'{"decision": "pass"}'


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The portal's upload target is on the origin its pages come from: the test client's.
    api = settings.api.model_copy(update={"public_url": PUBLIC_URL})
    return settings.model_copy(update={"api": api})


def assert_inert(response: httpx.Response) -> None:
    """No media answer can be a page that runs: the browser keeps the type it is given, and
    a document opened from it is sandboxed without script."""
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"


def assert_download(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert_inert(response)
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")


async def test_a_creators_html_draft_never_reaches_the_brand_as_a_page(
    http: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    s = await accepted_delivery(http, engine)
    ok(await http.post(f"/deliveries/{s.delivery_id}/brief-acceptance", headers=s.c))
    declared = {"filename": "draft.html", "content_type": "video/mp4", "size_bytes": len(ATTACK)}
    ticket = ok(await http.post("/uploads", json=declared, headers=s.c), 201)
    assert ticket["key"].endswith("/draft.mp4")

    # A key of the creator's choosing, in its own upload folder: never issued, so refused.
    forged = ticket["key"].rsplit("/", 1)[0] + "/draft.html"
    html = {**s.c, "Content-Type": "text/html"}
    sent = await http.put(f"/uploads/content/{forged}", content=ATTACK, headers=html)
    assert sent.status_code == 404
    assert store_from_settings(settings.storage).list_keys(forged) == []
    drafts = f"/deliveries/{s.delivery_id}/drafts"
    named = await http.post(
        drafts, json={"media_key": forged, "caption": GOOD_CAPTION}, headers=s.c
    )
    assert named.status_code == 422

    # Under the issued key the bytes are taken (their size is as declared) and submitted;
    # the checks find no video in them.
    ok(await http.put(ticket["urls"][0], content=ATTACK, headers=s.c), 201)
    body = {"media_key": ticket["key"], "caption": GOOD_CAPTION}
    ok(await http.post(drafts, json=body, headers=s.c))
    delivery = await delivery_in(http, s.c, s.delivery_id, "fixing")
    [draft] = delivery["submissions"]
    assert draft["checks_passed"] is False

    # The brand's API link: the refused draft offers nothing to play.
    assert draft["media"] == {}
    api_link = f"/deliveries/{s.delivery_id}/submissions/{draft['id']}/media/video"
    assert (await http.get(api_link, headers=s.b)).status_code == 404
    # The brand's portal link (the review page's player): a download, never a page.
    await sign_in(http, s.brand)
    review = await http.get(f"/portal/deliveries/{s.delivery_id}")
    portal_link = f"/portal/media/{s.delivery_id}/{draft['id']}"
    assert f'src="{portal_link}"' in review.text
    served = await http.get(portal_link)
    assert_download(served)
    assert served.content == ATTACK


def put(store: ObjectStore, tmp_path: Path, key: str, content: bytes, content_type: str) -> None:
    source = tmp_path / uuid.uuid4().hex
    source.write_bytes(content)
    store.put_file(key, source, content_type)


async def test_checked_parts_are_inline_only_as_the_type_their_bytes_prove(
    http: httpx.AsyncClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    store = store_from_settings(settings.storage)
    brand, creator = make_tenant(engine), make_creator(engine)
    headers = await login(http, brand)

    async def draft(passed: bool, parts: dict[str, bytes]) -> str:
        asset = make_delivered_asset(engine, brand, creator)
        names = {"master_key": "master.mp4", "thumbnail_key": "thumb.jpg",
                 "captions_vtt_key": "captions.vtt", "report_key": "report.json"}  # fmt: skip
        keys = {field: f"media/{asset.asset_id}/{names[field]}" for field in parts}
        for field, content in parts.items():
            put(store, tmp_path, keys[field], content, "video/mp4")
        with session_scope(engine) as session:
            row = session.get(Submission, asset.asset_id)
            assert row is not None
            row.checks_passed, row.media = passed, keys
            session.add(row)
        return f"/deliveries/{asset.delivery_id}/submissions/{asset.asset_id}/media"

    real = {"master_key": MP4, "thumbnail_key": JPEG, "captions_vtt_key": VTT,
            "report_key": REPORT}  # fmt: skip
    passed = await draft(True, real)
    inline = {"video": "video/mp4", "thumbnail": "image/jpeg", "captions": "text/vtt",
              "report": "application/json"}  # fmt: skip
    for part, content_type in inline.items():
        served = await http.get(f"{passed}/{part}", headers=headers)
        assert served.status_code == 200
        assert_inert(served)
        assert served.headers["content-type"].split(";")[0] == content_type
        assert served.headers["content-disposition"] == "inline"
    seek = await http.get(f"{passed}/video", headers={**headers, "Range": "bytes=0-9"})
    assert (seek.status_code, seek.content) == (206, MP4[:10])

    # Named and stored as video and image, but HTML and SVG: downloads, never pages.
    posing = await draft(True, {"master_key": ATTACK, "thumbnail_key": SVG, "report_key": SVG})
    for part, content in (("video", ATTACK), ("thumbnail", SVG), ("report", SVG)):
        served = await http.get(f"{posing}/{part}", headers=headers)
        assert_download(served)
        assert served.content == content
    # A draft the checks refused is never shown inline, however sound its files.
    refused = await draft(False, real)
    for part in ("video", "thumbnail", "captions", "report"):
        assert_download(await http.get(f"{refused}/{part}", headers=headers))


async def test_svg_under_an_mp4_ticket_is_only_a_download_in_the_portal(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand, creator = make_tenant(engine), make_creator(engine)
    asset = make_delivered_asset(engine, brand, creator)
    c = await login(http, creator.tenant)
    declared = {"filename": "x.svg", "content_type": "video/mp4", "size_bytes": len(SVG)}
    ticket = ok(await http.post("/uploads", json=declared, headers=c), 201)
    assert ticket["key"].endswith("/x.mp4")
    ok(await http.put(ticket["urls"][0], content=SVG, headers=c), 201)
    with session_scope(engine) as session:
        row = session.get(Submission, asset.asset_id)
        assert row is not None
        row.media_key = ticket["key"]  # before the checks: the raw upload is all there is
        session.add(row)
    for signed_in in (brand, creator.tenant):
        await sign_in(http, signed_in)
        served = await http.get(f"/portal/media/{asset.delivery_id}/{asset.asset_id}")
        assert_download(served)
        assert served.content == SVG


@pytest.fixture
async def s3_http(
    settings: Settings, engine: Engine, client: Client, nanio: str
) -> AsyncIterator[tuple[httpx.AsyncClient, ObjectStore]]:
    storage = s3_settings(nanio)
    store = store_from_settings(storage)
    assert isinstance(store, S3Store)
    store.ensure_bucket()
    app = create_app(
        settings.model_copy(update={"storage": storage}), engine=engine, temporal=client
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
        yield http, store
    await close_app(app)


async def test_presigned_media_urls_make_the_bucket_answer_as_the_platform_decided(
    s3_http: tuple[httpx.AsyncClient, ObjectStore], engine: Engine, tmp_path: Path
) -> None:
    http, store = s3_http
    brand, creator = make_tenant(engine), make_creator(engine)
    headers = await login(http, brand)
    asset = make_delivered_asset(engine, brand, creator)
    keys = {"master_key": f"media/{asset.asset_id}/master.mp4",
            "thumbnail_key": f"media/{asset.asset_id}/thumb.jpg"}  # fmt: skip
    put(store, tmp_path, keys["master_key"], MP4, "video/mp4")
    put(store, tmp_path, keys["thumbnail_key"], SVG, "image/jpeg")
    with session_scope(engine) as session:
        row = session.get(Submission, asset.asset_id)
        assert row is not None
        row.checks_passed, row.media = True, keys
        session.add(row)
    path = f"/deliveries/{asset.delivery_id}/submissions/{asset.asset_id}/media"
    expected = {
        "video": ("video/mp4", "inline"),
        "thumbnail": ("application/octet-stream", 'attachment; filename="thumb.jpg"'),
    }
    for part, (content_type, disposition) in expected.items():
        redirect = await http.get(f"{path}/{part}", headers=headers)
        assert redirect.status_code == 307
        assert_inert(redirect)
        location = redirect.headers["location"]
        query = parse_qs(urlsplit(location).query)
        assert query["response-content-type"] == [content_type]
        assert query["response-content-disposition"] == [disposition]
        async with httpx.AsyncClient() as bucket:
            assert (await bucket.get(location)).status_code == 200
