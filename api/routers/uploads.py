"""Uploads of creator videos.

`POST /uploads` hands out where to send the bytes: with S3 (MinIO) a presigned PUT straight to
the bucket, or for big files a multipart upload with one presigned URL per part (resumable:
any part can be sent again); with the embedded filesystem store, this API's own
`PUT /uploads/content/{key}`, which streams the body to disk. Keys live under the caller's
workspace, so one tenant can never write into another's uploads."""

from __future__ import annotations

import asyncio
import math
import re
import tempfile
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Principal as PrincipalT
from api.deps import SettingsDep, StoreDep, allow
from domain.enums import Role
from integrations.storage import (
    InvalidKey,
    ResumableUploads,
    StorageError,
    UploadedPart,
    check_key,
)
from models.base import utcnow
from nexus.errors import Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, ValidationFailed

router = APIRouter(prefix="/uploads", tags=["uploads"])
UPLOADERS = (Role.CREATOR, Role.BRAND_ADMIN, Role.BRAND_MEMBER)
CHUNK = 1024 * 1024
# S3 allows at most 10,000 parts to an upload.
MAX_PARTS = 10_000


class UploadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=255)
    # Only a first filter: the real type is sniffed from the bytes before anything uses them.
    content_type: str = Field(pattern=r"^video/[\w.+-]+$", max_length=100)
    size_bytes: int = Field(gt=0)


class UploadTicket(BaseModel):
    key: str
    method: Literal["PUT"] = "PUT"
    # One URL for a single PUT; with `upload_id`, one URL per part of `part_bytes` each.
    urls: list[str]
    upload_id: str | None = None
    part_bytes: int | None = None
    expires_at: datetime
    direct: bool  # the URLs go straight to object storage, not through this API


class PartDone(BaseModel):
    number: int = Field(ge=1, le=MAX_PARTS)
    etag: str = Field(min_length=1, max_length=200)


class MultipartComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=1024)
    upload_id: str = Field(min_length=1, max_length=1024)
    parts: list[PartDone] = Field(min_length=1, max_length=MAX_PARTS)


class Uploaded(BaseModel):
    key: str
    size_bytes: int


# Partner API keys have no upload scope: uploads come from signed-in people.
Uploader = Annotated[PrincipalT, Depends(allow(*UPLOADERS))]


def _own_key(principal: PrincipalT, key: str) -> str:
    try:
        check_key(key)
    except InvalidKey:
        raise NotFound("no such upload") from None
    if not key.startswith(f"uploads/{principal.workspace_id}/"):
        raise NotFound("no such upload")  # another tenant's key: as if it did not exist
    return key


@router.post("", status_code=201, response_model=UploadTicket)
def create_upload(
    body: UploadCreate,
    principal: Uploader,
    settings: SettingsDep,
    store: StoreDep,
    request: Request,
) -> UploadTicket:
    limit = settings.media.max_upload_bytes
    if body.size_bytes > limit:
        raise PayloadTooLarge(f"the file is {body.size_bytes} bytes; the limit is {limit}")
    name = re.sub(r"[^\w.-]+", "-", Path(body.filename).name).strip(".-")[:100] or "video"
    key = f"uploads/{principal.workspace_id}/{uuid.uuid4()}/{name}"
    ttl = timedelta(seconds=settings.storage.presign_ttl_s)
    expires_at = utcnow() + ttl
    try:
        part_bytes = settings.storage.multipart_part_bytes
        if isinstance(store, ResumableUploads) and body.size_bytes > part_bytes:
            part_bytes = max(part_bytes, math.ceil(body.size_bytes / MAX_PARTS))
            count = math.ceil(body.size_bytes / part_bytes)
            upload_id = store.start_multipart(key, body.content_type)
            urls = [store.part_upload_url(key, upload_id, n, ttl) for n in range(1, count + 1)]
            return UploadTicket(
                key=key, urls=urls, upload_id=upload_id, part_bytes=part_bytes,
                expires_at=expires_at, direct=True,
            )  # fmt: skip
        direct = store.upload_url(key, ttl)
    except StorageError as exc:
        raise ServiceUnavailable("object storage is unavailable; try again") from exc
    if direct is not None:
        return UploadTicket(key=key, urls=[direct], expires_at=expires_at, direct=True)
    through_api = str(request.url_for("put_content", key=key))
    return UploadTicket(key=key, urls=[through_api], expires_at=expires_at, direct=False)


@router.post("/complete", response_model=Uploaded)
def complete_upload(body: MultipartComplete, principal: Uploader, store: StoreDep) -> Uploaded:
    key = _own_key(principal, body.key)
    if not isinstance(store, ResumableUploads):
        raise NotFound("this store takes no multipart uploads")
    try:
        store.complete_multipart(
            key, body.upload_id, [UploadedPart(p.number, p.etag) for p in body.parts]
        )
        size = store.stat(key).size
    except StorageError as exc:
        raise ValidationFailed(f"the upload could not be completed: {exc}") from exc
    return Uploaded(key=key, size_bytes=size)


@router.put("/content/{key:path}", status_code=201, response_model=Uploaded)
async def put_content(
    key: str, request: Request, principal: Uploader, settings: SettingsDep, store: StoreDep
) -> Uploaded:
    """The embedded store's upload target: the body streams to a scratch file (never held in
    memory) and is refused once it passes the size limit."""
    if principal.role not in UPLOADERS:
        raise Forbidden(f"role {principal.role.value} may not upload")
    key = _own_key(principal, key)
    if store.upload_url(key, timedelta(minutes=1)) is not None:
        raise NotFound("upload straight to object storage with the presigned URL")
    limit = settings.media.max_upload_bytes
    work_dir = settings.media.work_dir
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
    size = 0
    # Disk writes go to a thread: a big upload must not stall the event loop.
    with tempfile.NamedTemporaryFile(dir=work_dir, prefix="upload-") as tmp:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the upload passed the limit of {limit} bytes")
            await asyncio.to_thread(tmp.write, chunk)
        await asyncio.to_thread(tmp.flush)
        if size == 0:
            raise ValidationFailed("the upload is empty")
        content_type = request.headers.get("content-type", "video/mp4")
        await asyncio.to_thread(store.put_file, key, Path(tmp.name), content_type)
    return Uploaded(key=key, size_bytes=size)
