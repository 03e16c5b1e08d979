"""Uploads of creator videos and photos.

`POST /uploads` issues a ticket: one key, under the caller's workspace, for exactly the
declared number of bytes of one declared video or photo type, recorded so that nothing else can be
written, completed or submitted. With S3 (MinIO) the bytes go straight to the bucket on a
presigned PUT that signs the type and length (the bucket refuses other bytes), or for big
files a multipart upload with one presigned URL per part (resumable: any part can be sent
again); with the embedded filesystem store, to this API's own `PUT /uploads/content/{key}`,
which streams the body to disk. Upload URLs come from the configured public URL, never from
the request's Host header."""

from __future__ import annotations

import asyncio
import math
import re
import tempfile
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal, get_args
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from api.deps import DatabaseDep, SettingsDep, StoreDep, allow
from api.deps import Principal as PrincipalT
from domain.enums import Role
from integrations.storage import (
    InvalidKey,
    ObjectStore,
    ResumableUploads,
    StorageError,
    UploadedPart,
    check_key,
)
from models import uploads
from models.base import utcnow
from nexus.errors import (
    Forbidden,
    Gone,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
)
from nexus.settings import Settings

router = APIRouter(prefix="/uploads", tags=["uploads"])
UPLOADERS = (Role.CREATOR, Role.BRAND_ADMIN, Role.BRAND_MEMBER)
# S3 allows at most 10,000 parts to an upload.
MAX_PARTS = 10_000

# The video and photo types an upload may declare, and the extension its key gets: a key
# never keeps the client's own extension (`draft.html` is stored as `draft.mp4`).
MediaType = Literal[
    "video/mp4", "video/quicktime", "video/webm", "video/x-matroska", "video/x-m4v",
    "image/jpeg", "image/png", "image/webp",
]  # fmt: skip
EXTENSIONS: dict[str, str] = dict(
    zip(
        get_args(MediaType),
        (".mp4", ".mov", ".webm", ".mkv", ".m4v", ".jpg", ".png", ".webp"),
        strict=True,
    )
)


class UploadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=255)
    # Only a first filter: the real type is sniffed from the bytes before anything uses them.
    content_type: MediaType
    size_bytes: int = Field(gt=0, description="the file's exact size; other sizes are refused")


class UploadTicket(BaseModel):
    key: str
    method: Literal["PUT"] = "PUT"
    # One URL for a single PUT; with `upload_id`, one URL per part of `part_bytes` each.
    urls: list[str]
    upload_id: str | None = None
    part_bytes: int | None = None
    # Headers every PUT must carry as given (a presigned URL signs them).
    headers: dict[str, str] = Field(default_factory=dict)
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


async def open_ticket(db: DatabaseDep, principal: PrincipalT, key: str) -> uploads.UploadTicket:
    """The caller's unexpired ticket for `key`: bytes go only where a ticket was issued."""
    ticket = await db.run(uploads.issued, principal.workspace_id, _own_key(principal, key))
    if ticket is None:
        raise NotFound("no such upload; ask for one with POST /uploads")
    if ticket.expires_at <= utcnow():
        raise Gone("this upload's ticket has expired; ask for a new one with POST /uploads")
    return ticket


def _key_for(principal: PrincipalT, body: UploadCreate) -> str:
    unnamed = "photo" if body.content_type.startswith("image/") else "video"
    stem = re.sub(r"[^\w.-]+", "-", Path(body.filename).stem).strip(".-")[:100] or unnamed
    return f"uploads/{principal.workspace_id}/{uuid.uuid4()}/{stem}{EXTENSIONS[body.content_type]}"


def _presign(
    store: ObjectStore, settings: Settings, key: str, body: UploadCreate, through: str
) -> UploadTicket:
    ttl = timedelta(seconds=settings.storage.presign_ttl_s)
    expires_at = utcnow() + ttl
    part_bytes = settings.storage.multipart_part_bytes
    size = body.size_bytes
    if isinstance(store, ResumableUploads) and size > part_bytes:
        part_bytes = max(part_bytes, math.ceil(size / MAX_PARTS))
        count = math.ceil(size / part_bytes)
        upload_id = store.start_multipart(key, body.content_type)
        # Each part URL signs its share of the declared size: the last one takes the rest.
        urls = [
            store.part_upload_url(
                key, upload_id, n, ttl, min(part_bytes, size - (n - 1) * part_bytes)
            )
            for n in range(1, count + 1)
        ]
        return UploadTicket(
            key=key, urls=urls, upload_id=upload_id, part_bytes=part_bytes,
            expires_at=expires_at, direct=True,
        )  # fmt: skip
    headers = {"Content-Type": body.content_type}
    direct = store.upload_url(key, ttl, body.content_type, size)
    if direct is not None:
        return UploadTicket(
            key=key, urls=[direct], headers=headers, expires_at=expires_at, direct=True
        )
    # The configured public URL: the Host header is the client's to choose.
    url = settings.api.public_url.rstrip("/") + through + quote(key)
    return UploadTicket(key=key, urls=[url], headers=headers, expires_at=expires_at, direct=False)


