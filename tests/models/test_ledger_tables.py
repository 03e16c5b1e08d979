"""The ledger in PostgreSQL: idempotent appends, no overdraft even under concurrency, and
rows that can never be edited."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from domain import ledger
from models import money
from models.db import session_scope

WS, CAMPAIGN, CREATOR = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def fund(engine: Engine, amount: int) -> None:
    with session_scope(engine) as session:
        money.post_entry(
            session,
            ledger.funding(
                f"fund-{uuid.uuid4()}", campaign_id=CAMPAIGN, workspace_id=WS, currency="USD",
                budget_minor=amount, fee_minor=amount // 10,
            ),
        )  # fmt: skip


def reserve(engine: Engine, payout_id: str, amount: int) -> bool:
    entry = ledger.reserve(
        f"reserve-{payout_id}", payout_id=payout_id, campaign_id=CAMPAIGN, workspace_id=WS,
        creator_id=CREATOR, currency="USD", amount_minor=amount,
    )  # fmt: skip
    with session_scope(engine) as session:
        return money.post_entry(session, entry)


def escrow(engine: Engine) -> int:
    with session_scope(engine) as session:
        return money.balance(session, ledger.account("escrow", CAMPAIGN), "USD")


def test_an_entry_posts_once_per_key(engine: Engine) -> None:
    fund(engine, 1_000)
    assert reserve(engine, "p1", 400)
    assert not reserve(engine, "p1", 400)
    assert escrow(engine) == 600


def test_concurrent_reservations_never_overdraw_the_escrow(engine: Engine) -> None:
    fund(engine, 1_000)

    def attempt(i: int) -> bool:
        try:
            return reserve(engine, f"p{i}", 300)
        except ledger.LedgerError:
            return False

    with ThreadPoolExecutor(8) as pool:
        won = sum(pool.map(attempt, range(8)))
    assert won == 3
    assert escrow(engine) == 100


def test_ledger_rows_cannot_be_edited_or_deleted(engine: Engine) -> None:
    fund(engine, 1_000)
    for statement in (
        "UPDATE ledger_postings SET amount_minor = amount_minor + 1",
        "DELETE FROM ledger_entries",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert escrow(engine) == 1_000
