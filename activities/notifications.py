"""Notification activities: resolve recipients and hand messages to the notifier port (inbox
rows and the e-mail outbox, then one try at the e-mail); and the outbox's sweep, which sends
the e-mail that is due and gives up what has failed for too long."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from integrations.notifications import InAppInbox, Message, Notifier
from models.db import session_scope
from models.workspaces import users_by_ids, users_in_roles
from workflows.contracts.notifications import EmailSweep, Notify


class NotificationActivities:
    def __init__(self, engine: Engine, notifier: Notifier) -> None:
        self._engine = engine
        self._notifier = notifier
        self._outbox = notifier.outbox if isinstance(notifier, InAppInbox) else None

    @activity.defn(name="notifications.notify")
    def notify(self, event: Notify) -> int:
        """Inbox rows and outbox e-mail in one transaction; a mail server that is down or slow
        does not fail this (the sweep sends the e-mail later)."""
        with session_scope(self._engine) as session:
            users = {u.id: u for u in users_by_ids(session, event.user_ids)}
            if event.workspace_id is not None:
                users |= {u.id: u for u in users_in_roles(session, event.workspace_id, event.roles)}
        messages = [
            Message(
                event_key=event.event_key,
                user_id=user.id,
                email=user.email,
                kind=event.kind,
                title=event.title,
                body=event.body,
                link=event.link,
                name=user.name,
            )
            for user in users.values()
        ]
        self._notifier.deliver(messages)
        return len(messages)

    @activity.defn(name="notifications.send_due_email")
    def send_due_email(self) -> EmailSweep:
        """One batch of the outbox's due e-mail; nothing without an SMTP server."""
        if self._outbox is None:
            return EmailSweep()
        attempted = self._outbox.send_due()
        return EmailSweep(sent=attempted.sent, failed=attempted.failed, more=attempted.more)

    @activity.defn(name="notifications.give_up_email")
    def give_up_email(self) -> int:
        """Give up e-mail that kept failing for too long, telling ops in their inbox."""
        return 0 if self._outbox is None else self._outbox.give_up()
