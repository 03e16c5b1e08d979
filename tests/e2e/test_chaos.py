"""The chaos bench's short variant (bench/chaos.py runs it long): journeys of each kind through
the public API of the stack `nexus up` runs, while the CPU and GPU workers are SIGKILLed and
Temporal and PostgreSQL restart. Every journey reaches its end, every workflow completes, no
effect happens twice, the ledger balances and no request answers a server error but 503."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine

from models import money
from models.db import session_scope
from nexus.settings import Settings
from tests.e2e import chaos_support as chaos


@pytest.mark.stack
@pytest.mark.timeout(480)
def test_journeys_survive_killed_workers_and_restarted_temporal_and_postgres(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = chaos.Plan(
        journeys=len(chaos.KINDS),
        baseline=len(chaos.KINDS),
        concurrency=len(chaos.KINDS),
        gap_s=(1.0, 4.0),
        window_s=30.0,
        timeout_s=120.0,
        script=chaos.ACTIONS,
    )
    state_dir = chaos.new_state_dir()
    with chaos.smtp_server() as (mailbox, smtp_port):
        for name, value in chaos.chaos_environment(state_dir / "stack", smtp_port).items():
            monkeypatch.setenv(name, value)
        stack = chaos.ChaosStack(Settings())
        try:
            stack.start()
            result = asyncio.run(chaos.run(stack, mailbox, plan, state_dir))
        finally:
            stack.stop()
    shutil.rmtree(state_dir, ignore_errors=True)

    assert result.actions == dict.fromkeys(chaos.ACTIONS, 1)
    # An e-mail is sent at least once: a notification whose transaction is cut off after the
    # SMTP server took its message sends it again, under the same Message-ID (the bench
    # counts those: 3 of 3,444 over 200 journeys).
    assert result.audit.clean(resent_emails=True), (result.audit.figures(), result.audit.details)
    assert result.chaos.figures()["completed"] == plan.journeys
    assert result.emails > 0


async def test_the_audit_counts_a_transfer_or_an_email_made_twice(engine: Engine) -> None:
    """The zeros above are not vacuous: one payout's bank line written twice under two keys,
    and one e-mail received twice, are each counted once."""
    with session_scope(engine) as session:
        for attempt in ("first", "second"):
            line = money.ManualTransfer(
                key=f"payout-p1:transfer:{attempt}", kind="payout", payee="creator",
                amount_minor=1_000, currency="USD", reference="payout-p1",
            )  # fmt: skip
            session.add(line)
    assert chaos.excess(engine, "kind, reference", "manual_transfers") == 1

    mailbox = chaos.Mailbox()
    paid = b"Message-ID: <abc@nexus.example>\r\nSubject: Paid\r\n\r\nOn its way.\r\n"
    for _ in range(2):
        envelope = Envelope()
        envelope.original_content, envelope.rcpt_tos = paid, ["maya@example.com"]
        await mailbox.handle_DATA(SMTP(mailbox), Session(asyncio.get_running_loop()), envelope)
    assert (mailbox.received(), mailbox.duplicates()) == (2, 1)
