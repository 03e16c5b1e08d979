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


# -- what each entry records -----------------------------------------------------------------


def test_each_entry_records_its_kind_key_and_whose_money_it_moved() -> None:
    fund = ledger.funding(
        "f", campaign_id=CAMPAIGN, workspace_id=WS, currency="USD", budget_minor=5_000,
        fee_minor=500,
    )  # fmt: skip
    reserved = reservation("r", 2_000, payout_id="po-7")
    refund = ledger.refund(
        "ref", campaign_id=CAMPAIGN, workspace_id=WS, currency="USD", escrow_minor=3_000,
        fee_minor=300,
    )  # fmt: skip
    assert refund is not None
    entries = [
        fund,
        reserved,
        ledger.release("rel", reserved),
        ledger.payout("pay", reserved, transfer_ref="tr_9"),
        refund,
    ]
    assert [(e.key, e.kind, e.campaign_id, e.workspace_id, e.reference) for e in entries] == [
        ("f", ledger.EntryKind.FUNDING, CAMPAIGN, WS, ""),
        ("r", ledger.EntryKind.RESERVE, CAMPAIGN, WS, "po-7"),
        ("rel", ledger.EntryKind.RELEASE, CAMPAIGN, WS, "po-7"),
        ("pay", ledger.EntryKind.PAYOUT, CAMPAIGN, WS, "tr_9"),
        ("ref", ledger.EntryKind.REFUND, CAMPAIGN, WS, ""),
    ]
    assert [e.creator_id for e in entries] == [None, CREATOR, CREATOR, CREATOR, None]
    assert [e.amount_minor for e in entries] == [5_500, 2_000, 2_000, 2_000, 3_300]


def test_references_given_to_fundings_and_refunds_are_kept() -> None:
    fund = ledger.funding(
        "f", campaign_id=CAMPAIGN, workspace_id=WS, currency="USD", budget_minor=1,
        fee_minor=0, reference="pi_1",
    )  # fmt: skip
    refund = ledger.refund(
        "r", campaign_id=CAMPAIGN, workspace_id=WS, currency="USD", escrow_minor=1,
        fee_minor=0, reference="re_1",
    )  # fmt: skip
    assert refund is not None
    assert (fund.reference, refund.reference) == ("pi_1", "re_1")


# -- the smallest amounts and the rules of a well-formed entry -------------------------------


def test_one_minor_unit_is_an_amount() -> None:
    book = funded(amount=1, fee=0)
    assert book.post(reservation("r1", 1))
    assert book.balances[(ledger.account("escrow", CAMPAIGN), "USD")] == 0
    assert ledger.Entry(
        "k", ledger.EntryKind.FUNDING, "USD", (Posting("a:1", 1), Posting("b:1", -1))
    )


def test_malformed_entries_are_refused_saying_why() -> None:
    kind = ledger.EntryKind.FUNDING
    with pytest.raises(LedgerError, match=r"^an entry moves money between at least two accounts$"):
        ledger.Entry("k", kind, "USD", (Posting("a:1", 0),))
    with pytest.raises(LedgerError, match=r"^a posting of zero moves nothing$"):
        ledger.Entry("k", kind, "USD", (Posting("a:1", 5), Posting("b:1", -5), Posting("c:1", 0)))
    with pytest.raises(LedgerError, match=r"^the postings of an entry must sum to zero$"):
        ledger.Entry("k", kind, "USD", (Posting("a:1", 5), Posting("b:1", -4)))


def test_refused_amounts_name_what_was_wrong() -> None:
    with pytest.raises(LedgerError, match=r"^the budget must be a positive amount in minor units"):
        ledger.funding(
            "f", campaign_id=CAMPAIGN, workspace_id=WS, currency="USD", budget_minor=0,
            fee_minor=0,
        )  # fmt: skip
    with pytest.raises(LedgerError, match=r"^the platform fee cannot be negative$"):
        ledger.funding(
            "f", campaign_id=CAMPAIGN, workspace_id=WS, currency="USD", budget_minor=10,
            fee_minor=-1,
        )  # fmt: skip
    with pytest.raises(LedgerError, match=r"^a payout must be a positive amount in minor units"):
        reservation("r", 0)


# -- refunds ---------------------------------------------------------------------------------


def test_a_refund_empties_the_escrow_and_the_fee_it_returns() -> None:
    book = funded(amount=10_000, fee=1_000)
    book.post(reservation("r1", 4_000))
    entry = ledger.refund(
        "ref", campaign_id=CAMPAIGN, workspace_id=WS, currency="USD", escrow_minor=6_000,
        fee_minor=ledger.fee_share(1_000, 10_000, 6_000),
    )  # fmt: skip
    assert entry is not None and book.post(entry)
    assert book.balances[(ledger.account("escrow", CAMPAIGN), "USD")] == 0
    assert book.balances[(ledger.account("fees", CAMPAIGN), "USD")] == 400
    assert book.balances[(ledger.account("brand_refunds", WS), "USD")] == 6_600


