"""The audit log: who changed what, when and from where. Rows are only ever appended: a
trigger (migration 0012) refuses UPDATE and DELETE, like the rights ledger's."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, ColumnElement, DateTime, Select, Table, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, Session, SQLModel, col

from models.base import id_field, str_enum, utcnow


class ActorKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    ANONYMOUS = "anonymous"
    # The platform's own durable processes (workflow activities).
    SYSTEM = "system"


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"

    id: uuid.UUID = id_field()
    at: datetime = Field(
        default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False, index=True
    )
    actor_kind: ActorKind = Field(sa_type=str_enum(ActorKind))
    actor_id: uuid.UUID | None = Field(default=None, index=True)
    # Names as they were when it happened: the log outlives renames and deletions, so it
    # references nothing with a foreign key either.
    actor_name: str = Field(max_length=320)
    workspace_id: uuid.UUID | None = Field(default=None, index=True)
    action: str = Field(max_length=100, index=True)
    description: str = Field(max_length=300)
    target_type: str | None = Field(default=None, max_length=50)
    target_id: str | None = Field(default=None, max_length=255)
    target_name: str | None = Field(default=None, max_length=300)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)
    request_id: str | None = Field(default=None, max_length=100)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB)


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: uuid.UUID | None = None
    name: str = ""


SYSTEM = Actor(ActorKind.SYSTEM, name="system")
ANONYMOUS = Actor(ActorKind.ANONYMOUS, name="anonymous")


@dataclass(frozen=True)
class Target:
    type: str
    id: str
    name: str | None = None


@dataclass(frozen=True)
class Origin:
    """Where a request came from."""

    ip: str | None
    user_agent: str | None
    request_id: str | None


def record(
    session: Session,
    action: str,
    description: str,
    *,
    workspace_id: uuid.UUID | None,
    target: Target | None = None,
    actor: Actor = SYSTEM,
    origin: Origin | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append one event in the caller's transaction: it commits, or vanishes, with the change
    it describes. A target without a name gets the name it has now."""
    target_name = None if target is None else target.name or named(session, target)
    session.add(
        AuditEvent(
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_name=actor.name[:320],
            workspace_id=workspace_id,
            action=action,
            description=description[:300],
            target_type=target.type if target else None,
            target_id=target.id if target else None,
            target_name=target_name[:300] if target_name else None,
            ip=origin.ip if origin else None,
            user_agent=origin.user_agent[:500] if origin and origin.user_agent else None,
            request_id=origin.request_id if origin else None,
            # UUIDs, datetimes and enums as their text: JSONB takes only JSON.
            details=json.loads(json.dumps(dict(details or {}), default=str)),
        )
    )


# -- names -----------------------------------------------------------------------------------


def _table(name: str) -> Table:
    table: Table = SQLModel.metadata.tables[name]
    return table


def _column(table: str, column: str) -> Column[Any]:
    found: Column[Any] = _table(table).c[column]
    return found


# What a target of each type is called: its own column, or the title of its campaign.
_OWN_NAME = {
    "campaign": ("campaigns", "title"),
    "brand": ("brands", "name"),
    "api_key": ("api_keys", "name"),
    "invitation": ("invitations", "email"),
    "creator": ("creator_profiles", "display_name"),
    "workspace": ("workspaces", "name"),
    "link": ("portfolio_links", "title"),
    "user": ("users", "name"),
}
_CAMPAIGN_OF = {
    "delivery": "deliveries",
    "application": "applications",
    "funding": "fundings",
    "license": "licenses",
    "payout": "payouts",
}


def _name_query(target_type: str, key: object) -> Select[tuple[Any]] | None:
    if target_type in _OWN_NAME:
        table, column = _OWN_NAME[target_type]
        return select(_column(table, column)).where(_column(table, "id") == key)
    if target_type in _CAMPAIGN_OF:
        table = _CAMPAIGN_OF[target_type]
        title = _column("campaigns", "title")
        return (
            select(title)
            .join(_table(table), _column(table, "campaign_id") == _column("campaigns", "id"))
            .where(_column(table, "id") == key)
        )
    return None


def named(session: Session, target: Target) -> str | None:
    key: object = target.id
    if target.type != "payout":  # payouts are named by their workflow ID, every other by UUID
        try:
            key = uuid.UUID(target.id)
        except ValueError:
            return None
    query = _name_query(target.type, key)
    if query is None:
        return None
    found = session.execute(query).first()
    return None if found is None else str(found[0])


def actor_named(session: Session, user_id: uuid.UUID | None, api_key_id: uuid.UUID | None) -> Actor:
    if user_id is not None:
        return Actor(ActorKind.USER, user_id, named(session, Target("user", str(user_id))) or "")
    if api_key_id is not None:
        name = named(session, Target("api_key", str(api_key_id))) or ""
        return Actor(ActorKind.API_KEY, api_key_id, name)
    return ANONYMOUS


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    workspace_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    actor_kind: ActorKind | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.workspace_id is not None:
            conditions.append(col(AuditEvent.workspace_id) == self.workspace_id)
        if self.actor_id is not None:
            conditions.append(col(AuditEvent.actor_id) == self.actor_id)
        if self.actor_kind is not None:
            conditions.append(col(AuditEvent.actor_kind) == self.actor_kind)
        if self.action is not None:
            conditions.append(col(AuditEvent.action) == self.action)
        if self.since is not None:
            conditions.append(col(AuditEvent.at) >= self.since)
        if self.until is not None:
            conditions.append(col(AuditEvent.at) < self.until)
        return conditions


@dataclass(frozen=True)
class Listed:
    event: AuditEvent
    workspace_name: str | None


def search(session: Session, where: AuditFilter, *, limit: int, offset: int) -> list[Listed]:
    """Newest first, with the workspace's name."""
    workspace = _column("workspaces", "name")
    query = (
        select(AuditEvent, workspace)
        .outerjoin(_table("workspaces"), _column("workspaces", "id") == AuditEvent.workspace_id)
        .where(*where.conditions())
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return [Listed(event, name) for event, name in session.execute(query).all()]


@dataclass(frozen=True)
class Choices:
    """What the ops view offers to filter by, by name."""

    workspaces: list[tuple[uuid.UUID, str]]
    actors: list[tuple[uuid.UUID, str, ActorKind]]
    actions: list[tuple[str, str]]


def choices(session: Session) -> Choices:
    workspace_id, workspace_name = _column("workspaces", "id"), _column("workspaces", "name")
    workspaces = session.execute(
        select(workspace_id, workspace_name)
        .where(workspace_id.in_(select(col(AuditEvent.workspace_id)).distinct()))
        .order_by(workspace_name)
    ).all()
    actor_name = func.max(col(AuditEvent.actor_name))
    actors = session.execute(
        select(col(AuditEvent.actor_id), actor_name, col(AuditEvent.actor_kind))
        .where(col(AuditEvent.actor_id).is_not(None))
        .group_by(col(AuditEvent.actor_id), col(AuditEvent.actor_kind))
        .order_by(actor_name)
    ).all()
    words = func.min(col(AuditEvent.description))
    actions = session.execute(
        select(col(AuditEvent.action), words).group_by(col(AuditEvent.action)).order_by(words)
    ).all()
    return Choices(
        workspaces=[(w, n) for w, n in workspaces],
        actors=[(a, n, k) for a, n, k in actors if a is not None],
        actions=[(a, d) for a, d in actions],
    )
