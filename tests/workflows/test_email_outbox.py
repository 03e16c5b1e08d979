"""A mail server outage never blocks the business process: the creator's application (a
workflow Update that notifies the brand) is answered while e-mail is down, and the outbox's
sweep workflow sends the brand's e-mail once the server is back, and never twice."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session as DbSession
from sqlmodel import col, select
from temporalio.client import Client

from models.notifications import OutboxEmail
from nexus.settings import Settings
from tests.e2e.support import ok
from tests.integrations.test_email_outbox import Mailbox, MailServer
from tests.support import campaign_body, fund, login, make_creator, make_tenant
from workflows.contracts.notifications import EmailSweep
from workflows.email_outbox import EmailOutboxSweepWorkflow
from workflows.task_queues import cpu_queue


@pytest.fixture
def mail() -> Iterator[MailServer]:
    server = MailServer(Mailbox())
    yield server
    server.stop()


@pytest.fixture
def settings(settings: Settings, mail: MailServer) -> Settings:
    """The test's settings with e-mail through a mail server that is down until started."""
    notifications = settings.notifications.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": mail.port, "smtp_starttls": False,
                "outbox_sweep_s": 1}
    )  # fmt: skip
    return settings.model_copy(update={"notifications": notifications})


def emails_about(engine: Engine, kind: str, address: str) -> list[OutboxEmail]:
    with DbSession(engine) as session:
        query = select(OutboxEmail).where(OutboxEmail.kind == kind, OutboxEmail.email == address)
        return list(session.exec(query.order_by(col(OutboxEmail.created_at))).all())


async def test_an_application_is_answered_while_e_mail_is_down_and_its_email_goes_out_later(
    http: httpx.AsyncClient, engine: Engine, client: Client, settings: Settings, mail: MailServer
) -> None:
    brand = make_tenant(engine)
    creator = make_creator(engine, niches=["beauty"])
    b, c = await login(http, brand), await login(http, creator.tenant)
    body = campaign_body(brand.brand_id)
    body["brief"] |= {"application_deadline": "2099-01-01T00:00:00Z"}
    cid = ok(await http.post("/campaigns", json=body, headers=b), 201)["id"]
    await fund(http, engine, b, cid)
    ok(await http.post(f"/campaigns/{cid}/publish", headers=b))
    [listed] = ok(await http.get("/marketplace/campaigns", headers=c))

    application = {"deliverable_id": listed["deliverables"][0]["id"], "pitch": "I love serums",
                   "price_minor": 90_000}  # fmt: skip
    started = time.monotonic()
    applied = await http.post(
        f"/marketplace/campaigns/{cid}/applications", json=application, headers=c
    )
    assert applied.status_code == 201, applied.text  # not a 503 after the API's 10 s wait
    assert time.monotonic() - started < 5
    # The brand hears of it in the inbox now; the e-mail waits for the server.
    titles = [n["title"] for n in ok(await http.get("/notifications", headers=b))]
    [told] = [t for t in titles if "appl" in t.lower()]
    [waiting] = emails_about(engine, "application", brand.email)
    assert (waiting.subject, waiting.sent_at, waiting.attempts) == (told, None, 1)
    assert waiting.last_error.startswith("The mail server refused the connection")

    async def sweep() -> EmailSweep:
        return await client.execute_workflow(
            EmailOutboxSweepWorkflow.run,
            id=f"email-outbox-sweep-{uuid.uuid4()}",
            task_queue=cpu_queue(settings.temporal.task_queue),
            execution_timeout=timedelta(minutes=1),
        )

    mail.start()
    await asyncio.sleep(1.2)  # the first retry is due a sweep interval after the first try
    swept = await sweep()
    assert swept.sent >= 1 and swept.failed == 0
    [sent] = emails_about(engine, "application", brand.email)
    assert sent.sent_at is not None
    [email] = [m for m in mail.mailbox.messages if m["Subject"] == told]
    assert (email["To"], email["Message-ID"]) == (brand.email, sent.message_id)

    # Accepted once: the next sweeps send nothing again.
    count = len(mail.mailbox.messages)
    await asyncio.sleep(1.2)
    assert (await sweep()).sent == 0
    assert len(mail.mailbox.messages) == count
