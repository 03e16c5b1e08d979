"""Idempotency keys: the first outcome of a mutating API request, per caller and key, kept for
24 hours so that a retry gets that outcome instead of doing the work again. Keys are stored
hashed and bodies as the API sealed them (they may carry secrets: a new API key)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import LargeBinary, UniqueConstraint, and_, delete, or_, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlmodel import Field, Session, SQLModel, col, select

from models.base import created_at_field, id_field, utcnow

TTL = timedelta(hours=24)
# A first request still unfinished after this long died with its process: a retry may run.
ABANDONED_AFTER = timedelta(minutes=5)


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("workspace_id", "actor_id", "key_hash"),)

    id: uuid.UUID = id_field()
    workspace_id: uuid.UUID
    actor_id: uuid.UUID
    key_hash: str = Field(max_length=64)
    method: str = Field(max_length=10)
    path: str = Field(max_length=2000)
    request_hash: str = Field(max_length=64)
    # None while the first request runs.
    status: int | None = None
    response_headers: list[list[str]] = Field(default_factory=list, sa_type=JSONB)
    response_body: bytes | None = Field(default=None, sa_type=LargeBinary)
    created_at: datetime = created_at_field()
    expires_at: datetime = created_at_field()


@dataclass(frozen=True)
class Request:
    """One request under a key: who sent it and what it asked."""

    workspace_id: uuid.UUID
    actor_id: uuid.UUID
    key_hash: str
    method: str
    path: str
    request_hash: str


@dataclass(frozen=True)
class Claimed:
    """This request is the first with its key: it runs, then its outcome is kept."""

    record_id: uuid.UUID


@dataclass(frozen=True)
class Stored:
    record_id: uuid.UUID
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class InProgress:
    """The first request with this key has not finished."""


class Mismatch:
    """The key was used for another request."""


Outcome = Claimed | Stored | InProgress | Mismatch


def claim(session: Session, request: Request) -> Outcome:
    """Insert an in-progress record for the key, or say what the key holds. Two requests at
    once: the unique index makes the second wait for the first's insert, then see it."""
    now = utcnow()
    same_key = (
        col(IdempotencyRecord.workspace_id) == request.workspace_id,
        col(IdempotencyRecord.actor_id) == request.actor_id,
        col(IdempotencyRecord.key_hash) == request.key_hash,
    )
    # The workspace's expired keys go as it uses new ones, so the table stays small.
    session.exec(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.workspace_id) == request.workspace_id,
            or_(
                col(IdempotencyRecord.expires_at) <= now,
                and_(
                    *same_key[1:],
                    col(IdempotencyRecord.status).is_(None),
                    col(IdempotencyRecord.created_at) <= now - ABANDONED_AFTER,
                ),
            ),
        )
    )
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "workspace_id": request.workspace_id,
        "actor_id": request.actor_id,
        "key_hash": request.key_hash,
        "method": request.method,
        "path": request.path,
        "request_hash": request.request_hash,
        "response_headers": [],
        "created_at": now,
        "expires_at": now + TTL,
    }
    inserted = session.exec(
        insert(IdempotencyRecord)
        .values(values)
        .on_conflict_do_nothing(index_elements=["workspace_id", "actor_id", "key_hash"])
        .returning(col(IdempotencyRecord.id))
    ).first()
    if inserted is not None:
        return Claimed(inserted[0])
    row = session.exec(select(IdempotencyRecord).where(*same_key)).first()
    if row is None:  # the first request failed and gave its key back a moment ago
        return InProgress()
    if (row.method, row.path, row.request_hash) != (
        request.method,
        request.path,
        request.request_hash,
    ):
        return Mismatch()
    if row.status is None:
        return InProgress()
    headers = [(k, v) for k, v in row.response_headers]
    return Stored(row.id, row.status, headers, row.response_body or b"")


def complete(session: Session, outcome: Stored) -> None:
    session.exec(
        update(IdempotencyRecord)
        .where(col(IdempotencyRecord.id) == outcome.record_id)
        .values(
            status=outcome.status,
            response_headers=[list(h) for h in outcome.headers],
            response_body=outcome.body,
        )
    )


def release(session: Session, record_id: uuid.UUID) -> None:
    """Forget the key: the first request failed in a way a retry may not, or its outcome can
    no longer be read."""
    session.exec(delete(IdempotencyRecord).where(col(IdempotencyRecord.id) == record_id))
