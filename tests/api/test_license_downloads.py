"""The brand gets what it paid for: the approved video and, once delivered, the final files,
each downloaded beside its license certificate, from the licenses pages and the API. Only
the brand workspace holding the license (and ops) may download them, always as an
attachment through the one media serving function; the certificate names both parties and
shows the agreed fee as money."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pypdf
from sqlalchemy import Engine

from domain import rights_ledger
from domain.enums import DeliveryStage, LicenseStatus, Role
from integrations.storage import ObjectStore, store_from_settings
from models import licenses
from models.db import session_scope
from models.deliveries import Delivery, Submission
from nexus.settings import Settings
from tests.api.test_media_serving import ATTACK, JPEG, MP4, assert_download, put, s3_http
from tests.api.test_portal import sign_in
from tests.support import (
    CreatorAccount,
    DeliveredAsset,
    Tenant,
    login,
    make_creator,
    make_delivered_asset,
    make_tenant,
)
from workflows.contracts.license import LicenseEvent, LicenseSnapshot, LicenseTerms

__all__ = ["s3_http"]  # the S3-backed app of the media serving tests, as a fixture here
FINAL = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x01" * 100


@dataclass(frozen=True)
class Licensed:
    brand: Tenant
    creator: CreatorAccount
    asset: DeliveredAsset
    license_id: uuid.UUID


def licensed_video(
    engine: Engine, settings: Settings, tmp_path: Path, store: ObjectStore | None = None
) -> Licensed:
    """An approved, checked draft in the store and the license its approval granted."""
    brand, creator = make_tenant(engine), make_creator(engine)
    asset = make_delivered_asset(engine, brand, creator, price_minor=125_000)
    store = store or store_from_settings(settings.storage)
    keys = {"master_key": f"media/{asset.asset_id}/master.mp4",
            "thumbnail_key": f"media/{asset.asset_id}/thumb.jpg"}  # fmt: skip
    put(store, tmp_path, keys["master_key"], MP4, "video/mp4")
    put(store, tmp_path, keys["thumbnail_key"], JPEG, "image/jpeg")
    now = datetime.now(UTC)
    snapshot = LicenseSnapshot(
        license_id=uuid.uuid4(),
        workspace_id=brand.workspace_id,
        brand_id=brand.brand_id,
        creator_id=creator.creator_id,
        campaign_id=asset.campaign_id,
        delivery_id=asset.delivery_id,
        asset_id=asset.asset_id,
        asset_key=f"uploads/{asset.asset_id}.mp4",
        status=LicenseStatus.ACTIVE,
        version=1,
        terms=LicenseTerms(
            channels=["paid_social", "organic_social"],
            territories=["US", "DE"],
            starts_at=now,
            ends_at=now + timedelta(days=365),
            currency="USD",
        ),
    )
    signer = rights_ledger.Signer(settings.licensing.signing_seed())
    event = LicenseEvent(
        event_key=f"{snapshot.license_id}:grant", kind="grant", at=now, license=snapshot
    )
    with session_scope(engine) as session:
        row = session.get(Submission, asset.asset_id)
        delivery = session.get(Delivery, asset.delivery_id)
        assert row is not None and delivery is not None
        row.checks_passed, row.media = True, keys
        delivery.approved_at = now
        session.add_all([row, delivery])
        licenses.record_event(session, event, signer, 1000)
    return Licensed(brand, creator, asset, snapshot.license_id)


def deliver_final(
    engine: Engine,
    settings: Settings,
    tmp_path: Path,
    done: Licensed,
    *,
    passed: bool | None = True,
    content: bytes = FINAL,
    number: int = 2,
) -> None:
    """The creator's final files, as they arrived, and the delivery completed."""
    key = f"uploads/{done.brand.workspace_id}/{uuid.uuid4()}/final.mp4"
    put(store_from_settings(settings.storage), tmp_path, key, content, "video/mp4")
    with session_scope(engine) as session:
        delivery = session.get(Delivery, done.asset.delivery_id)
        assert delivery is not None
        delivery.stage = {True: DeliveryStage.COMPLETED, None: DeliveryStage.CHECKING}.get(
            passed, DeliveryStage.AWAITING_FINAL
        )
        session.add(delivery)
        session.add(
            Submission(
                id=uuid.uuid4(),
                delivery_id=done.asset.delivery_id,
                number=number,
                kind="final",
                media_key=key,
                checks_passed=passed,
            )
        )


