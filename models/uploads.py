"""Upload tickets: every key a client may send bytes to, as `POST /uploads` issued it.

A key that has no ticket is never written, completed or submitted; the ticket keeps what the
uploader declared (type and exact size) so the bytes can be held to it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime
from sqlmodel import Field, Session, SQLModel

from models.base import created_at_field


class UploadTicket(SQLModel, table=True):
    __tablename__ = "upload_tickets"

    key: str = Field(primary_key=True, max_length=1024)
    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True)
    uploader_id: uuid.UUID = Field(foreign_key="users.id")
    content_type: str = Field(max_length=100)
    size_bytes: int = Field(sa_type=BigInteger)
    # The S3 multipart upload the ticket opened, if any: only it may complete the key.
    upload_id: str | None = Field(default=None, max_length=1024)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))


def issue(session: Session, ticket: UploadTicket) -> None:
    session.add(ticket)
    session.flush()


def issued(session: Session, workspace_id: uuid.UUID, key: str) -> UploadTicket | None:
    """The workspace's ticket for `key`; another workspace's ticket is as if none existed."""
    row = session.get(UploadTicket, key)
    return row if row is not None and row.workspace_id == workspace_id else None
