"""Notification delivery port. The in-app inbox is the embedded default channel; e-mail goes
out too, for the kinds each person wants by e-mail."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine

from models.db import session_scope
from models.notifications import Notification, add_new, emailed
from nexus.settings import NotificationSettings

log = logging.getLogger(__name__)


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
    # The recipient's name, for the e-mail's greeting.
    name: str = ""


class Notifier(Protocol):
    def deliver(self, messages: Sequence[Message]) -> None:
        """Deliver each message once; a repeated call with the same event keys is a no-op for
        recipients with an inbox."""


class InAppInbox:
    """Writes messages to the users' inboxes in PostgreSQL (GET /notifications), and hands
    the ones not seen before whose kind their recipient wants by e-mail to `forward` (e-mail)
    inside the same transaction: a failed send rolls the inbox rows back so a retry sends
    again, and a retry after success sends nothing."""

    def __init__(self, engine: Engine, forward: Notifier | None = None) -> None:
        self._engine = engine
        self._forward = forward

    def in_app_only(self) -> InAppInbox:
        return InAppInbox(self._engine)

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
            if self._forward is None:
                return
            new = [m for m in messages if m.user_id is None or m.user_id in added]
            wanted = [m for m in new if emailed(session, m.user_id, m.kind)]
            if wanted:
                self._forward.deliver(wanted)


def deliver_now(notifier: Notifier, messages: Sequence[Message]) -> bool:
    """Deliver from a request, which cannot retry later: when e-mail fails, the messages still
    reach the inboxes (the failure is logged). False when e-mail failed."""
    try:
        notifier.deliver(messages)
    except OSError:
        log.warning("e-mail to %d recipients failed; delivered in-app only", len(messages),
                    exc_info=True)  # fmt: skip
        if isinstance(notifier, InAppInbox):
            notifier.in_app_only().deliver(messages)
        return False
    return True


def notifier_from_settings(engine: Engine, settings: NotificationSettings) -> Notifier:
    if settings.smtp_host is None:
        return InAppInbox(engine)
    from integrations.notifications.smtp import SmtpEmail

    return InAppInbox(engine, forward=SmtpEmail(settings))
