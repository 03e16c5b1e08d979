"""Uploads: through the API into the embedded filesystem store, or straight to S3 (nanio)
with presigned URLs, multipart for big files; keys stay inside the caller's workspace, bytes
go only to keys a ticket issued, and only exactly the declared number of them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from domain.enums import Role
from integrations.storage import store_from_settings
from integrations.storage.minio import S3Store
from models.base import utcnow
from models.db import session_scope
from models.uploads import UploadTicket
from nexus.settings import Settings, StorageSettings
from tests.conftest import NANIO_ACCESS_KEY, NANIO_SECRET_KEY
from tests.support import login, make_tenant

LIMIT = 12 * 1024 * 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    media = settings.media.model_copy(update={"max_upload_bytes": LIMIT})
    return settings.model_copy(update={"media": media})


def ticket_body(size: int) -> dict[str, object]:
    return {"filename": "My Draft (final).mp4", "content_type": "video/mp4", "size_bytes": size}


async def test_a_creator_uploads_through_the_api_into_the_embedded_store(
    http: httpx.AsyncClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    creator = make_tenant(engine, Role.CREATOR)
    headers = await login(http, creator)
    response = await http.post("/uploads", json=ticket_body(5000), headers=headers)
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["direct"] is False
    assert ticket["key"].startswith(f"uploads/{creator.workspace_id}/")
    assert ticket["key"].endswith("/My-Draft-final.mp4")
    assert ticket["headers"] == {"Content-Type": "video/mp4"}

    sent = {**headers, **ticket["headers"]}
    put = await http.put(ticket["urls"][0], content=b"\x00" * 5000, headers=sent)
    assert put.status_code == 201, put.text
    assert put.json() == {"key": ticket["key"], "size_bytes": 5000}
    assert store_from_settings(settings.storage).stat(ticket["key"]).size == 5000

    # Another workspace cannot write to (or probe) this key.
    other = await login(http, make_tenant(engine, Role.CREATOR))
    assert (await http.put(ticket["urls"][0], content=b"x", headers=other)).status_code == 404


async def test_uploads_over_the_limit_are_refused(http: httpx.AsyncClient, engine: Engine) -> None:
    headers = await login(http, make_tenant(engine, Role.CREATOR))
    too_big = await http.post("/uploads", json=ticket_body(LIMIT + 1), headers=headers)
    assert too_big.status_code == 413
    ticket = (await http.post("/uploads", json=ticket_body(1000), headers=headers)).json()

    async def stream() -> AsyncIterator[bytes]:
        for _ in range(13):  # declared small, streams past the limit
            yield b"\x00" * (1024 * 1024)

    response = await http.put(ticket["urls"][0], content=stream(), headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await http.post("/uploads", json=ticket_body(0), headers=headers)).status_code == 422
    not_video = {**ticket_body(10), "content_type": "text/html"}
    assert (await http.post("/uploads", json=not_video, headers=headers)).status_code == 422


@pytest.mark.parametrize(
    ("filename", "content_type", "stored_as"),
    [
        ("draft.html", "video/mp4", "draft.mp4"),
        ("x.svg", "video/webm", "x.webm"),
        ("clip.MOV.php", "video/quicktime", "clip.MOV.mov"),
        (".html", "video/x-matroska", "html.mkv"),
        ("...", "video/x-m4v", "video.m4v"),
        ("IMG_0001.HEIC.html", "image/jpeg", "IMG_0001.HEIC.jpg"),
        ("logo.svg", "image/png", "logo.png"),
        ("...", "image/webp", "photo.webp"),
    ],
)
async def test_a_key_takes_the_extension_of_its_declared_type(
    http: httpx.AsyncClient, engine: Engine, filename: str, content_type: str, stored_as: str
) -> None:
    headers = await login(http, make_tenant(engine, Role.CREATOR))
    body = {"filename": filename, "content_type": content_type, "size_bytes": 10}
    ticket = await http.post("/uploads", json=body, headers=headers)
    assert ticket.status_code == 201, ticket.text
    assert ticket.json()["key"].rsplit("/", 1)[1] == stored_as
    for refused in ("image/svg+xml", "text/html", "video/x-msvideo", "video/mp4; x=y"):
        wrong = await http.post("/uploads", json={**body, "content_type": refused}, headers=headers)
        assert wrong.status_code == 422


async def test_bytes_go_only_to_a_key_that_was_issued_to_the_workspace(
    http: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    creator = make_tenant(engine, Role.CREATOR)
    headers = await login(http, creator)
    ticket = (await http.post("/uploads", json=ticket_body(5), headers=headers)).json()
    store = store_from_settings(settings.storage)
    # Under the creator's own prefix, but never issued: refused, nothing stored.
    made_up = ticket["key"].rsplit("/", 1)[0] + "/draft.html"
    for key in (made_up, f"uploads/{creator.workspace_id}/{uuid.uuid4()}/x.svg"):
        put = await http.put(f"/uploads/content/{key}", content=b"<svg/>", headers=headers)
        assert put.status_code == 404
        assert put.headers["content-type"].startswith("application/problem+json")
        assert store.list_keys(key) == []
    # An issued ticket past its expiry takes nothing either.
    with session_scope(engine) as session:
        row = session.get(UploadTicket, ticket["key"])
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    assert (await http.put(ticket["urls"][0], content=b"video", headers=headers)).status_code == 410
    assert store.list_keys(ticket["key"]) == []


async def test_only_the_declared_size_and_type_are_stored(
    http: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    headers = await login(http, make_tenant(engine, Role.CREATOR))
    ticket = (await http.post("/uploads", json=ticket_body(10), headers=headers)).json()
    [url] = ticket["urls"]
    store = store_from_settings(settings.storage)
    fewer = await http.put(url, content=b"x" * 9, headers=headers)
    assert fewer.status_code == 422
    assert "has 9 bytes; it declared 10" in fewer.json()["detail"]
    more = await http.put(url, content=b"x" * 11, headers=headers)
    assert more.status_code == 413
    html = await http.put(
        url, content=b"<html>x</>", headers={**headers, "Content-Type": "text/html"}
    )
    assert html.status_code == 422
    assert store.list_keys(ticket["key"]) == []
    assert (await http.put(url, content=b"x" * 10, headers=headers)).status_code == 201
    assert store.stat(ticket["key"]).size == 10


async def test_upload_urls_come_from_the_configured_public_url_not_the_host_header(
    http: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    headers = await login(http, make_tenant(engine, Role.CREATOR))
    spoofed = {**headers, "Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    ticket = (await http.post("/uploads", json=ticket_body(5), headers=spoofed)).json()
    [url] = ticket["urls"]
    assert url == f"{settings.api.public_url}/uploads/content/{ticket['key']}"
    assert "evil.example" not in url


@pytest.fixture
async def s3_api(
    settings: Settings, engine: Engine, client: Client, nanio: str
) -> AsyncIterator[tuple[httpx.AsyncClient, S3Store]]:
    storage = StorageSettings.model_validate(
        {
            "backend": "s3", "endpoint": nanio, "access_key": NANIO_ACCESS_KEY,
            "secret_key": NANIO_SECRET_KEY, "bucket": f"up-{uuid.uuid4().hex[:8]}",
            "multipart_part_bytes": 5 * 1024 * 1024,
        }
    )  # fmt: skip
    store = store_from_settings(storage)
    assert isinstance(store, S3Store)
    store.ensure_bucket()
    app = create_app(
        settings.model_copy(update={"storage": storage}), engine=engine, temporal=client
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as http:
        yield http, store


async def test_with_s3_the_bytes_go_straight_to_the_bucket(
    s3_api: tuple[httpx.AsyncClient, S3Store], engine: Engine
) -> None:
    http, store = s3_api
    headers = await login(http, make_tenant(engine, Role.CREATOR))
    ticket = (await http.post("/uploads", json=ticket_body(3), headers=headers)).json()
    assert ticket["direct"] is True
    assert ticket["upload_id"] is None
    async with httpx.AsyncClient() as direct:
        # The bucket holds the URL to the ticket: another type, or another size, is refused.
        html = {"Content-Type": "text/html"}
        assert (
            await direct.put(ticket["urls"][0], content=b"abc", headers=html)
        ).status_code == 403
        more = await direct.put(ticket["urls"][0], content=b"abcd", headers=ticket["headers"])
        assert more.status_code == 403
        sent = await direct.put(ticket["urls"][0], content=b"abc", headers=ticket["headers"])
        assert sent.status_code == 200
    assert store.stat(ticket["key"]).size == 3
    assert store.stat(ticket["key"]).content_type == "video/mp4"
    # The API's own target is not one: with S3 it takes no bytes, issued key or not.
    through_api = await http.put(
        f"/uploads/content/{ticket['key']}", content=b"abc", headers=headers
    )
    assert through_api.status_code == 404


async def test_big_files_upload_in_resumable_parts(
    s3_api: tuple[httpx.AsyncClient, S3Store], engine: Engine
) -> None:
    http, store = s3_api
    headers = await login(http, make_tenant(engine, Role.CREATOR))
    size = 5 * 1024 * 1024 + 10
    ticket = (await http.post("/uploads", json=ticket_body(size), headers=headers)).json()
    assert ticket["upload_id"]
    assert len(ticket["urls"]) == 2
    payload = b"\x01" * size
    parts = []
    async with httpx.AsyncClient(timeout=30) as direct:
        # The last part's URL takes only the rest of the declared size.
        too_long = await direct.put(ticket["urls"][1], content=b"\x01" * 11)
        assert too_long.status_code == 403
        for number, url in enumerate(ticket["urls"], start=1):
            chunk = payload[(number - 1) * ticket["part_bytes"] : number * ticket["part_bytes"]]
            response = await direct.put(url, content=chunk)
            assert response.status_code == 200
            # As a browser reads it: the header's value, quotes included.
            parts.append({"number": number, "etag": response.headers["etag"]})
    body = {"key": ticket["key"], "upload_id": ticket["upload_id"], "parts": parts}
    # Only the issued key, with the upload its ticket opened, completes.
    made_up = {**body, "key": ticket["key"].rsplit("/", 1)[0] + "/other.mp4"}
    assert (await http.post("/uploads/complete", json=made_up, headers=headers)).status_code == 404
    other_upload = {**body, "upload_id": "not-this-one"}
    refused = await http.post("/uploads/complete", json=other_upload, headers=headers)
    assert refused.status_code == 404
    done = await http.post("/uploads/complete", json=body, headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["size_bytes"] == size
    assert store.stat(ticket["key"]).size == size


async def test_a_multipart_upload_short_of_its_declared_size_is_refused_and_dropped(
    s3_api: tuple[httpx.AsyncClient, S3Store], engine: Engine
) -> None:
    http, store = s3_api
    headers = await login(http, make_tenant(engine, Role.CREATOR))
    size = 5 * 1024 * 1024 + 10
    ticket = (await http.post("/uploads", json=ticket_body(size), headers=headers)).json()
    async with httpx.AsyncClient(timeout=30) as direct:
        first = await direct.put(ticket["urls"][0], content=b"\x01" * ticket["part_bytes"])
    # Completed with the first part only: 10 bytes short.
    body = {"key": ticket["key"], "upload_id": ticket["upload_id"],
            "parts": [{"number": 1, "etag": first.headers["etag"]}]}  # fmt: skip
    short = await http.post("/uploads/complete", json=body, headers=headers)
    assert short.status_code == 422
    assert f"the upload declared {size}" in short.json()["detail"]
    assert store.list_keys(ticket["key"]) == []
