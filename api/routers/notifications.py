"""The in-app inbox, and what each person wants by e-mail."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import DatabaseDep, UserDep
from api.schemas import Limit, NotificationPublic, Offset
from domain.notifications import EMAIL_GROUPS
from models import notifications
from nexus.errors import NotFound

router = APIRouter(prefix="/notifications", tags=["notifications"])


class UnreadCount(BaseModel):
    unread: int


class MarkedRead(BaseModel):
    marked: int = Field(description="how many notifications were unread")


class EmailChoices(BaseModel):
    """Which groups of notifications reach the person by e-mail too (each is in the inbox
    whatever it says). Left out: on."""

    model_config = ConfigDict(extra="forbid")
    applications: bool = Field(default=True, description=EMAIL_GROUPS["applications"])
    deliveries: bool = Field(default=True, description=EMAIL_GROUPS["deliveries"])
    money: bool = Field(default=True, description=EMAIL_GROUPS["money"])
    licenses: bool = Field(default=True, description=EMAIL_GROUPS["licenses"])
    messages: bool = Field(default=True, description=EMAIL_GROUPS["messages"])


class NotificationPreferences(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailChoices = Field(default_factory=EmailChoices)


@router.get("")
async def inbox(
    user: UserDep,
    db: DatabaseDep,
    unread: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[NotificationPublic]:
    """The caller's notifications, newest first."""
    assert user.user_id is not None
    user_id = user.user_id
    rows = await db.run(
        lambda s: notifications.inbox(s, user_id, unread_only=unread, limit=limit, offset=offset)
    )
    return [NotificationPublic.model_validate(n, from_attributes=True) for n in rows]


@router.get("/unread-count")
async def unread_count(user: UserDep, db: DatabaseDep) -> UnreadCount:
    assert user.user_id is not None
    return UnreadCount(unread=await db.run(notifications.unread_count, user.user_id))


@router.post("/read-all")
async def mark_all_read(user: UserDep, db: DatabaseDep) -> MarkedRead:
    """Mark every notification of the caller read."""
    assert user.user_id is not None
    user_id = user.user_id
    return MarkedRead(marked=await db.run(lambda s: notifications.mark_all_read(s, user_id)))


@router.post("/{notification_id}/read", status_code=204)
async def mark_read(notification_id: uuid.UUID, user: UserDep, db: DatabaseDep) -> Response:
    assert user.user_id is not None
    if not await db.run(notifications.mark_read, user.user_id, notification_id):
        raise NotFound("no such notification")
    return Response(status_code=204)


@router.get("/preferences")
async def preferences(user: UserDep, db: DatabaseDep) -> NotificationPreferences:
    """Which notifications reach the caller by e-mail; every one is in the inbox."""
    assert user.user_id is not None
    choices = await db.run(notifications.email_choices, user.user_id)
    return NotificationPreferences(email=EmailChoices(**choices))


@router.put("/preferences")
async def set_preferences(
    body: NotificationPreferences, user: UserDep, db: DatabaseDep
) -> NotificationPreferences:
    assert user.user_id is not None
    user_id = user.user_id
    await db.run(lambda s: notifications.set_email_choices(s, user_id, body.email.model_dump()))
    return body
