"""The ledger's arithmetic, directly, and as a property over random operation sequences."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import ledger
from domain.ledger import Ledger, LedgerError, Posting

WS, CAMPAIGN, CREATOR = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def funded(amount: int = 10_000, fee: int = 1_000, currency: str = "USD") -> Ledger:
    book = Ledger()
    book.post(
        ledger.funding(
            "fund-1", campaign_id=CAMPAIGN, workspace_id=WS, currency=currency,
            budget_minor=amount, fee_minor=fee,
        )
    )  # fmt: skip
    return book


def reservation(key: str, amount: int, payout_id: str = "p1") -> ledger.Entry:
    return ledger.reserve(
        key, payout_id=payout_id, campaign_id=CAMPAIGN, workspace_id=WS, creator_id=CREATOR,
        currency="USD", amount_minor=amount,
    )  # fmt: skip


def test_funding_puts_budget_in_escrow_and_fee_aside() -> None:
    book = funded()
    assert book.balances[(ledger.account("escrow", CAMPAIGN), "USD")] == 10_000
    assert book.balances[(ledger.account("fees", CAMPAIGN), "USD")] == 1_000
    assert book.balances[(ledger.account("brand_funding", WS), "USD")] == -11_000


def test_reserve_then_pay_moves_the_fee_to_the_creator() -> None:
    book = funded()
    reserved = reservation("r1", 4_000)
    assert book.post(reserved)
    assert book.post(ledger.payout("pay1", reserved, transfer_ref="tr_1"))
    assert book.balances[(ledger.account("escrow", CAMPAIGN), "USD")] == 6_000
    assert book.balances[(ledger.account("payable", "p1"), "USD")] == 0
    assert book.balances[(ledger.account("creator_paid", CREATOR), "USD")] == 4_000


def test_release_returns_a_reservation_to_escrow() -> None:
    book = funded()
    reserved = reservation("r1", 4_000)
    book.post(reserved)
    book.post(ledger.release("rel1", reserved))
    assert book.balances[(ledger.account("escrow", CAMPAIGN), "USD")] == 10_000


def test_a_reservation_over_the_escrow_is_refused_and_changes_nothing() -> None:
    book = funded(amount=1_000, fee=0)
    with pytest.raises(LedgerError, match="cannot pay 1001"):
        book.post(reservation("r1", 1_001))
    assert book.balances[(ledger.account("escrow", CAMPAIGN), "USD")] == 1_000
    assert "r1" not in book.keys


def test_the_same_key_posts_once() -> None:
    book = funded()
    assert book.post(reservation("r1", 100))
    assert not book.post(reservation("r1", 100))
    assert book.balances[(ledger.account("escrow", CAMPAIGN), "USD")] == 9_900


def test_currencies_never_mix() -> None:
    book = funded(currency="EUR")
    with pytest.raises(LedgerError):
        book.post(reservation("r1", 100))  # USD against a EUR escrow


@pytest.mark.parametrize("amount", [0, -5])
def test_zero_and_negative_amounts_are_refused(amount: int) -> None:
    with pytest.raises(LedgerError, match="positive"):
        reservation("r", amount)
    with pytest.raises(LedgerError, match="positive"):
        ledger.funding(
            "f", campaign_id=CAMPAIGN, workspace_id=WS, currency="USD",
            budget_minor=amount, fee_minor=0,
        )  # fmt: skip


def test_an_unbalanced_or_malformed_entry_cannot_be_built() -> None:
    with pytest.raises(LedgerError, match="sum to zero"):
        ledger.Entry("k", ledger.EntryKind.FUNDING, "USD", (Posting("a:1", 5), Posting("b:1", -4)))
    with pytest.raises(LedgerError, match="ISO 4217"):
        ledger.Entry("k", ledger.EntryKind.FUNDING, "usd", (Posting("a:1", 5), Posting("b:1", -5)))


def test_fee_share_and_platform_fee_round_in_whole_minor_units() -> None:
    assert ledger.platform_fee(100_000, 1_000) == 10_000
    assert ledger.platform_fee(5, 1_000) == 1  # 0.5 rounds half up
    assert ledger.fee_share(10_000, 100_000, 33_333) == 3_333  # rounded down
    assert ledger.fee_share(10_000, 100_000, 100_000) == 10_000


def test_refund_returns_escrow_and_its_fee_share() -> None:
    book = funded()
    entry = ledger.refund(
        "ref", campaign_id=CAMPAIGN, workspace_id=WS, currency="USD",
        escrow_minor=10_000, fee_minor=1_000,
    )  # fmt: skip
    assert entry is not None and book.post(entry)
    assert book.balances[(ledger.account("brand_refunds", WS), "USD")] == 11_000
    nothing = ledger.refund(
        "ref2", campaign_id=CAMPAIGN, workspace_id=WS, currency="USD",
        escrow_minor=0, fee_minor=0,
    )  # fmt: skip
    assert nothing is None


# -- property: any sequence of operations, accepted or refused, keeps the invariant ---------

CAMPAIGNS = [uuid.UUID(int=i) for i in range(1, 4)]
operation = st.one_of(
    st.tuples(st.just("fund"), st.sampled_from(CAMPAIGNS), st.integers(-10, 50_000),
              st.integers(0, 5_000), st.sampled_from(["USD", "EUR"])),
    st.tuples(st.just("reserve"), st.sampled_from(CAMPAIGNS), st.integers(-10, 30_000),
              st.integers(0, 20), st.sampled_from(["USD", "EUR"])),
    st.tuples(st.just("release"), st.integers(0, 20)),
    st.tuples(st.just("pay"), st.integers(0, 20)),
    st.tuples(st.just("refund"), st.sampled_from(CAMPAIGNS), st.sampled_from(["USD", "EUR"])),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, max_size=60))
def test_random_operations_keep_the_ledger_balanced(ops: list[tuple[Any, ...]]) -> None:
    book = Ledger()
    reserved: dict[int, ledger.Entry] = {}
    settled: set[int] = set()
    postings: list[tuple[str, str, int]] = []

    def post(entry: ledger.Entry) -> None:
        try:
            if book.post(entry):
                postings.extend((p.account, entry.currency, p.amount_minor) for p in entry.postings)
        except LedgerError:
            pass  # refused: must have changed nothing, which the invariant below proves

    for n, op in enumerate(ops):
        try:
            if op[0] == "fund":
                _, cid, amount, fee, cur = op
                post(ledger.funding(f"f{n}", campaign_id=cid, workspace_id=WS, currency=cur,
                                    budget_minor=amount, fee_minor=fee))  # fmt: skip
            elif op[0] == "reserve":
                _, cid, amount, pid, cur = op
                entry = ledger.reserve(
                    f"r{pid}", payout_id=f"p{pid}", campaign_id=cid, workspace_id=WS,
                    creator_id=CREATOR, currency=cur, amount_minor=amount,
                )  # fmt: skip
                if book.post(entry):
                    postings.extend(
                        (p.account, entry.currency, p.amount_minor) for p in entry.postings
                    )
                    reserved[pid] = entry
            elif op[0] in ("release", "pay") and op[1] in reserved and op[1] not in settled:
                pid = op[1]
                r = reserved[pid]
                settled.add(pid)
                post(ledger.release(f"rel{pid}", r) if op[0] == "release"
                     else ledger.payout(f"pay{pid}", r, transfer_ref="tr"))  # fmt: skip
            elif op[0] == "refund":
                _, cid, cur = op
                escrow = book.balances.get((ledger.account("escrow", cid), cur), 0)
                fees = book.balances.get((ledger.account("fees", cid), cur), 0)
                entry2 = ledger.refund(f"ref{n}", campaign_id=cid, workspace_id=WS, currency=cur,
                                       escrow_minor=escrow, fee_minor=fees)  # fmt: skip
                if entry2 is not None:
                    post(entry2)
        except LedgerError:
            pass  # an invalid operation (zero or negative amount) never becomes an entry
        assert ledger.violations(postings) == []
    balances = {k: v for k, v in book.balances.items() if v}
    derived: dict[tuple[str, str], int] = {}
    for name, cur, amount in postings:
        derived[(name, cur)] = derived.get((name, cur), 0) + amount
    assert balances == {k: v for k, v in derived.items() if v}
