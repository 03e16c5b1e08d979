"""The development mail catcher: an SMTP server on loopback that keeps every message it
receives in PostgreSQL (models.notifications.CaughtEmail) for the portal's mail page, and
sends nothing on. `nexus up` starts it (`python -m integrations.notifications.catcher`)
wherever e-mail goes to it: in development without an SMTP server of its own."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine

from models.db import make_engine, session_scope
from models.notifications import CaughtEmail, catch
from nexus.settings import Settings

log = logging.getLogger("nexus.mail")

HOST = "127.0.0.1"
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
MAX_TEXT_CHARS = 200_000


def _text(message: EmailMessage) -> str:
    """The message's plain-text part (what the portal shows); an HTML-only message says so
    rather than have its markup shown or run."""
    part = message.get_body(preferencelist=("plain",))
    if part is not None:
        content = part.get_content()
        return str(content)[:MAX_TEXT_CHARS]
    if message.get_body(preferencelist=("html",)) is not None:
        return "(This message has only an HTML part, which is not shown here.)"
    return ""


def parse(raw: bytes, mail_from: str, rcpt_tos: list[str]) -> CaughtEmail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    message_id = message.get("Message-ID")
    return CaughtEmail(
        message_id=str(message_id).strip()[:998] if message_id else None,
        mail_from=(mail_from or str(message.get("From", "")))[:998],
        recipients=sorted({r.lower() for r in rcpt_tos}),
        subject=str(message.get("Subject", ""))[:998],
        text=_text(message),
    )


class CatchingHandler:
    """aiosmtpd handler: every message accepted is kept; none is relayed."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or (
            envelope.content if isinstance(envelope.content, bytes) else b""
        )
        try:
            email = parse(raw, envelope.mail_from or "", list(envelope.rcpt_tos))
            await asyncio.to_thread(self._keep, email)
        except Exception:
            log.exception("could not keep a message from %s", envelope.mail_from)
            return "451 Requested action aborted: local error in processing"
        log.info("caught %r for %s", email.subject, ", ".join(email.recipients))
        return "250 Message accepted"

    def _keep(self, email: CaughtEmail) -> None:
        with session_scope(self._engine) as session:
            catch(session, email)


async def serve(settings: Settings, port: int, stop: asyncio.Event) -> None:
    """Catch mail on 127.0.0.1:`port` until `stop` is set."""
    engine = make_engine(settings.database)
    handler = CatchingHandler(engine)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="nexus-mail-catcher",
            data_size_limit=MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            loop=loop,
        ),
        host=HOST,
        port=port,
    )
    log.info("catching mail on %s:%d", HOST, port)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        engine.dispose()


async def _main(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(settings, settings.notifications.mail_catcher_port, stop)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(_main(Settings()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
