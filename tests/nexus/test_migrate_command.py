"""`nexus migrate` prepares everything the platform stores into: the schema and, with S3,
the media bucket."""

from __future__ import annotations

import uuid

import pytest

from integrations.storage.minio import S3Store
from nexus.cli import main
from nexus.settings import StorageSettings
from tests.conftest import NANIO_ACCESS_KEY, NANIO_SECRET_KEY


def test_migrate_creates_the_media_bucket(
    database_url: str, nanio: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = f"media-{uuid.uuid4().hex[:8]}"
    storage = {
        "BACKEND": "s3", "ENDPOINT": nanio, "ACCESS_KEY": NANIO_ACCESS_KEY,
        "SECRET_KEY": NANIO_SECRET_KEY, "BUCKET": bucket,
    }  # fmt: skip
    monkeypatch.setenv("NEXUS_DATABASE__URL", database_url)
    for key, value in storage.items():
        monkeypatch.setenv(f"NEXUS_STORAGE__{key}", value)
    assert main(["migrate"]) == 0
    store = S3Store.from_settings(
        StorageSettings.model_validate({k.lower(): v for k, v in storage.items()})
    )
    assert store.list_keys("") == []  # the bucket exists (a missing one raises)
    assert main(["migrate"]) == 0  # and running it again is harmless
