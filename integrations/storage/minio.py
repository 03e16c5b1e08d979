"""MinIO (or any S3) through the `minio` SDK. SDK types stay in this module."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from minio import Minio
from minio.commonconfig import CopySource
from minio.datatypes import Part
from minio.error import S3Error

from integrations.storage import (
    ObjectInfo,
    ObjectNotFound,
    StorageError,
    UploadedPart,
    check_key,
)
from nexus.settings import StorageSettings

_MISSING = frozenset({"NoSuchKey", "NoSuchObject", "NoSuchBucket"})


class S3Store:
    """`client` does the work; `signer` only presigns, configured for the endpoint clients
    reach (a presigned URL is bound to the Host it was signed for)."""

    def __init__(self, client: Minio, signer: Minio, bucket: str, part_bytes: int) -> None:
        self._client = client
        self._signer = signer
        self._bucket = bucket
        self._part_bytes = part_bytes

    @classmethod
    def from_settings(cls, settings: StorageSettings) -> S3Store:
        def make(endpoint: str) -> Minio:
            return Minio(
                endpoint,
                access_key=settings.access_key,
                secret_key=settings.secret_key.get_secret_value(),
                secure=settings.secure,
                region=settings.region,
            )

        return cls(
            make(settings.endpoint),
            make(settings.public_endpoint or settings.endpoint),
            settings.bucket,
            settings.multipart_part_bytes,
        )

    def ensure_bucket(self) -> None:
        try:
            if not self._client.bucket_exists(self._bucket):
                self._client.make_bucket(self._bucket)
        except S3Error as exc:
            raise StorageError(str(exc)) from exc

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        try:
            # The SDK switches to a multipart upload above `part_size`.
            self._client.fput_object(
                self._bucket,
                check_key(key),
                str(path),
                content_type=content_type,
                part_size=self._part_bytes,
            )
        except S3Error as exc:
            raise StorageError(str(exc)) from exc

    def get_file(self, key: str, dest: Path) -> None:
        try:
            self._client.fget_object(self._bucket, check_key(key), str(dest))
        except S3Error as exc:
            raise _translate(exc, key) from exc

    def stat(self, key: str) -> ObjectInfo:
        try:
            found = self._client.stat_object(self._bucket, check_key(key))
        except S3Error as exc:
            raise _translate(exc, key) from exc
        return ObjectInfo(
            key=key,
            size=found.size or 0,
            content_type=found.content_type or "application/octet-stream",
        )

    def list_keys(self, prefix: str) -> list[str]:
        try:
            found = self._client.list_objects(self._bucket, prefix=prefix, recursive=True)
            return sorted(o.object_name for o in found if o.object_name is not None)
        except S3Error as exc:
            raise StorageError(str(exc)) from exc

    def copy(self, source: str, target: str) -> None:
        try:
            self._client.copy_object(
                self._bucket, check_key(target), CopySource(self._bucket, check_key(source))
            )
        except S3Error as exc:
            raise _translate(exc, source) from exc

    def delete(self, key: str) -> None:
        try:
            self._client.remove_object(self._bucket, check_key(key))
        except S3Error as exc:
            if exc.code not in _MISSING:
                raise StorageError(str(exc)) from exc

    def upload_url(self, key: str, expires: timedelta) -> str | None:
        return self._signer.presigned_put_object(self._bucket, check_key(key), expires=expires)

    def download_url(self, key: str, expires: timedelta) -> str | None:
        return self._signer.presigned_get_object(self._bucket, check_key(key), expires=expires)

    def local_path(self, key: str) -> Path | None:
        return None

    # Resumable uploads of big files: the client PUTs each part to its own presigned URL, can
    # retry any part, and the API completes the upload with the parts' ETags.

    def start_multipart(self, key: str, content_type: str) -> str:
        try:
            return self._client._create_multipart_upload(
                self._bucket, check_key(key), {"Content-Type": content_type}
            )
        except S3Error as exc:
            raise StorageError(str(exc)) from exc

    def part_upload_url(self, key: str, upload_id: str, number: int, expires: timedelta) -> str:
        return self._signer.get_presigned_url(
            "PUT",
            self._bucket,
            check_key(key),
            expires=expires,
            extra_query_params={"uploadId": upload_id, "partNumber": str(number)},
        )

    def complete_multipart(self, key: str, upload_id: str, parts: list[UploadedPart]) -> None:
        try:
            self._client._complete_multipart_upload(
                self._bucket,
                check_key(key),
                upload_id,
                # Browsers pass the ETag header as sent, quotes included; the XML takes it bare.
                [Part(p.number, p.etag.strip('"')) for p in sorted(parts, key=lambda p: p.number)],
            )
        except S3Error as exc:
            raise StorageError(str(exc)) from exc

    def abort_multipart(self, key: str, upload_id: str) -> None:
        try:
            self._client._abort_multipart_upload(self._bucket, check_key(key), upload_id)
        except S3Error as exc:
            raise StorageError(str(exc)) from exc


def _translate(exc: S3Error, key: str) -> StorageError:
    if exc.code in _MISSING:
        return ObjectNotFound(key)
    return StorageError(str(exc))