def pdf_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


async def test_the_brand_downloads_the_video_and_the_certificate_from_its_licenses(
    http: httpx.AsyncClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    done = licensed_video(engine, settings, tmp_path)
    handle = f"creator{done.creator.email.split('-')[1].split('@')[0]}"
    await sign_in(http, done.brand)

    listing = await http.get("/portal/licenses")
    assert listing.status_code == 200
    assert "Licensed campaign" in listing.text
    assert f"(@{handle})" in listing.text
    assert "Germany, United States" in listing.text
    assert "Paid social ads, Organic social media" in listing.text
    page_link = f"/portal/licenses/{done.license_id}"
    assert f'href="{page_link}"' in listing.text
    assert f'href="{page_link}/certificate.pdf"' in listing.text

    page = await http.get(page_link)
    assert page.status_code == 200
    assert "Download video" in page.text
    assert "Download license certificate (PDF)" in page.text
    assert "Final files: not delivered yet" in page.text
    assert "$1,250.00" in page.text  # the agreed fee
    assert "Included in the price" in page.text
    assert "minor units" not in page.text and str(done.brand.brand_id) not in page.text
    # The approved video plays in the page, through the media route, with its poster.
    media = f"/portal/media/{done.asset.delivery_id}/{done.asset.asset_id}"
    assert f'src="{media}"' in page.text and f'poster="{media}/thumbnail"' in page.text

    video = await http.get(f"{page_link}/video")
    assert_download(video)
    assert video.content == MP4
    assert video.headers["content-disposition"] == (
        f'attachment; filename="licensed-campaign-{handle}-approved-video.mp4"'
    )
    assert (await http.get(f"{page_link}/final")).status_code == 404

    text = pdf_text(await http.get(f"{page_link}/certificate.pdf"))
    brand_name = f"Brand {done.brand.email.split('-')[1].split('@')[0]}"
    assert f"Licensee (brand) {brand_name}, workspace Workspace" in text
    assert f"Licensor (creator) Creator {handle.removeprefix('creator')} (@{handle})" in text
    assert "Agreed fee $1,250.00" in text
    assert "Territories Germany, United States" in text

    # From the delivery (review page, campaign page) to the license page.
    to_license = f'href="/portal/deliveries/{done.asset.delivery_id}/license"'
    assert to_license in (await http.get(f"/portal/deliveries/{done.asset.delivery_id}")).text
    assert to_license in (await http.get(f"/portal/campaigns/{done.asset.campaign_id}")).text
    via = await http.get(f"/portal/deliveries/{done.asset.delivery_id}/license")
    assert (via.status_code, via.headers["location"]) == (303, page_link)


async def test_the_creator_sees_who_holds_each_license_and_downloads_its_certificate(
    http: httpx.AsyncClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    done = licensed_video(engine, settings, tmp_path)
    brand_name = f"Brand {done.brand.email.split('-')[1].split('@')[0]}"
    await sign_in(http, done.creator.tenant)
    page = await http.get("/portal/my-licenses")
    assert page.status_code == 200
    assert "<h2>Licensed campaign</h2>" in page.text
    assert f"Licensed to <strong>{brand_name}</strong> · agreed fee $1,250.00" in page.text
    assert "Paid social ads, Organic social media in Germany, United States" in page.text
    link = f"/portal/licenses/{done.license_id}/certificate.pdf"
    assert f'href="{link}"' in page.text
    text = pdf_text(await http.get(link))
    assert f"Licensee (brand) {brand_name}" in text
    assert "License fee Included in the price" in text


async def test_final_files_download_once_delivered_and_only_if_they_passed(
    http: httpx.AsyncClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    done = licensed_video(engine, settings, tmp_path)
    deliver_final(engine, settings, tmp_path, done, passed=False)
    await sign_in(http, done.brand)
    page_link = f"/portal/licenses/{done.license_id}"
    page = await http.get(page_link)
    assert "they did not pass the automated checks" in page.text
    assert (await http.get(f"{page_link}/final")).status_code == 404

    deliver_final(engine, settings, tmp_path, done, passed=None, number=3)
    page = await http.get(page_link)
    assert "Final files: delivered and being checked" in page.text
    assert (await http.get(f"{page_link}/final")).status_code == 404

    deliver_final(engine, settings, tmp_path, done, content=ATTACK, number=4)
    page = await http.get(page_link)
    assert "Download final files" in page.text
    final = await http.get(f"{page_link}/final")
    # Whatever the bytes are (here an HTML page), a download, never a page.
    assert_download(final)
    assert final.content == ATTACK
    assert final.headers["content-disposition"].endswith('-final.mp4"')


async def test_only_the_brand_holding_the_license_and_ops_download(
    http: httpx.AsyncClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    done = licensed_video(engine, settings, tmp_path)
    deliver_final(engine, settings, tmp_path, done)
    other = licensed_video(engine, settings, tmp_path)  # another brand, another creator
    base = f"/portal/licenses/{done.license_id}"
    downloads = (base, f"{base}/video", f"{base}/final")

    for outsider in (other.brand, other.creator.tenant, done.creator.tenant):
        await sign_in(http, outsider)
        for path in (*downloads, f"/portal/deliveries/{done.asset.delivery_id}/license"):
            assert (await http.get(path)).status_code == 404, (outsider, path)
    # The creator of the license reads its certificate; the other brand and creator do not.
    assert (await http.get(f"{base}/certificate.pdf")).status_code == 200
    for outsider in (other.brand, other.creator.tenant):
        await sign_in(http, outsider)
        assert (await http.get(f"{base}/certificate.pdf")).status_code == 404

    await sign_in(http, make_tenant(engine, Role.OPS))
    assert (await http.get(base)).status_code == 200
    assert_download(await http.get(f"{base}/video"))
    assert_download(await http.get(f"{base}/final"))

    # The API answers the same way to partners' and people's tokens.
    api = f"/licenses/{done.license_id}"
    for outsider in (other.brand, other.creator.tenant, done.creator.tenant):
        headers = await login(http, outsider)
        for path in (f"{api}/downloads", f"{api}/video", f"{api}/final"):
            assert (await http.get(path, headers=headers)).status_code == 404, (outsider, path)


async def test_partners_get_the_video_final_files_and_certificate_from_the_api(
    http: httpx.AsyncClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    done = licensed_video(engine, settings, tmp_path)
    headers = await login(http, done.brand)
    api = f"/licenses/{done.license_id}"
    listed = (await http.get(f"{api}/downloads", headers=headers)).json()
    assert listed["campaign_title"] == "Licensed campaign"
    assert listed["video"]["url"] == f"{api}/video"
    assert (listed["final"], listed["final_status"]) == (None, "not_delivered")
    assert listed["certificate_pdf"] == f"{api}/certificate.pdf"
    video = await http.get(listed["video"]["url"], headers=headers)
    assert_download(video)
    assert video.content == MP4

    deliver_final(engine, settings, tmp_path, done)
    listed = (await http.get(f"{api}/downloads", headers=headers)).json()
    assert listed["final_status"] == "delivered"
    final = await http.get(listed["final"]["url"], headers=headers)
    assert_download(final)
    assert final.content == FINAL
    text = pdf_text(await http.get(listed["certificate_pdf"], headers=headers))
    assert "Agreed fee $1,250.00" in text


async def test_presigned_downloads_make_the_bucket_answer_with_an_attachment(
    s3_http: tuple[httpx.AsyncClient, ObjectStore],
    engine: Engine,
    settings: Settings,
    tmp_path: Path,
) -> None:
    http, store = s3_http
    done = licensed_video(engine, settings, tmp_path, store)
    redirect = await http.get(
        f"/licenses/{done.license_id}/video", headers=await login(http, done.brand)
    )
    assert redirect.status_code == 307
    assert redirect.headers["x-content-type-options"] == "nosniff"
    query = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert query["response-content-type"] == ["application/octet-stream"]
    [disposition] = query["response-content-disposition"]
    assert disposition.startswith('attachment; filename="licensed-campaign-creator')
    async with httpx.AsyncClient() as bucket:
        served = await bucket.get(redirect.headers["location"])
    assert (served.status_code, served.content) == (200, MP4)
