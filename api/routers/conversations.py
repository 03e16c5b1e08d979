"""One conversation per delivery between the brand and the creator: text messages and
attachments, recorded with the delivery.

The delivery's brand workspace (its people and partner keys with the deliveries scopes) and
its creator read and write it; ops read it. Anyone else gets 404. An attachment is uploaded
like a video (`POST /deliveries/{id}/attachments` issues a ticket for exactly the declared
bytes, the bytes go to the ticket's URL) and then named by the message that carries it. It is
served only through the platform's media serving: a download (application/octet-stream,
nosniff, sandboxed), inline only as a JPEG or PNG its bytes prove it is."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import DatabaseDep, Principal, SettingsDep, StoreDep, allow
from api.routers import deliveries as deliveries_api
from api.routers import uploads as uploads_api
from api.schemas import Limit
from domain.enums import Role
from integrations.notifications import Message, deliver_now
from integrations.storage import InvalidKey, ObjectNotFound, ObjectStore, StorageError, check_key
from models import conversations, uploads
from models.base import utcnow
from models.conversations import DeliveryMessage, Party, Posted
from models.workspaces import users_by_ids, users_in_roles
from nexus.errors import (
    FieldProblem,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
)
from nexus.settings import Settings

router = APIRouter(prefix="/deliveries", tags=["conversations"])

BRAND_ROLES = (Role.BRAND_ADMIN, Role.BRAND_MEMBER)
BRAND_SIDE = frozenset({*BRAND_ROLES, Role.PARTNER})
Reader = Annotated[
    Principal, Depends(allow(*BRAND_ROLES, Role.CREATOR, Role.OPS, scope="deliveries:read"))
]
Writer = Annotated[Principal, Depends(allow(*BRAND_ROLES, Role.CREATOR, scope="deliveries:write"))]
# Uploads come from signed-in people: partner keys have no upload scope.
Uploader = Annotated[Principal, Depends(allow(*BRAND_ROLES, Role.CREATOR))]

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
MAX_BODY = 4000
# What an attachment may be shown as in the page, when its first bytes prove it.
INLINE_TYPES = frozenset({"image/jpeg", "image/png"})
PREVIEW_CHARS = 300
# Control characters other than tab and line breaks: nothing a person types.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(default="", max_length=MAX_BODY, description="the message's text")
    attachment_key: str | None = Field(
        default=None,
        max_length=1024,
        description="the key of an upload from POST /deliveries/{id}/attachments",
    )

    @field_validator("body")
    @classmethod
    def _printable(cls, text: str) -> str:
        if _CONTROL.search(text):
            raise ValueError("remove the control characters from the message")
        return text.strip()


class AttachmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=255)
    # Only what the client says: the bytes are served as a download whatever it is.
    content_type: str = Field(
        default="application/octet-stream",
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$",
    )
    size_bytes: int = Field(gt=0, description="the file's exact size; other sizes are refused")


class AttachmentPublic(BaseModel):
    name: str
    content_type: str
    size_bytes: int
    url: str


class MessagePublic(BaseModel):
    id: uuid.UUID
    delivery_id: uuid.UUID
    side: Literal["brand", "creator"]
    sender_name: str
    body: str
    attachment: AttachmentPublic | None
    created_at: AwareDatetime


def message_public(posted: Posted) -> MessagePublic:
    m = posted.message
    attachment = None
    if m.attachment_key is not None:
        attachment = AttachmentPublic(
            name=m.attachment_name or "attachment",
            content_type=m.attachment_type or "application/octet-stream",
            size_bytes=m.attachment_bytes or 0,
            url=f"/deliveries/{m.delivery_id}/messages/{m.id}/attachment",
        )
    return MessagePublic(
        id=m.id, delivery_id=m.delivery_id, side="creator" if m.side == "creator" else "brand",
        sender_name=posted.sender_name, body=m.body, attachment=attachment,
        created_at=m.created_at,
    )  # fmt: skip


def _may_read(principal: Principal, party: Party) -> bool:
    if principal.role == Role.OPS:
        return True
    if principal.role in BRAND_SIDE:
        return party.delivery.workspace_id == principal.workspace_id
    return principal.role == Role.CREATOR and principal.user_id == party.creator_user_id


async def visible(db: DatabaseDep, principal: Principal, delivery_id: uuid.UUID) -> Party:
    """The delivery and its parties, when the caller may read its conversation."""
    party = await db.read(conversations.parties, delivery_id)
    if party is None or not _may_read(principal, party):
        raise NotFound("no such delivery")
    return party


def side_of(principal: Principal) -> Literal["brand", "creator"] | None:
    if principal.role in BRAND_SIDE:
        return "brand"
    return "creator" if principal.role == Role.CREATOR else None


async def list_messages(
    db: DatabaseDep, principal: Principal, delivery_id: uuid.UUID, limit: int
) -> tuple[Party, list[Posted]]:
    party = await visible(db, principal, delivery_id)
    return party, await db.read(lambda s: conversations.messages(s, party, limit=limit))


@router.get("/{delivery_id}/messages")
async def get_messages(
    delivery_id: uuid.UUID,
    principal: Reader,
    db: DatabaseDep,
    limit: Limit = 100,
) -> list[MessagePublic]:
    """The delivery's conversation: its latest `limit` messages, oldest first."""
    _, found = await list_messages(db, principal, delivery_id, limit)
    return [message_public(p) for p in found]


