"""The e-mail outbox's sender. E-mail is stored (models.notifications.OutboxEmail) in the
transaction that stores the event's inbox rows; this sends it afterwards: once right away,
and again from the periodic sweep while the SMTP server is down or slow, backing off, until
the server accepts it or a day has passed (then ops are told in their inbox).

Each e-mail is sent under its row's lock (`FOR UPDATE SKIP LOCKED`), one transaction per
e-mail, and marked sent in that transaction once the server accepted it: two senders never
send one e-mail at once, and an accepted e-mail is not sent again. (Should the database fail
between the server's acceptance and the commit, the e-mail goes again with its Message-ID,
recognisable as the same one.)"""

from __future__ import annotations

import logging
import smtplib
import threading
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from integrations.notifications import Message
from integrations.notifications.smtp import SmtpEmail, failure_words
from models.base import utcnow
from models.db import session_scope
from models.notifications import (
    Notification,
    OutboxEmail,
    add_new,
    claim_email,
    email_failed,
    email_sent,
    give_up_emails,
    ops_user_ids,
)
from nexus.settings import NotificationSettings

log = logging.getLogger(__name__)

EMAIL_FAILED = "email_failed"
# How many given-up e-mails one alert to ops names (the rest are counted).
ALERT_NAMES = 20


@dataclass(frozen=True)
class Attempted:
    """What one sending pass did: e-mails accepted, failures recorded, and whether it
    stopped at its limit (more may be due)."""

    sent: int = 0
    failed: int = 0
    more: bool = False


def backoff(attempts: int, first: timedelta, cap: timedelta) -> timedelta:
    """The wait before the next try after `attempts` tries: `first`, doubling, at most `cap`."""
    doublings = min(max(attempts - 1, 0), 30)
    return min(first * (1 << doublings), cap)


def _message(row: OutboxEmail) -> Message:
    return Message(
        event_key=row.event_key,
        user_id=row.user_id,
        email=row.email,
        kind=row.kind,
        title=row.subject,
        body=row.body,
        link=row.link,
        name=row.name,
    )


