"""Contract of the notification activity."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class Notify(BaseModel):
    """An event for people: to given users, and/or to a workspace's members in given roles."""

    event_key: str
    kind: str
    title: str
    body: str = ""
    link: str = ""
    user_ids: list[uuid.UUID] = Field(default_factory=list)
    workspace_id: uuid.UUID | None = None
    roles: list[str] = Field(default_factory=list)


class EmailSweep(BaseModel):
    """What one pass of the e-mail outbox's sweep did."""

    sent: int = 0
    failed: int = 0
    given_up: int = 0
    # The pass stopped at its batch size: more e-mails may be due.
    more: bool = False
