"""Uploads: through the API into the embedded filesystem store, or straight to S3 (nanio)
with presigned URLs, multipart for big files; keys stay inside the caller's workspace."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from domain.enums import Role
from integrations.storage import store_from_settings
from integrations.storage.minio import S3Store
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
    assert ticket["key"].endswith("/My-Draft-final-.mp4")

    put = await http.put(ticket["urls"][0], content=b"\x00" * 5000, headers=headers)
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
        assert (await direct.put(ticket["urls"][0], content=b"abc")).status_code == 200
    assert store.stat(ticket["key"]).size == 3


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
        for number, url in enumerate(ticket["urls"], start=1):
            chunk = payload[(number - 1) * ticket["part_bytes"] : number * ticket["part_bytes"]]
            response = await direct.put(url, content=chunk)
            assert response.status_code == 200
            # As a browser reads it: the header's value, quotes included.
            parts.append({"number": number, "etag": response.headers["etag"]})
    done = await http.post(
        "/uploads/complete",
        json={"key": ticket["key"], "upload_id": ticket["upload_id"], "parts": parts},
        headers=headers,
    )
    assert done.status_code == 200, done.text
    assert done.json()["size_bytes"] == size
    assert store.stat(ticket["key"]).size == size