# -- posting ---------------------------------------------------------------------------------


async def _attachment(
    db: DatabaseDep, principal: Principal, store: ObjectStore, key: str
) -> uploads.UploadTicket:
    """The upload a message names: issued to the sender's workspace, all its bytes arrived."""
    problem = None
    ticket = None
    if principal.user_id is None:
        problem = "API keys cannot attach files; send the text alone"
    elif not key.startswith(f"uploads/{principal.workspace_id}/"):
        problem = "not an upload of yours; upload the file with POST /deliveries/{id}/attachments"
    else:
        ticket = await db.read(uploads.issued, principal.workspace_id, key)
        size = None if ticket is None else await asyncio.to_thread(_stored_size, store, key)
        if ticket is None or size is None:
            problem = "nothing was uploaded at this key; upload the file first"
        elif size != ticket.size_bytes:
            problem = f"the upload has {size} of its {ticket.size_bytes} bytes; upload it again"
    if problem is not None or ticket is None:
        raise ValidationFailed(
            "the message names no upload",
            errors=[FieldProblem("body.attachment_key", problem or "no such upload")],
        )
    return ticket


def _stored_size(store: ObjectStore, key: str) -> int | None:
    try:
        return store.stat(key).size
    except (ObjectNotFound, InvalidKey):
        return None


def _notices(session: Session, party: Party, posted: Posted, sender: Principal) -> list[Message]:
    """What the other side of the delivery is told of a new message."""
    message = posted.message
    if message.side == "creator":
        users = users_in_roles(session, party.delivery.workspace_id, [r.value for r in BRAND_ROLES])
    else:
        users = users_by_ids(session, [party.creator_user_id])
    text = message.body
    preview = text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
    lines = [f"About {party.campaign_title}:"]
    if preview:
        lines.append(preview)
    if message.attachment_name:
        lines.append(f"Attached: {message.attachment_name}")
    return [
        Message(
            event_key=f"message-{message.id}",
            user_id=user.id,
            email=user.email,
            kind="message",
            title=f"{posted.sender_name} sent you a message",
            body="\n".join(lines),
            link=f"/deliveries/{party.delivery.id}/messages",
            name=user.name,
        )
        for user in users
        if user.id != sender.user_id
    ]


async def post_message(
    request: Request,
    delivery_id: uuid.UUID,
    body: MessageCreate,
    principal: Principal,
    db: DatabaseDep,
    store: ObjectStore,
) -> MessagePublic:
    """Record a message from the caller's side of the delivery and tell the other side (in
    their inbox, and by e-mail where they want messages by e-mail)."""
    party = await visible(db, principal, delivery_id)
    side = side_of(principal)
    if side is None:
        raise NotFound("no such delivery")  # ops read conversations; they do not take part
    if not body.body and body.attachment_key is None:
        raise ValidationFailed(
            "the message is empty",
            errors=[FieldProblem("body.body", "Write a message or attach a file.")],
        )
    message = DeliveryMessage(
        delivery_id=delivery_id,
        side=side,
        sender_user_id=principal.user_id,
        sender_api_key_id=principal.api_key_id,
        body=body.body,
    )
    if body.attachment_key is not None:
        ticket = await _attachment(db, principal, store, body.attachment_key)
        message.attachment_key = ticket.key
        message.attachment_name = ticket.key.rsplit("/", 1)[-1]
        message.attachment_type = ticket.content_type
        message.attachment_bytes = ticket.size_bytes

    def record(session: Session) -> tuple[Posted, list[Message]]:
        conversations.add(session, message)
        posted = conversations.posted(session, party, message)
        return posted, _notices(session, party, posted, principal)

    posted, notices = await db.run(record)
    if notices:
        await run_in_threadpool(deliver_now, request.app.state.notifier, notices)
    return message_public(posted)


