"""E-mail through any SMTP server (the standard library's client)."""

from __future__ import annotations

import hashlib
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import parseaddr

from domain.notifications import EMAIL_GROUPS, email_path, group_of
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
        email.set_content(self._text(message))
        return email

    def _text(self, message: Message) -> str:
        """The e-mail a person reads: their name, what happened, the portal page it is about,
        and where to choose what comes by e-mail."""
        portal = self._settings.portal_url.rstrip("/")
        name = " ".join(message.name.split())
        parts = [f"Hi {name}," if name else "Hello,", message.title]
        if message.body:
            parts.append(message.body)
        if message.link:
            parts.append(f"Open it in NEXUS: {portal}{email_path(message.link)}")
        group = group_of(message.kind)
        footer = "The NEXUS team"
        if group is not None and message.user_id is not None:
            footer += (
                f"\nYou get this e-mail because e-mail for {EMAIL_GROUPS[group].lower()} is on. "
                f"Choose what reaches you by e-mail: {portal}/portal/notifications/preferences"
            )
        parts.append(footer)
        return "\n\n".join(parts) + "\n"

    def deliver(self, messages: Sequence[Message]) -> None:
        settings = self._settings
        with smtplib.SMTP(self._host, settings.smtp_port, timeout=10) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            for message in messages:
                smtp.send_message(self._email(message))
