"""Column helpers shared by every table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def id_field() -> uuid.UUID:
    return Field(default_factory=new_id, primary_key=True)  # type: ignore[no-any-return]


def created_at_field() -> datetime:
    return Field(  # type: ignore[no-any-return]
        default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False
    )


def aware_datetime_field(*, nullable: bool = True) -> datetime | None:
    return Field(  # type: ignore[no-any-return]
        default=None, sa_type=DateTime(timezone=True), nullable=nullable
    )


def str_enum(enum_cls: type[StrEnum]) -> SAEnum:
    """A VARCHAR column of an enum's values that loads back as enum members."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
