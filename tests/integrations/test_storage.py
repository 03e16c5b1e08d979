"""The storage port: the filesystem store, and the S3 adapter against nanio, an S3-compatible
server that checks SigV4 signatures like MinIO."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from integrations.storage import (
    InvalidKey,
    ObjectNotFound,
    ObjectStore,
    Served,
    UploadedPart,
    store_from_settings,
)
from integrations.storage.filesystem import FilesystemStore
from integrations.storage.minio import S3Store
from nexus.settings import StorageSettings
from tests.conftest import NANIO_ACCESS_KEY as ACCESS_KEY
from tests.conftest import NANIO_SECRET_KEY as SECRET_KEY


def s3_settings(endpoint: str, **overrides: object) -> StorageSettings:
    return StorageSettings.model_validate(
        {
            "backend": "s3",
            "endpoint": endpoint,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "bucket": f"media-{uuid.uuid4().hex[:8]}",
            **overrides,
        }
    )


@pytest.fixture
def s3(nanio: str) -> S3Store:
    store = store_from_settings(s3_settings(nanio))
    assert isinstance(store, S3Store)
    store.ensure_bucket()
    return store


@pytest.fixture(params=["filesystem", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "filesystem":
        return store_from_settings(StorageSettings(root=tmp_path / "objects"))
    s3: S3Store = request.getfixturevalue("s3")
    return s3


def test_both_stores_put_stat_get_list_and_delete(store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"\x00video" * 1000)
    store.put_file("uploads/a/clip.mp4", source, "video/mp4")
    store.put_file("uploads/a/thumb.jpg", source, "image/jpeg")
    store.put_file("uploads/b/clip.mp4", source, "video/mp4")

    info = store.stat("uploads/a/clip.mp4")
    assert info.size == 6000
    assert info.content_type == "video/mp4"
    assert store.list_keys("uploads/a/") == ["uploads/a/clip.mp4", "uploads/a/thumb.jpg"]
    # Prefixes are strings, not folders (S3's meaning), on both stores.
    assert store.list_keys("uploads/a/cl") == ["uploads/a/clip.mp4"]
    assert store.list_keys("uploads/") == [
        "uploads/a/clip.mp4",
        "uploads/a/thumb.jpg",
        "uploads/b/clip.mp4",
    ]
    assert store.list_keys("uploads/c/") == []

    assert store.read_head("uploads/a/clip.mp4", 6) == b"\x00video"
    assert store.read_head("uploads/a/clip.mp4", 10_000) == source.read_bytes()

    copy = tmp_path / "copy.mp4"
    store.get_file("uploads/a/clip.mp4", copy)
    assert copy.read_bytes() == source.read_bytes()

    store.copy("uploads/a/clip.mp4", "media/x/clip.mp4")
    store.get_file("media/x/clip.mp4", copy)
    assert copy.read_bytes() == source.read_bytes()
    # A copy is independent of its source: replacing the source leaves it as it was.
    replacement = tmp_path / "other.mp4"
    replacement.write_bytes(b"other")
    store.put_file("uploads/b/clip.mp4", source, "video/mp4")
    store.copy("uploads/b/clip.mp4", "media/y/clip.mp4")
    store.put_file("uploads/b/clip.mp4", replacement, "video/mp4")
    store.get_file("media/y/clip.mp4", copy)
    assert copy.read_bytes() == source.read_bytes()
    with pytest.raises(ObjectNotFound):
        store.copy("uploads/a/missing.mp4", "media/x/missing.mp4")

    store.delete("uploads/a/clip.mp4")
    store.delete("uploads/a/clip.mp4")  # idempotent
    with pytest.raises(ObjectNotFound):
        store.stat("uploads/a/clip.mp4")
    with pytest.raises(ObjectNotFound):
        store.get_file("uploads/a/clip.mp4", copy)
    with pytest.raises(ObjectNotFound):
        store.read_head("uploads/a/clip.mp4", 16)


@pytest.mark.parametrize("key", ["", "/etc/passwd", "a/../../b", "a//b", "./a"])
def test_keys_cannot_escape_the_store(store: ObjectStore, key: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidKey):
        store.get_file(key, tmp_path / "x")


ATTACHMENT = Served("application/octet-stream", 'attachment; filename="direct.bin"')


def test_the_filesystem_store_has_no_presigned_urls(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    assert store.upload_url("uploads/x.mp4", timedelta(minutes=5), "video/mp4", 10) is None
    assert store.download_url("uploads/x.mp4", timedelta(minutes=5), ATTACHMENT) is None


def test_presigned_put_and_get_work_and_tampering_is_refused(s3: S3Store) -> None:
    body = b"direct bytes"
    url = s3.upload_url("uploads/direct.mp4", timedelta(minutes=5), "video/mp4", len(body))
    assert url is not None
    assert httpx.put(url, content=body, headers={"Content-Type": "video/mp4"}).status_code == 200
    assert s3.stat("uploads/direct.mp4").size == len(body)

    get_url = s3.download_url("uploads/direct.mp4", timedelta(minutes=5), ATTACHMENT)
    assert get_url is not None
    assert httpx.get(get_url).content == body

    # A URL signed for one key does not open another, and a bad signature is refused.
    assert httpx.get(get_url.replace("direct.mp4", "other.mp4")).status_code == 403
    assert httpx.get(get_url[:-4] + "0000").status_code == 403


def test_a_presigned_put_takes_only_the_declared_type_and_size(s3: S3Store) -> None:
    """The URL signs the ticket's Content-Type and Content-Length: the bucket itself refuses
    other bytes (HTML instead of a video, more or fewer bytes than declared)."""
    url = s3.upload_url("uploads/bound.mp4", timedelta(minutes=5), "video/mp4", 10)
    assert url is not None
    for content, content_type in (
        (b"<html>abc</html>"[:10], "text/html"),
        (b"0123456789", None),
        (b"01234567890", "video/mp4"),
        (b"012345678", "video/mp4"),
    ):
        headers = {"Content-Type": content_type} if content_type else {}
        assert httpx.put(url, content=content, headers=headers).status_code == 403
    with pytest.raises(ObjectNotFound):
        s3.stat("uploads/bound.mp4")
    sent = httpx.put(url, content=b"0123456789", headers={"Content-Type": "video/mp4"})
    assert sent.status_code == 200


def test_a_presigned_get_carries_the_platforms_type_and_disposition(s3: S3Store) -> None:
    url = s3.download_url("uploads/page.mp4", timedelta(minutes=5), ATTACHMENT)
    assert url is not None
    query = parse_qs(urlsplit(url).query)
    assert query["response-content-type"] == ["application/octet-stream"]
    assert query["response-content-disposition"] == ['attachment; filename="direct.bin"']
    # The overrides are signed: a link that asks for text/html instead is refused.
    tampered = url.replace("application%2Foctet-stream", "text%2Fhtml")
    assert tampered != url
    assert httpx.get(tampered).status_code == 403


def test_presigned_urls_carry_the_public_endpoint(nanio: str) -> None:
    port = nanio.rsplit(":", 1)[1]
    store = S3Store.from_settings(s3_settings(nanio, public_endpoint=f"localhost:{port}"))
    store.ensure_bucket()
    body = b"via the public name"
    url = store.upload_url("uploads/public.mp4", timedelta(minutes=5), "video/webm", len(body))
    assert url is not None
    assert url.startswith(f"http://localhost:{port}/")
    sent = httpx.put(url, content=body, headers={"Content-Type": "video/webm"})
    assert sent.status_code == 200
    assert store.stat("uploads/public.mp4").size == len(body)


def test_resumable_multipart_upload_through_presigned_part_urls(s3: S3Store) -> None:
    part_size = 5 * 1024 * 1024
    payload = os.urandom(part_size) + b"tail"
    upload_id = s3.start_multipart("uploads/big.mp4", "video/mp4")
    parts = []
    for number, chunk in enumerate([payload[:part_size], payload[part_size:]], start=1):
        url = s3.part_upload_url(
            "uploads/big.mp4", upload_id, number, timedelta(minutes=5), len(chunk)
        )
        # A part URL takes exactly its share of the declared size.
        assert httpx.put(url, content=chunk + b"x", timeout=30).status_code == 403
        # A part may be sent again (a resumed upload); the last ETag counts.
        for _ in range(2 if number == 1 else 1):
            response = httpx.put(url, content=chunk, timeout=30)
            assert response.status_code == 200
        parts.append(UploadedPart(number, response.headers["etag"].strip('"')))
    s3.complete_multipart("uploads/big.mp4", upload_id, parts)
    assert s3.stat("uploads/big.mp4").size == len(payload)


def test_an_aborted_multipart_upload_leaves_nothing(s3: S3Store) -> None:
    upload_id = s3.start_multipart("uploads/abandoned.mp4", "video/mp4")
    url = s3.part_upload_url("uploads/abandoned.mp4", upload_id, 1, timedelta(minutes=5), 1024)
    assert httpx.put(url, content=b"x" * 1024).status_code == 200
    s3.abort_multipart("uploads/abandoned.mp4", upload_id)
    assert s3.list_keys("uploads/abandoned") == []
