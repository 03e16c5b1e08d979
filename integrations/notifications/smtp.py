"""E-mail through any SMTP server (the standard library's client)."""

from __future__ import annotations

import hashlib
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import parseaddr

from integrations.notifications import Message
from nexus.settings import NotificationSettings


class SmtpEmail:
    def __init__(self, settings: NotificationSettings) -> None:
        assert settings.smtp_host is not None
        self._settings = settings
        self._host = settings.smtp_host

    def _email(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self._settings.sender
        email["To"] = message.email
        email["Subject"] = message.title
        # One event to one recipient is one Message-ID: a resend after a failure is
        # recognisable as the same e-mail, by receivers and by audits.
        digest = hashlib.sha256(f"{message.event_key}\n{message.email}".encode()).hexdigest()
        domain = parseaddr(self._settings.sender)[1].rpartition("@")[2] or "nexus"
        email["Message-ID"] = f"<{digest[:32]}@{domain}>"
        link = f"{self._settings.portal_url}{message.link}" if message.link else ""
        email.set_content("\n\n".join(part for part in (message.body, link) if part))
        return email

    def deliver(self, messages: Sequence[Message]) -> None:
        settings = self._settings
        with smtplib.SMTP(self._host, settings.smtp_port, timeout=10) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            for message in messages:
                smtp.send_message(self._email(message))
