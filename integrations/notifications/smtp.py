"""E-mail through any SMTP server (the standard library's client), and the words for why a
send failed."""

from __future__ import annotations

import hashlib
import smtplib
import socket
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import parseaddr

from domain.notifications import EMAIL_GROUPS, email_path, group_of
from integrations.notifications import Message
from nexus.settings import NotificationSettings


def failure_words(exc: BaseException) -> str:
    """Why a send failed, in words for the people who read the outbox and its alerts."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = [
            f"{code} {reply.decode(errors='replace')}".strip()
            for code, reply in exc.recipients.values()
        ]
        return f"The mail server refused the recipient: {'; '.join(answers)}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "The mail server closed the connection before the e-mail was accepted"
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error
        if isinstance(reply, bytes):
            reply = reply.decode(errors="replace")
        return f"The mail server did not accept the e-mail: {exc.smtp_code} {reply}".strip()
    if isinstance(exc, ConnectionRefusedError):
        return "The mail server refused the connection (it is not running or not listening)"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "The mail server did not answer in time"
    if isinstance(exc, socket.gaierror):
        return f"The mail server's name could not be resolved: {exc.strerror or exc}"
    if isinstance(exc, OSError):
        return f"The mail server could not be reached: {exc.strerror or exc}"
    return f"The e-mail could not be sent: {exc}"


class SmtpEmail:
    def __init__(self, settings: NotificationSettings) -> None:
        assert settings.smtp_host is not None
        self._settings = settings
        self._host = settings.smtp_host

    def message_id(self, event_key: str, address: str) -> str:
        """One event to one recipient is one Message-ID: a resend after a failure is
        recognisable as the same e-mail, by receivers and by audits."""
        digest = hashlib.sha256(f"{event_key}\n{address}".encode()).hexdigest()
        domain = parseaddr(self._settings.sender)[1].rpartition("@")[2] or "nexus"
        return f"<{digest[:32]}@{domain}>"

    def compose(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self._settings.sender
        email["To"] = message.email
        email["Subject"] = message.title
        email["Message-ID"] = self.message_id(message.event_key, message.email)
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

    def connect(self) -> smtplib.SMTP:
        """A session with the server, TLS and login done; the caller closes it (`quit`)."""
        settings = self._settings
        smtp = smtplib.SMTP(self._host, settings.smtp_port, timeout=settings.smtp_timeout_s)
        try:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def deliver(self, messages: Sequence[Message]) -> None:
        """Send at once; raises on the first failure (the outbox sends with retries)."""
        smtp = self.connect()
        with smtp:
            for message in messages:
                smtp.send_message(self.compose(message))
