from __future__ import annotations

import uuid
from email.message import Message as EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine
from sqlmodel import Session as DbSession
from sqlmodel import select

from activities.notifications import NotificationActivities
from domain.enums import Role
from integrations.notifications import notifier_from_settings
from models.notifications import Notification, outbox_of
from models.workspaces import User
from nexus.settings import NotificationSettings
from tests.support import Tenant, add_member, free_port, make_tenant
from workflows.contracts.notifications import Notify


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(BytesParser().parsebytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Any:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


def settings_for(port: int) -> NotificationSettings:
    return NotificationSettings(
        smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, portal_url="https://app.test"
    )


def member_name(engine: Engine, tenant: Tenant) -> str:
    with DbSession(engine) as session:
        user = session.get(User, tenant.user_id)
        assert user is not None
        return user.name


def inbox_rows(engine: Engine, event_key: str) -> list[Notification]:
    with DbSession(engine) as session:
        return list(session.exec(select(Notification).where(Notification.event_key == event_key)))


async def test_brand_members_get_inbox_rows_and_one_email_each_even_when_retried(
    engine: Engine, smtp: Any
) -> None:
    controller, mailbox = smtp
    admin = make_tenant(engine, Role.BRAND_ADMIN)
    member = add_member(engine, admin, Role.BRAND_MEMBER)
    add_member(engine, admin, Role.OPS)  # not a recipient of brand notifications
    activities = NotificationActivities(
        engine, notifier_from_settings(engine, settings_for(controller.port))
    )
    event = Notify(
        event_key=f"delivery-x:1:{uuid.uuid4()}",
        kind="draft_ready",
        title="A draft is ready for your review",
        body="Approve it or request a revision.",
        link="/deliveries/x",
        workspace_id=admin.workspace_id,
        roles=["brand_admin", "brand_member"],
    )

    assert activities.notify(event) == 2
    assert activities.notify(event) == 2  # an activity retry

    assert sorted(m["To"] for m in mailbox.messages) == sorted([admin.email, member.email])
    assert {m["Subject"] for m in mailbox.messages} == {"A draft is ready for your review"}
    # Each e-mail greets its reader by name and links to the portal page it is about.
    by_recipient = {m["To"]: m.get_payload() for m in mailbox.messages}
    assert by_recipient[member.email].startswith(f"Hi {member_name(engine, member)},")
    assert (
        "Open it in NEXUS: https://app.test/portal/open/deliveries/x" in by_recipient[admin.email]
    )
    assert {r.user_id for r in inbox_rows(engine, event.event_key)} == {
        admin.user_id,
        member.user_id,
    }


async def test_a_failed_send_keeps_the_inbox_row_and_the_email_waits_in_the_outbox(
    engine: Engine,
) -> None:
    tenant = make_tenant(engine)
    closed_port = free_port()
    activities = NotificationActivities(
        engine, notifier_from_settings(engine, settings_for(closed_port))
    )
    event = Notify(
        event_key=f"campaign-y:1:{uuid.uuid4()}", kind="application", title="New application",
        user_ids=[tenant.user_id],
    )  # fmt: skip
    assert activities.notify(event) == 1  # the mail server being down fails nothing
    assert [r.title for r in inbox_rows(engine, event.event_key)] == ["New application"]
    with DbSession(engine) as session:
        [waiting] = outbox_of(session, event.event_key)
    assert (waiting.email, waiting.attempts, waiting.sent_at) == (tenant.email, 1, None)
    assert waiting.last_error.startswith("The mail server refused the connection")


async def test_without_smtp_the_inbox_is_the_only_channel(engine: Engine) -> None:
    tenant = make_tenant(engine)
    activities = NotificationActivities(
        engine, notifier_from_settings(engine, NotificationSettings())
    )
    event = Notify(
        event_key=f"k:{uuid.uuid4()}", kind="x", title="Hello", user_ids=[tenant.user_id]
    )
    assert activities.notify(event) == 1
    assert [r.title for r in inbox_rows(engine, event.event_key)] == ["Hello"]
