"""Media assets: the bytes live in object storage; rows hold keys and facts about them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field


class Asset(SQLModel, table=True):
    __tablename__ = "assets"

    id: uuid.UUID = id_field()
    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True)
    deliverable_id: uuid.UUID | None = Field(
        default=None, foreign_key="deliverables.id", index=True
    )
    object_key: str = Field(max_length=1024, unique=True)
    content_type: str = Field(max_length=100)
    size_bytes: int = Field(sa_type=BigInteger)
    sha256: str = Field(max_length=64)
    created_at: datetime = created_at_field()