@router.post("/{delivery_id}/messages", status_code=201)
async def create_message(
    request: Request,
    delivery_id: uuid.UUID,
    body: MessageCreate,
    principal: Writer,
    db: DatabaseDep,
    store: StoreDep,
) -> MessagePublic:
    """Write to the other side of the delivery: text, an attachment uploaded with
    `POST /deliveries/{id}/attachments`, or both."""
    return await post_message(request, delivery_id, body, principal, db, store)


# -- attachments -----------------------------------------------------------------------------


def attachment_key(principal: Principal, filename: str) -> str:
    """A new key under the uploader's workspace, named after the file (letters, digits and
    `._-` only), so a download keeps a name a person recognises."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip(".-")[:100] or "attachment"
    extension = re.sub(r"[^A-Za-z0-9]+", "", extension)[:10].lower()
    key = f"uploads/{principal.workspace_id}/{uuid.uuid4()}/{stem}"
    return check_key(f"{key}.{extension}" if extension else key)


async def issue_attachment_ticket(
    body: AttachmentCreate,
    principal: Principal,
    settings: Settings,
    store: ObjectStore,
    db: DatabaseDep,
    through: str,
) -> uploads_api.UploadTicket:
    """An upload ticket for one attachment of exactly the declared size and type, recorded
    like a video's; `through` is the upload target of the embedded store (API or portal)."""
    if body.size_bytes > MAX_ATTACHMENT_BYTES:
        raise PayloadTooLarge(
            f"the file is {body.size_bytes:,} bytes; attachments may be up to "
            f"{MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB"
        )
    assert principal.user_id is not None  # uploaders are people
    content_type = body.content_type.lower()
    key = attachment_key(principal, body.filename)
    ttl = timedelta(seconds=settings.storage.presign_ttl_s)
    expires_at = utcnow() + ttl
    try:
        direct = await asyncio.to_thread(store.upload_url, key, ttl, content_type, body.size_bytes)
    except StorageError as exc:
        raise ServiceUnavailable("object storage is unavailable; try again") from exc
    url = direct or settings.api.public_url.rstrip("/") + through + quote(key)
    record = uploads.UploadTicket(
        key=key, workspace_id=principal.workspace_id, uploader_id=principal.user_id,
        content_type=content_type, size_bytes=body.size_bytes, expires_at=expires_at,
    )  # fmt: skip
    await db.run(uploads.issue, record)
    return uploads_api.UploadTicket(
        key=key, urls=[url], headers={"Content-Type": content_type}, expires_at=expires_at,
        direct=direct is not None,
    )  # fmt: skip


@router.post("/{delivery_id}/attachments", status_code=201, response_model=uploads_api.UploadTicket)
async def create_attachment(
    delivery_id: uuid.UUID,
    body: AttachmentCreate,
    principal: Uploader,
    settings: SettingsDep,
    store: StoreDep,
    db: DatabaseDep,
) -> uploads_api.UploadTicket:
    """A ticket to upload a file (up to 25 MB) for a message of this delivery: PUT exactly
    `size_bytes` bytes to the URL with the ticket's headers, then name the key in
    `POST /deliveries/{id}/messages`."""
    await visible(db, principal, delivery_id)
    return await issue_attachment_ticket(body, principal, settings, store, db, "/uploads/content/")


async def attachment(
    delivery_id: uuid.UUID,
    message_id: uuid.UUID,
    principal: Principal,
    db: DatabaseDep,
    store: ObjectStore,
) -> Response:
    await visible(db, principal, delivery_id)
    message = await db.read(conversations.get, delivery_id, message_id)
    if message is None or message.attachment_key is None:
        raise NotFound("no such attachment")
    return await deliveries_api.stored_object(
        store, message.attachment_key, "attachment", INLINE_TYPES
    )


@router.get(
    "/{delivery_id}/messages/{message_id}/attachment",
    response_class=Response,
    responses={200: {"description": "the bytes"}, 307: {"description": "a presigned URL"}},
)
async def get_attachment(
    delivery_id: uuid.UUID,
    message_id: uuid.UUID,
    principal: Reader,
    db: DatabaseDep,
    store: StoreDep,
) -> Response:
    """A message's attachment: a download (application/octet-stream), or inline as the
    JPEG or PNG image its bytes prove it is."""
    return await attachment(delivery_id, message_id, principal, db, store)
