"""Object storage port. Media bytes live here; workflows and activities carry keys only.

The embedded default is a directory on disk (`FilesystemStore`, the API receives uploads);
production uses MinIO or any S3 through `integrations.storage.minio.S3Store`, where clients
upload straight to the bucket with presigned URLs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

from nexus.settings import StorageSettings


class StorageError(Exception):
    """The store failed or refused the operation."""


class ObjectNotFound(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no object at {key!r}")
        self.key = key


class InvalidKey(StorageError):
    pass


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str


@dataclass(frozen=True)
class Served:
    """How a download answers: the type and Content-Disposition the platform chose."""

    content_type: str
    disposition: str


class ObjectStore(Protocol):
    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store the file's bytes at `key`, replacing what was there (idempotent)."""

    def get_file(self, key: str, dest: Path) -> None:
        """Write the object to `dest`; raises ObjectNotFound."""

    def stat(self, key: str) -> ObjectInfo:
        """Size and type of the object; raises ObjectNotFound."""

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under `prefix`, sorted."""

    def copy(self, source: str, target: str) -> None:
        """Copy an object inside the store (server-side on S3); raises ObjectNotFound."""

    def delete(self, key: str) -> None:
        """Remove the object; removing a missing one is a no-op."""

    def read_head(self, key: str, size: int) -> bytes:
        """The object's first `size` bytes (fewer when it is shorter), to sniff its type;
        raises ObjectNotFound."""

    def upload_url(self, key: str, expires: timedelta, content_type: str, size: int) -> str | None:
        """A presigned PUT URL for a client to upload to directly, bound to exactly `size`
        bytes sent as `content_type` (the store refuses anything else), or None when the
        store has none and the bytes must go through the API."""

    def download_url(self, key: str, expires: timedelta, served: Served) -> str | None:
        """A presigned GET URL that answers with `served`'s type and disposition whatever
        the object was stored as, or None when the API serves the bytes."""

    def local_path(self, key: str) -> Path | None:
        """The object's file on this machine when the store keeps it there (the API then
        serves it itself), else None; raises ObjectNotFound."""


@dataclass(frozen=True)
class UploadedPart:
    number: int
    etag: str


@runtime_checkable
class ResumableUploads(Protocol):
    """Multipart uploads a client sends part by part to presigned URLs, retrying any part;
    stores with direct uploads (S3) offer it."""

    def start_multipart(self, key: str, content_type: str) -> str:
        """Open an upload; returns its id."""

    def part_upload_url(
        self, key: str, upload_id: str, number: int, expires: timedelta, size: int
    ) -> str:
        """A presigned PUT URL for part `number` (from 1), bound to exactly `size` bytes."""

    def complete_multipart(self, key: str, upload_id: str, parts: list[UploadedPart]) -> None:
        """Assemble the object from the parts' ETags."""

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Drop an unfinished upload and its parts."""


def check_key(key: str) -> str:
    """Keys are relative slash-separated paths without `..`, so neither store can escape its
    root or bucket."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InvalidKey(f"invalid object key {key!r}")
    return key


def store_from_settings(settings: StorageSettings) -> ObjectStore:
    if settings.backend == "s3":
        from integrations.storage.minio import S3Store

        return S3Store.from_settings(settings)
    from integrations.storage.filesystem import FilesystemStore

    return FilesystemStore(settings.root)
