"""Notification activity: resolves recipients, then hands messages to the notifier port."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from integrations.notifications import Message, Notifier
from models.db import session_scope
from models.workspaces import users_by_ids, users_in_roles
from workflows.contracts.notifications import Notify


class NotificationActivities:
    def __init__(self, engine: Engine, notifier: Notifier) -> None:
        self._engine = engine
        self._notifier = notifier

    @activity.defn(name="notifications.notify")
    def notify(self, event: Notify) -> int:
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
