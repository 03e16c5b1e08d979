"""E-mail through SMTP: one event to one recipient keeps one Message-ID, however often it is
sent, so a resend after a failure is recognisable as the same e-mail."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from email.message import Message as EmailMessage
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from integrations.notifications import Message
from integrations.notifications.smtp import SmtpEmail
from nexus.settings import NotificationSettings
from tests.support import free_port


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(BytesParser().parsebytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


def test_a_resent_email_has_the_message_id_of_the_first(smtp: tuple[Controller, Mailbox]) -> None:
    controller, mailbox = smtp
    email = SmtpEmail(
        NotificationSettings(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_starttls=False)
    )
    paid = Message(
        event_key="payout-p1:2:payout_sent", user_id=None, email="maya@example.com",
        kind="payout_sent", title="You've been paid", body="On its way.", link="",
    )  # fmt: skip
    email.deliver([paid])
    email.deliver([paid])  # the activity retried after its transaction failed
    email.deliver([dataclasses.replace(paid, email="tom@example.com")])
    email.deliver([dataclasses.replace(paid, event_key="payout-p2:2:payout_sent")])

    first, again, other_recipient, other_event = [m["Message-ID"] for m in mailbox.messages]
    assert first == again
    assert len({first, other_recipient, other_event}) == 3
    assert first.startswith("<") and first.endswith("@nexus.example>")
