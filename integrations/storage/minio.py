"""MinIO (or any S3) through the `minio` SDK. SDK types stay in this module."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from minio import Minio
from minio.commonconfig import CopySource
from minio.datatypes import Part
from minio.error import S3Error

from integrations.storage import (
    ObjectInfo,
    ObjectNotFound,
    Served,
    StorageError,
    UploadedPart,
    check_key,
)
from nexus.settings import StorageSettings

_MISSING = frozenset({"NoSuchKey", "NoSuchObject", "NoSuchBucket"})


@dataclass(frozen=True)
class Presigner:
    """SigV4 query-string signing for the endpoint clients reach (a presigned URL is bound to
    the Host it was signed for). The SDK signs the Host header only; this one also signs the
    headers a URL is bound to (Content-Type, Content-Length), so the bucket refuses an
    upload of other bytes than the ticket declared."""

    endpoint: str
    secure: bool
    region: str
    access_key: str
    secret_key: str

    def url(
        self,
        method: str,
        path: str,
        expires: timedelta,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> str:
        now = datetime.now(UTC)
        day, stamp = now.strftime("%Y%m%d"), now.strftime("%Y%m%dT%H%M%SZ")
        scope = f"{day}/{self.region}/s3/aws4_request"
        host = self.endpoint.removesuffix(":443" if self.secure else ":80")
        signed = {"host": host, **{k.lower(): v.strip() for k, v in (headers or {}).items()}}
        names = ";".join(sorted(signed))
        params = {
            **(query or {}),
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{self.access_key}/{scope}",
            "X-Amz-Date": stamp,
            "X-Amz-Expires": str(int(expires.total_seconds())),
            "X-Amz-SignedHeaders": names,
        }
        canonical_query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(params.items()))
        canonical_uri = quote(path, safe="/-_.~")
        canonical_headers = "".join(f"{k}:{signed[k]}\n" for k in sorted(signed))
        request = "\n".join(
            [method, canonical_uri, canonical_query, canonical_headers, names, "UNSIGNED-PAYLOAD"]
        )
        digest = hashlib.sha256(request.encode()).hexdigest()
        to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{digest}"
        key = ("AWS4" + self.secret_key).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        scheme = "https" if self.secure else "http"
        return f"{scheme}://{host}{canonical_uri}?{canonical_query}&X-Amz-Signature={signature}"


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


class S3Store:
    """`client` does the work; `signer` presigns the URLs clients use."""

    def __init__(self, client: Minio, signer: Presigner, bucket: str, part_bytes: int) -> None:
        self._client = client
        self._signer = signer
        self._bucket = bucket
        self._part_bytes = part_bytes

    @classmethod
    def from_settings(cls, settings: StorageSettings) -> S3Store:
        secret = settings.secret_key.get_secret_value()
        client = Minio(
            settings.endpoint,
            access_key=settings.access_key,
            secret_key=secret,
            secure=settings.secure,
            region=settings.region,
        )
        signer = Presigner(
            settings.public_endpoint or settings.endpoint,
            settings.secure,
            settings.region,
            settings.access_key,
            secret,
        )
        return cls(client, signer, settings.bucket, settings.multipart_part_bytes)

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

    def read_head(self, key: str, size: int) -> bytes:
        try:
            try:
                response = self._client.get_object(self._bucket, check_key(key), 0, size)
            except S3Error as exc:
                # Some servers refuse a range past the end: the object is shorter than `size`.
                if exc.code not in ("InvalidRange", "InvalidArgument"):
                    raise
                response = self._client.get_object(self._bucket, key)
        except S3Error as exc:
            raise _translate(exc, key) from exc
        try:
            return response.read(size)
        finally:
            response.close()
            response.release_conn()

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

    def _path(self, key: str) -> str:
        return f"/{self._bucket}/{check_key(key)}"

    def upload_url(self, key: str, expires: timedelta, content_type: str, size: int) -> str | None:
        headers = {"Content-Type": content_type, "Content-Length": str(size)}
        return self._signer.url("PUT", self._path(key), expires, headers)

    def download_url(self, key: str, expires: timedelta, served: Served) -> str | None:
        # S3 answers with these instead of what the object was stored with.
        overrides = {
            "response-content-type": served.content_type,
            "response-content-disposition": served.disposition,
        }
        return self._signer.url("GET", self._path(key), expires, query=overrides)

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

    def part_upload_url(
        self, key: str, upload_id: str, number: int, expires: timedelta, size: int
    ) -> str:
        return self._signer.url(
            "PUT",
            self._path(key),
            expires,
            {"Content-Length": str(size)},
            {"uploadId": upload_id, "partNumber": str(number)},
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
