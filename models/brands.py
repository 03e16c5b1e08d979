"""Brands belong to a brand or agency workspace (an agency runs several)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, Session, SQLModel, select

from models.base import created_at_field, id_field


class Brand(SQLModel, table=True):
    __tablename__ = "brands"

    id: uuid.UUID = id_field()
    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True)
    name: str = Field(max_length=200)
    website: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()


def get_brand(session: Session, workspace_id: uuid.UUID, brand_id: uuid.UUID) -> Brand | None:
    return session.exec(
        select(Brand).where(Brand.id == brand_id, Brand.workspace_id == workspace_id)
    ).first()


def list_brands(session: Session, workspace_id: uuid.UUID) -> list[Brand]:
    return list(
        session.exec(
            select(Brand).where(Brand.workspace_id == workspace_id).order_by(Brand.name)
        ).all()
    )