async def issue_ticket(
    body: UploadCreate,
    principal: PrincipalT,
    settings: Settings,
    store: ObjectStore,
    db: DatabaseDep,
    through: str = "/uploads/content/",
) -> UploadTicket:
    """Issue and record a ticket; `through` is the path of the upload target the embedded
    store's bytes go to (the API's own, or the portal's)."""
    limit = settings.media.max_upload_bytes
    if body.size_bytes > limit:
        raise PayloadTooLarge(f"the file is {body.size_bytes} bytes; the limit is {limit}")
    assert principal.user_id is not None  # uploaders are people
    key = _key_for(principal, body)
    try:
        ticket = await asyncio.to_thread(_presign, store, settings, key, body, through)
    except StorageError as exc:
        raise ServiceUnavailable("object storage is unavailable; try again") from exc
    record = uploads.UploadTicket(
        key=key, workspace_id=principal.workspace_id, uploader_id=principal.user_id,
        content_type=body.content_type, size_bytes=body.size_bytes,
        upload_id=ticket.upload_id, expires_at=ticket.expires_at,
    )  # fmt: skip
    await db.run(uploads.issue, record)
    return ticket


@router.post("", status_code=201, response_model=UploadTicket)
async def create_upload(
    body: UploadCreate, principal: Uploader, settings: SettingsDep, store: StoreDep, db: DatabaseDep
) -> UploadTicket:
    return await issue_ticket(body, principal, settings, store, db)


@router.post("/complete", response_model=Uploaded)
async def complete_upload(
    body: MultipartComplete, principal: Uploader, store: StoreDep, db: DatabaseDep
) -> Uploaded:
    """Assemble a multipart upload; the parts must add up to exactly the declared size."""
    ticket = await open_ticket(db, principal, body.key)
    if not isinstance(store, ResumableUploads) or ticket.upload_id != body.upload_id:
        raise NotFound("no such multipart upload")
    parts = [UploadedPart(p.number, p.etag) for p in body.parts]
    try:
        size = await asyncio.to_thread(_complete, store, ticket.key, body.upload_id, parts)
    except StorageError as exc:
        raise ValidationFailed(f"the upload could not be completed: {exc}") from exc
    if size != ticket.size_bytes:
        await asyncio.to_thread(store.delete, ticket.key)
        raise ValidationFailed(
            f"the parts add up to {size} bytes; the upload declared {ticket.size_bytes}. "
            "Upload the file again."
        )
    return Uploaded(key=ticket.key, size_bytes=size)


def _complete(store: ObjectStore, key: str, upload_id: str, parts: list[UploadedPart]) -> int:
    assert isinstance(store, ResumableUploads)
    store.complete_multipart(key, upload_id, parts)
    return store.stat(key).size


@router.put("/content/{key:path}", status_code=201, response_model=Uploaded)
async def put_content(
    key: str,
    request: Request,
    principal: Uploader,
    settings: SettingsDep,
    store: StoreDep,
    db: DatabaseDep,
) -> Uploaded:
    """The embedded store's upload target for an issued key: the body streams to a scratch
    file (never held in memory), is refused as soon as it passes the declared size, and is
    stored only when it is exactly that size."""
    if principal.role not in UPLOADERS:
        raise Forbidden(f"role {principal.role.value} may not upload")
    ticket = await open_ticket(db, principal, key)
    declared = ticket.size_bytes
    if store.upload_url(ticket.key, timedelta(minutes=1), ticket.content_type, declared):
        raise NotFound("upload straight to object storage with the presigned URL")
    sent_type = request.headers.get("content-type")
    if sent_type is not None and sent_type != ticket.content_type:
        raise ValidationFailed(f"send the bytes as {ticket.content_type}, the declared type")
    work_dir = settings.media.work_dir
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
    size = 0
    # Disk writes go to a thread: a big upload must not stall the event loop.
    with tempfile.NamedTemporaryFile(dir=work_dir, prefix="upload-") as tmp:
        async for chunk in request.stream():
            size += len(chunk)
            if size > declared:
                raise PayloadTooLarge(f"the upload passed its declared size of {declared} bytes")
            await asyncio.to_thread(tmp.write, chunk)
        if size != declared:
            raise ValidationFailed(f"the upload has {size} bytes; it declared {declared}")
        await asyncio.to_thread(tmp.flush)
        await asyncio.to_thread(store.put_file, ticket.key, Path(tmp.name), ticket.content_type)
    return Uploaded(key=ticket.key, size_bytes=size)
