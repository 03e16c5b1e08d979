"""The e-mail outbox: e-mail is stored with the inbox rows, so a mail server that is down or
slow fails nothing and holds nothing up; the sweep sends what waits once the server is back,
each e-mail once however many senders run; what keeps failing is given up and ops are told."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import Message as EmailMessage
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine
from sqlmodel import Session as DbSession

from activities.notifications import NotificationActivities
from domain.enums import Role
from integrations.notifications import notifier_from_settings
from models.db import session_scope
from models.notifications import OutboxEmail, inbox, outbox_of, set_email_choices
from nexus.settings import NotificationSettings
from tests.support import Tenant, add_member, free_port, make_tenant
from workflows.contracts.notifications import Notify


class Mailbox:
    """An SMTP server's handler keeping what it accepts; `delay_s` makes it a slow server."""

    def __init__(self, delay_s: float = 0) -> None:
        self.messages: list[EmailMessage] = []
        self.delay_s = delay_s

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        self.messages.append(BytesParser().parsebytes(envelope.content))
        return "250 OK"

    def ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


class MailServer:
    """A mail server on a fixed port that is down until started."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.port = free_port()
        self.mailbox = mailbox
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def server() -> Iterator[MailServer]:
    mail = MailServer(Mailbox())
    yield mail
    mail.stop()


def settings_for(port: int, **outbox: float) -> NotificationSettings:
    # A sweep every second: the first retry is due a second after the first try.
    values = {"outbox_sweep_s": 1, **outbox}
    return NotificationSettings(
        smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, **values
    )


def activities_for(engine: Engine, settings: NotificationSettings) -> NotificationActivities:
    return NotificationActivities(engine, notifier_from_settings(engine, settings))


def event_for(
    *tenants: Tenant, kind: str = "draft_ready", title: str = "A draft is ready"
) -> Notify:
    return Notify(
        event_key=f"delivery-{uuid.uuid4()}:3:{kind}", kind=kind, title=title,
        body="Approve it or request a revision.", link="/deliveries/x",
        user_ids=[t.user_id for t in tenants],
    )  # fmt: skip


def outbox(engine: Engine, event: Notify) -> list[OutboxEmail]:
    with DbSession(engine) as session:
        return outbox_of(session, event.event_key)


async def test_a_mail_server_outage_fails_nothing_and_the_sweep_sends_the_email_once_back(
    engine: Engine, server: MailServer
) -> None:
    brand = make_tenant(engine)
    activities = activities_for(engine, settings_for(server.port))
    event = event_for(brand)

    assert activities.notify(event) == 1  # the server is down: the event is delivered anyway
    assert activities.notify(event) == 1  # an activity retry adds nothing
    with DbSession(engine) as session:
        assert [n.title for n in inbox(session, brand.user_id, unread_only=True, limit=5)] == [
            "A draft is ready"
        ]
    [waiting] = outbox(engine, event)
    assert (waiting.email, waiting.attempts, waiting.sent_at) == (brand.email, 1, None)
    assert waiting.last_error == (
        "The mail server refused the connection (it is not running or not listening)"
    )
    assert waiting.last_attempt_at is not None and waiting.next_attempt_at > waiting.last_attempt_at

    server.start()
    await asyncio.sleep(1.2)  # the first retry is due after one sweep interval
    swept = activities.send_due_email()
    assert (swept.sent, swept.failed, swept.more) == (1, 0, False)
    [sent] = outbox(engine, event)
    assert sent.sent_at is not None and sent.attempts == 2
    [email] = server.mailbox.messages
    assert (email["To"], email["Subject"]) == (brand.email, "A draft is ready")
    assert email["Message-ID"] == sent.message_id  # the same e-mail as the one first tried

    # Accepted once, never again: not by the next sweeps, not by a repeated event.
    assert activities.send_due_email().sent == 0
    assert activities.notify(event) == 1
    await asyncio.sleep(1.2)
    assert activities.send_due_email().sent == 0
    assert server.mailbox.ids() == [sent.message_id]


async def test_with_the_server_up_the_email_goes_out_at_once(
    engine: Engine, server: MailServer
) -> None:
    server.start()
    brand = make_tenant(engine)
    event = event_for(brand)
    activities_for(engine, settings_for(server.port)).notify(event)
    [sent] = outbox(engine, event)
    assert sent.sent_at is not None and sent.attempts == 1 and sent.last_error == ""
    assert server.mailbox.ids() == [sent.message_id]


async def test_a_muted_kind_gets_no_outbox_row(engine: Engine, server: MailServer) -> None:
    server.start()
    admin = make_tenant(engine)
    member = add_member(engine, admin, Role.BRAND_MEMBER)
    with session_scope(engine) as session:
        set_email_choices(session, member.user_id, {"money": False})
    event = event_for(admin, member, kind="funding_confirmed", title="Your funding arrived")

    assert activities_for(engine, settings_for(server.port)).notify(event) == 2
    assert [row.email for row in outbox(engine, event)] == [admin.email]
    assert [m["To"] for m in server.mailbox.messages] == [admin.email]
    with DbSession(engine) as session:  # in the muted member's inbox all the same
        assert [n.kind for n in inbox(session, member.user_id, unread_only=True, limit=5)] == [
            "funding_confirmed"
        ]


async def test_two_senders_at_once_send_each_email_once(engine: Engine) -> None:
    server = MailServer(Mailbox(delay_s=0.05))  # slow enough for the senders to overlap
    settings = settings_for(server.port, outbox_batch=20)
    activities = activities_for(engine, settings)
    brands = [make_tenant(engine) for _ in range(8)]
    events = [event_for(brand) for brand in brands]
    for event in events:
        activities.notify(event)  # the server is down: all eight wait
    try:
        server.start()
        await asyncio.sleep(1.2)
        with ThreadPoolExecutor(2) as pool:
            first, second = [pool.submit(activities.send_due_email) for _ in range(2)]
            total = first.result().sent + second.result().sent
    finally:
        server.stop()
    assert total == 8
    ids = server.mailbox.ids()
    assert len(ids) == len(set(ids)) == 8
    assert sorted(m["To"] for m in server.mailbox.messages) == sorted(b.email for b in brands)


async def test_a_slow_mail_server_does_not_hold_up_the_delivery(engine: Engine) -> None:
    server = MailServer(Mailbox(delay_s=1.5))
    settings = settings_for(server.port, send_wait_s=0.2)
    brand = make_tenant(engine)
    event = event_for(brand)
    try:
        server.start()
        started = time.monotonic()
        activities_for(engine, settings).notify(event)
        assert time.monotonic() - started < 1.2  # not the 1.5 s the server takes
        with DbSession(engine) as session:
            assert len(inbox(session, brand.user_id, unread_only=True, limit=5)) == 1

        async def sent() -> bool:
            return outbox(engine, event)[0].sent_at is not None

        deadline = time.monotonic() + 10
        while not await sent():
            assert time.monotonic() < deadline, "the slow send never finished"
            await asyncio.sleep(0.1)
    finally:
        server.stop()
    assert [m["To"] for m in server.mailbox.messages] == [brand.email]


async def test_an_email_failing_past_the_give_up_time_is_given_up_and_ops_are_told(
    engine: Engine, server: MailServer
) -> None:
    ops = make_tenant(engine, Role.OPS)
    brand = make_tenant(engine)
    activities = activities_for(engine, settings_for(server.port, outbox_give_up_h=1 / 3600))
    event = event_for(brand, title="Your draft was approved")
    activities.notify(event)
    assert activities.give_up_email() == 0  # not failing for long enough yet

    await asyncio.sleep(1.2)
    assert activities.send_due_email().failed == 1  # still down, past the give-up time
    assert activities.give_up_email() == 1
    [given_up] = outbox(engine, event)
    assert given_up.given_up_at is not None and given_up.sent_at is None

    with DbSession(engine) as session:
        [alert] = inbox(session, ops.user_id, unread_only=True, limit=5)
    assert alert.kind == "email_failed"
    assert alert.title == "An e-mail could not be sent for 1 second and was given up"
    # Why, what, to whom (their name and address) and how often it was tried, in words.
    assert alert.body.startswith(
        "The mail server refused the connection (it is not running or not listening). "
        "Not sent: “Your draft was approved” to User "
    )
    assert f"<{brand.email}> (tried 2 times)." in alert.body

    # Given up: no more tries, no second alert, even once the server is back.
    server.start()
    await asyncio.sleep(1.2)
    assert activities.send_due_email().sent == 0
    assert activities.give_up_email() == 0
    assert server.mailbox.messages == []
    with DbSession(engine) as session:
        assert len(inbox(session, ops.user_id, unread_only=False, limit=5)) == 1


def test_without_smtp_there_is_no_outbox_and_the_sweep_has_nothing_to_do(engine: Engine) -> None:
    brand = make_tenant(engine)
    activities = activities_for(engine, NotificationSettings())
    event = event_for(brand)
    assert activities.notify(event) == 1
    assert outbox(engine, event) == []
    assert activities.send_due_email().sent == 0 and activities.give_up_email() == 0
