"""Notification delivery port. The in-app inbox is the embedded default channel."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine

from models.db import session_scope
from models.notifications import Notification, add_new
from nexus.settings import NotificationSettings


@dataclass(frozen=True)
class Message:
    """`user_id` None: the recipient has no account yet (an invitation), so there is no inbox
    to write to and the message goes out by e-mail only, when e-mail is configured."""

    event_key: str
    user_id: uuid.UUID | None
    email: str
    kind: str
    title: str
    body: str
    link: str


class Notifier(Protocol):
    def deliver(self, messages: Sequence[Message]) -> None:
        """Deliver each message once; a repeated call with the same event keys is a no-op for
        recipients with an inbox."""


class InAppInbox:
    """Writes messages to the users' inboxes in PostgreSQL (GET /notifications), and hands
    the ones not seen before to `forward` (e-mail) inside the same transaction: a failed send
    rolls the inbox rows back so a retry sends again, and a retry after success sends nothing."""

    def __init__(self, engine: Engine, forward: Notifier | None = None) -> None:
        self._engine = engine
        self._forward = forward

    def deliver(self, messages: Sequence[Message]) -> None:
        with session_scope(self._engine) as session:
            added = add_new(
                session,
                [
                    Notification(
                        event_key=m.event_key,
                        user_id=m.user_id,
                        kind=m.kind,
                        title=m.title,
                        body=m.body,
                        link=m.link,
                    )
                    for m in messages
                    if m.user_id is not None
                ],
            )
            new = [m for m in messages if m.user_id is None or m.user_id in added]
            if new and self._forward is not None:
                self._forward.deliver(new)


def notifier_from_settings(engine: Engine, settings: NotificationSettings) -> Notifier:
    if settings.smtp_host is None:
        return InAppInbox(engine)
    from integrations.notifications.smtp import SmtpEmail

    return InAppInbox(engine, forward=SmtpEmail(settings))
