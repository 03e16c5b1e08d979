"""Notification delivery port. The in-app inbox is the embedded default channel; e-mail goes
out too, for the kinds each person wants by e-mail, through an outbox stored with the inbox
rows (integrations.notifications.outbox)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Engine

from models.db import session_scope
from models.notifications import Notification, add_new, emailed, enqueue_emails
from nexus.settings import NotificationSettings

if TYPE_CHECKING:
    from integrations.notifications.outbox import EmailOutbox

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
        """Deliver each message once; a repeated call with the same event keys is a no-op."""


class InAppInbox:
    """Writes messages to the users' inboxes in PostgreSQL (GET /notifications) and, for the
    recipients who want their kind by e-mail, to the e-mail outbox, in one transaction; then
    tries the new e-mails once (`EmailOutbox.send_soon`). A mail server that is down or slow
    never fails or holds up the delivery: its e-mails wait in the outbox for the sweep. A
    repeated delivery with the same event keys adds nothing and sends nothing."""

    def __init__(self, engine: Engine, outbox: EmailOutbox | None = None) -> None:
        self._engine = engine
        self._outbox = outbox

    @property
    def outbox(self) -> EmailOutbox | None:
        """Where e-mail waits to be sent; None when no SMTP server is configured."""
        return self._outbox

    def deliver(self, messages: Sequence[Message]) -> None:
        outbox = self._outbox
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
            if outbox is None:
                return
            new = [m for m in messages if m.user_id is None or m.user_id in added]
            wanted = [m for m in new if emailed(session, m.user_id, m.kind)]
            queued = enqueue_emails(session, outbox.rows(wanted))
        outbox.send_soon(queued)


def deliver_now(notifier: Notifier, messages: Sequence[Message]) -> bool:
    """Deliver from a request. The inbox takes the messages and their e-mail waits in the
    outbox, so a mail server that is down costs nothing here (the sweep sends later); kept
    for callers that ask whether delivery raised on the way (False: e-mail failed at once)."""
    try:
        notifier.deliver(messages)
    except OSError:
        log.warning("e-mail to %d recipients failed", len(messages), exc_info=True)
        return False
    return True


def notifier_from_settings(engine: Engine, settings: NotificationSettings) -> InAppInbox:
    if settings.smtp_host is None:
        return InAppInbox(engine)
    from integrations.notifications.outbox import EmailOutbox
    from integrations.notifications.smtp import SmtpEmail

    return InAppInbox(engine, outbox=EmailOutbox(engine, SmtpEmail(settings), settings))
