"""Notification delivery port. The in-app inbox is the embedded default channel."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine

from models.db import session_scope
from models.notifications import Notification, add_once


@dataclass(frozen=True)
class Message:
    event_key: str
    user_id: uuid.UUID
    email: str
    kind: str
    title: str
    body: str
    link: str


class Notifier(Protocol):
    def deliver(self, messages: Sequence[Message]) -> None:
        """Deliver each message once; a repeated call with the same event keys is a no-op."""


class InAppInbox:
    """Writes messages to the users' inboxes in PostgreSQL (GET /notifications)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def deliver(self, messages: Sequence[Message]) -> None:
        with session_scope(self._engine) as session:
            for m in messages:
                add_once(
                    session,
                    Notification(
                        event_key=m.event_key,
                        user_id=m.user_id,
                        kind=m.kind,
                        title=m.title,
                        body=m.body,
                        link=m.link,
                    ),
                )