def test_a_refund_of_the_fee_alone_or_the_escrow_alone_moves_only_that() -> None:
    fee_only = ledger.refund(
        "a", campaign_id=CAMPAIGN, workspace_id=WS, currency="USD", escrow_minor=0,
        fee_minor=70,
    )  # fmt: skip
    escrow_only = ledger.refund(
        "b", campaign_id=CAMPAIGN, workspace_id=WS, currency="USD", escrow_minor=90,
        fee_minor=0,
    )  # fmt: skip
    assert fee_only is not None and escrow_only is not None
    assert {p.account: p.amount_minor for p in fee_only.postings} == {
        ledger.account("brand_refunds", WS): 70,
        ledger.account("fees", CAMPAIGN): -70,
    }
    assert {p.account: p.amount_minor for p in escrow_only.postings} == {
        ledger.account("brand_refunds", WS): 90,
        ledger.account("escrow", CAMPAIGN): -90,
    }


@pytest.mark.parametrize(("escrow", "fee"), [(-1, 0), (100, -1), (-1, 100)])
def test_a_negative_refund_is_refused_even_beside_a_positive_part(escrow: int, fee: int) -> None:
    with pytest.raises(LedgerError, match=r"^a refund cannot be negative$"):
        ledger.refund(
            "ref", campaign_id=CAMPAIGN, workspace_id=WS, currency="USD", escrow_minor=escrow,
            fee_minor=fee,
        )  # fmt: skip


# -- fees ------------------------------------------------------------------------------------


def test_platform_fee_rounds_half_up_and_just_below_half_down() -> None:
    assert ledger.platform_fee(4_999, 1) == 0
    assert ledger.platform_fee(5_000, 1) == 1
    assert ledger.platform_fee(0, 1_000) == 0


def test_fee_share_of_a_one_unit_budget_and_of_no_budget() -> None:
    assert ledger.fee_share(1_000, 1, 1) == 1_000
    assert ledger.fee_share(1_000, 1, 0) == 0
    assert ledger.fee_share(1_000, 0, 0) == 0
    assert ledger.fee_share(1_000, -5, 3) == 0


# -- the guard on money-holding accounts -----------------------------------------------------


def test_a_reservation_from_an_empty_escrow_is_refused() -> None:
    book = Ledger()
    with pytest.raises(LedgerError, match=r"holds 0 USD; it cannot pay 1$"):
        book.post(reservation("r1", 1))
    assert not any(book.balances.values())
    assert book.keys == set()


def test_a_refused_reservation_says_what_the_escrow_holds() -> None:
    book = funded(amount=1_000, fee=0)
    escrow = ledger.account("escrow", CAMPAIGN)
    with pytest.raises(LedgerError, match=f"^{escrow} holds 1000 USD; it cannot pay 1001$"):
        book.post(reservation("r1", 1_001))


def test_an_owner_id_with_a_colon_is_still_a_money_holding_account() -> None:
    assert ledger.kind_of("payable:license-1:2") == "payable"
    assert ledger.violations([("payable:license-1:2", "USD", -5), ("x:1", "USD", 5)]) == [
        "payable:license-1:2 is -5 USD"
    ]


# -- violations(): what the suite checks every database against ------------------------------


def test_a_balanced_ledger_has_no_violations() -> None:
    assert ledger.violations([]) == []
    assert ledger.violations([("escrow:c", "USD", 5), ("brand_funding:w", "USD", -5)]) == []


def test_postings_that_do_not_sum_to_zero_are_reported_per_currency() -> None:
    assert ledger.violations(
        [("escrow:c", "USD", 5), ("brand_funding:w", "USD", -3), ("escrow:c", "EUR", -2)]
    ) == ["USD postings sum to 2, not 0", "EUR postings sum to -2, not 0", "escrow:c is -2 EUR"]


def test_money_holding_accounts_below_zero_are_reported_and_mirrors_are_not() -> None:
    postings = [
        ("escrow:c", "USD", -10),
        ("fees:c", "USD", -1),
        ("payable:p", "USD", -2),
        ("creator_paid:k", "USD", -4),
        ("brand_refunds:w", "USD", 17),
    ]
    assert ledger.violations(postings) == [
        "escrow:c is -10 USD",
        "fees:c is -1 USD",
        "payable:p is -2 USD",
    ]


def test_an_unbalanced_ledger_with_a_negative_account_reports_both() -> None:
    assert ledger.violations([("escrow:c", "USD", -3)]) == [
        "USD postings sum to -3, not 0",
        "escrow:c is -3 USD",
    ]