class EmailOutbox:
    def __init__(self, engine: Engine, email: SmtpEmail, settings: NotificationSettings) -> None:
        self._engine = engine
        self._email = email
        self._settings = settings

    # -- what goes in ------------------------------------------------------------------------

    def rows(self, messages: Sequence[Message]) -> list[OutboxEmail]:
        """Outbox rows for `messages`, due now."""
        now = utcnow()
        return [
            OutboxEmail(
                event_key=m.event_key,
                user_id=m.user_id,
                kind=m.kind,
                email=m.email,
                name=" ".join(m.name.split())[:200],
                subject=m.title[:300],
                body=m.body[:4000],
                link=m.link[:500],
                message_id=self._email.message_id(m.event_key, m.email),
                next_attempt_at=now,
                created_at=now,
            )
            for m in messages
        ]

    # -- sending -----------------------------------------------------------------------------

    def send_soon(self, ids: Sequence[uuid.UUID]) -> None:
        """Try the new e-mails once, right away, waiting for them at most `send_wait_s`: a
        slow server finishes behind the caller (the rows stay locked meanwhile, and the sweep
        takes any the try leaves). Never raises: what fails waits for the sweep."""
        if not ids:
            return
        sender = threading.Thread(
            target=self._send_quietly, args=(list(ids),), name="email-outbox", daemon=True
        )
        sender.start()
        sender.join(self._settings.send_wait_s)

    def _send_quietly(self, ids: list[uuid.UUID]) -> None:
        try:
            self.send(among=ids, limit=len(ids))
        except Exception:
            log.exception(
                "e-mail outbox: sending %d new e-mails failed; the sweep retries", len(ids)
            )

    def send_due(self) -> Attempted:
        """One batch of the e-mails due (the sweep)."""
        return self.send(limit=self._settings.outbox_batch)

    def send(self, *, among: Collection[uuid.UUID] | None = None, limit: int) -> Attempted:
        """Send up to `limit` unsent e-mails (of `among`, or those due), each under its lock,
        over one SMTP session. A failure is recorded on the e-mail with its next try; once
        the server cannot be reached, the rest of this pass is recorded as failed with it
        without trying again."""
        tried: set[uuid.UUID] = set()
        sent = failed = 0
        smtp: smtplib.SMTP | None = None
        unreachable: str | None = None
        try:
            while len(tried) < limit:
                with session_scope(self._engine) as session:
                    row = claim_email(session, utcnow(), among=among, skip=tried)
                    if row is None:
                        break
                    tried.add(row.id)
                    error = unreachable
                    if error is None:
                        try:
                            if smtp is None:
                                smtp = self._email.connect()
                            smtp.send_message(self._email.compose(_message(row)))
                        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                                smtplib.SMTPSenderRefused) as exc:  # fmt: skip
                            # This e-mail refused; the session stays usable for the next one.
                            error = failure_words(exc)
                        except (OSError, smtplib.SMTPException) as exc:
                            error = unreachable = failure_words(exc)
                            self._close(smtp)
                            smtp = None
                    now = utcnow()
                    if error is None:
                        email_sent(session, row, now)
                        sent += 1
                        continue
                    email_failed(session, row, now, error, now + self._wait(row.attempts + 1))
                    failed += 1
                    log.warning("e-mail %s to %s not sent (try %d): %s",
                                row.message_id, row.email, row.attempts, error)  # fmt: skip
        finally:
            self._close(smtp)
        return Attempted(sent=sent, failed=failed, more=len(tried) >= limit)

    def _wait(self, attempts: int) -> timedelta:
        settings = self._settings
        return backoff(
            attempts,
            timedelta(seconds=settings.outbox_sweep_s),
            timedelta(seconds=settings.outbox_backoff_max_s),
        )

    @staticmethod
    def _close(smtp: smtplib.SMTP | None) -> None:
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    # -- giving up ---------------------------------------------------------------------------

    def give_up(self) -> int:
        """Give up the e-mails that have kept failing for `outbox_give_up_h`, and tell ops in
        their inbox, in one transaction: an alert per pass that gave any up."""
        now = utcnow()
        after = timedelta(hours=self._settings.outbox_give_up_h)
        with session_scope(self._engine) as session:
            rows = give_up_emails(session, now, after)
            if not rows:
                return 0
            ops = ops_user_ids(session)
            title, body = _alert(rows, after)
            add_new(
                session,
                [
                    Notification(
                        event_key=f"email-failed-{rows[0].id}",
                        user_id=user_id,
                        kind=EMAIL_FAILED,
                        title=title,
                        body=body,
                    )
                    for user_id in ops
                ],
            )
        log.error("e-mail outbox: gave up %d e-mails; told %d ops", len(rows), len(ops))
        return len(rows)


def _span(after: timedelta) -> str:
    """A duration in words: "a day", "12 hours", "1 second"."""
    seconds = round(after.total_seconds())
    if seconds == 86_400:
        return "a day"
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size or unit == "second":
            count = round(seconds / size)
            return f"{count} {unit}" + ("" if count == 1 else "s")
    raise AssertionError("unreachable")


def _alert(rows: Sequence[OutboxEmail], after: timedelta) -> tuple[str, str]:
    count = len(rows)
    what = "An e-mail" if count == 1 else f"{count} e-mails"
    verb = "was" if count == 1 else "were"
    title = f"{what} could not be sent for {_span(after)} and {verb} given up"
    # Grouped by what went wrong (an outage fails them all alike), each error said once.
    by_error: dict[str, list[str]] = {}
    for row in rows[:ALERT_NAMES]:
        to = f"{row.name} <{row.email}>" if row.name else row.email
        what = f"“{row.subject}” to {to} (tried {_times(row.attempts)})"
        error = row.last_error.rstrip(". ") or "No reason was recorded"
        by_error.setdefault(error, []).append(what)
    lines = [f"{error}. Not sent: {'; '.join(emails)}." for error, emails in by_error.items()]
    if count > ALERT_NAMES:
        lines.append(f"And {count - ALERT_NAMES} more.")
    lines.append("Check the mail server settings (NEXUS_NOTIFICATIONS__SMTP_*); the people "
                 "still have these notifications in their inbox.")  # fmt: skip
    body = " ".join(lines)
    if len(body) > 4000:
        body = body[:3999] + "…"
    return title[:300], body


def _times(attempts: int) -> str:
    return "once" if attempts == 1 else f"{attempts} times"
