"""The audit log for ops: newest first, filtered, as JSON pages or a CSV export."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel

from api.deps import DatabaseDep, Principal, allow
from domain.enums import Role
from models import audit

router = APIRouter(prefix="/ops", tags=["ops"])
Ops = Annotated[Principal, Depends(allow(Role.OPS))]
EXPORT_LIMIT = 100_000


class AuditEventPublic(BaseModel):
    id: uuid.UUID
    at: datetime
    actor_kind: audit.ActorKind
    actor_id: uuid.UUID | None
    actor_name: str
    workspace_id: uuid.UUID | None
    workspace_name: str | None
    action: str
    description: str
    target_type: str | None
    target_id: str | None
    target_name: str | None
    ip: str | None
    user_agent: str | None
    request_id: str | None
    details: dict[str, object]


class AuditPage(BaseModel):
    limit: int
    offset: int
    items: list[AuditEventPublic]


def public(listed: audit.Listed) -> AuditEventPublic:
    event = listed.event
    return AuditEventPublic(
        **event.model_dump(exclude={"at"}),
        at=event.at.astimezone(UTC),
        workspace_name=listed.workspace_name,
    )


class AuditQuery(BaseModel):
    workspace_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    actor_kind: audit.ActorKind | None = None
    action: str | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None

    def filter(self) -> audit.AuditFilter:
        return audit.AuditFilter(**self.model_dump())


_COLUMNS = [
    "at", "workspace", "actor_kind", "actor", "actor_id", "action", "description",
    "target_type", "target", "target_id", "ip", "user_agent", "request_id", "details",
]  # fmt: skip


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting like a formula.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(rows: list[audit.Listed]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_COLUMNS)
    for row in rows:
        e = row.event
        writer.writerow(
            _cell(v)
            for v in (
                e.at.astimezone(UTC).isoformat(), row.workspace_name, e.actor_kind.value,
                e.actor_name, e.actor_id, e.action, e.description, e.target_type, e.target_name,
                e.target_id,
                e.ip, e.user_agent, e.request_id, json.dumps(e.details, sort_keys=True),
            )
        )  # fmt: skip
    return out.getvalue()


@router.get(
    "/audit",
    response_model=AuditPage,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def audit_log(
    ops: Ops,
    db: DatabaseDep,
    query: Annotated[AuditQuery, Depends()],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> AuditPage | Response:
    """Every recorded state change, newest first: who (user, API key or the platform's own
    processes), what, on which target, when and from where. `format=csv` exports every
    matching event (up to 100,000) instead of one page."""
    where = query.filter()
    if output == "csv":
        rows = await db.run(lambda s: audit.search(s, where, limit=EXPORT_LIMIT, offset=0))
        return Response(
            to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    rows = await db.run(lambda s: audit.search(s, where, limit=limit, offset=offset))
    return AuditPage(limit=limit, offset=offset, items=[public(r) for r in rows])
