"""The in-app inbox."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from api.deps import DatabaseDep, UserDep
from api.schemas import Limit, NotificationPublic
from models import notifications
from nexus.errors import NotFound

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("")
async def inbox(
    user: UserDep,
    db: DatabaseDep,
    unread: bool = False,
    limit: Limit = 50,
) -> list[NotificationPublic]:
    assert user.user_id is not None
    user_id = user.user_id
    rows = await db.run(lambda s: notifications.inbox(s, user_id, unread_only=unread, limit=limit))
    return [NotificationPublic.model_validate(n, from_attributes=True) for n in rows]


@router.post("/{notification_id}/read", status_code=204)
async def mark_read(notification_id: uuid.UUID, user: UserDep, db: DatabaseDep) -> Response:
    assert user.user_id is not None
    if not await db.run(notifications.mark_read, user.user_id, notification_id):
        raise NotFound("no such notification")
    return Response(status_code=204)
