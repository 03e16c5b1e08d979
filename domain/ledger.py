"""Double-entry ledger arithmetic: plain Python, no database, Temporal or vendor imports.

Every entry moves money between accounts in one currency; its postings sum to zero. A positive
amount is money arriving in an account. Accounts inside the platform (a campaign's escrow, a
payout's reservation, platform fees) hold money and can never go below zero; accounts that
stand for the outside world (what a brand paid in, what a creator or brand received) are
mirrors and may carry any sign. Balances are never stored: they are the sum of the postings.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class EntryKind(StrEnum):
    FUNDING = "funding"  # the brand paid budget + platform fee into the campaign's escrow
    RESERVE = "reserve"  # escrow -> payable: a creator's fee is owed
    RELEASE = "release"  # payable -> escrow: a payout was given up (compensation)
    PAYOUT = "payout"  # payable -> creator: the money reached the creator
    REFUND = "refund"  # unspent escrow (and its share of the fee) back to the brand


class LedgerError(ValueError):
    """An entry that would break the ledger: nothing is posted."""


# Account names: "<kind>:<owner id>". The owner id ties an account to a campaign, a payout,
# a brand workspace or a creator.
ESCROW = "escrow"  # per campaign
FEES = "fees"  # per campaign: the platform fee held for it
PAYABLE = "payable"  # per payout
BRAND_FUNDING = "brand_funding"  # per brand workspace (outside world)
BRAND_REFUNDS = "brand_refunds"  # per brand workspace (outside world)
CREATOR_PAID = "creator_paid"  # per creator (outside world)

MUST_NOT_BE_NEGATIVE = frozenset({ESCROW, FEES, PAYABLE})


def account(kind: str, owner: uuid.UUID | str) -> str:
    return f"{kind}:{owner}"


def kind_of(account_name: str) -> str:
    return account_name.split(":", 1)[0]


@dataclass(frozen=True)
class Posting:
    account: str
    amount_minor: int


@dataclass(frozen=True)
class Entry:
    """One balanced movement. `key` makes posting it idempotent: a second entry with the same
    key is the same entry."""

    key: str
    kind: EntryKind
    currency: str
    postings: tuple[Posting, ...]
    campaign_id: uuid.UUID | None = None
    workspace_id: uuid.UUID | None = None
    creator_id: uuid.UUID | None = None
    reference: str = ""

    def __post_init__(self) -> None:
        if len(self.currency) != 3 or not self.currency.isupper():
            raise LedgerError(f"currency must be an ISO 4217 code, not {self.currency!r}")
        if len(self.postings) < 2:
            raise LedgerError("an entry moves money between at least two accounts")
        if any(p.amount_minor == 0 for p in self.postings):
            raise LedgerError("a posting of zero moves nothing")
        if sum(p.amount_minor for p in self.postings) != 0:
            raise LedgerError("the postings of an entry must sum to zero")

    @property
    def amount_minor(self) -> int:
        """What the entry moved: the sum of its incoming postings."""
        return sum(p.amount_minor for p in self.postings if p.amount_minor > 0)


def _positive(amount_minor: int, what: str) -> None:
    if amount_minor <= 0:
        raise LedgerError(f"{what} must be a positive amount in minor units, not {amount_minor}")


def funding(
    key: str,
    *,
    campaign_id: uuid.UUID,
    workspace_id: uuid.UUID,
    currency: str,
    budget_minor: int,
    fee_minor: int,
    reference: str = "",
) -> Entry:
    _positive(budget_minor, "the budget")
    if fee_minor < 0:
        raise LedgerError("the platform fee cannot be negative")
    postings = [
        Posting(account(BRAND_FUNDING, workspace_id), -(budget_minor + fee_minor)),
        Posting(account(ESCROW, campaign_id), budget_minor),
    ]
    if fee_minor:
        postings.append(Posting(account(FEES, campaign_id), fee_minor))
    return Entry(
        key, EntryKind.FUNDING, currency, tuple(postings), campaign_id, workspace_id,
        reference=reference,
    )  # fmt: skip


def reserve(
    key: str,
    *,
    payout_id: str,
    campaign_id: uuid.UUID,
    workspace_id: uuid.UUID,
    creator_id: uuid.UUID,
    currency: str,
    amount_minor: int,
) -> Entry:
    _positive(amount_minor, "a payout")
    return Entry(
        key,
        EntryKind.RESERVE,
        currency,
        (
            Posting(account(ESCROW, campaign_id), -amount_minor),
            Posting(account(PAYABLE, payout_id), amount_minor),
        ),
        campaign_id,
        workspace_id,
        creator_id,
        payout_id,
    )


def release(key: str, reserved: Entry) -> Entry:
    """Undo a reservation: the money goes back to the campaign's escrow."""
    return Entry(
        key,
        EntryKind.RELEASE,
        reserved.currency,
        tuple(Posting(p.account, -p.amount_minor) for p in reserved.postings),
        reserved.campaign_id,
        reserved.workspace_id,
        reserved.creator_id,
        reserved.reference,
    )


def payout(key: str, reserved: Entry, *, transfer_ref: str) -> Entry:
    """The reserved money reached the creator."""
    assert reserved.creator_id is not None
    amount = reserved.amount_minor
    return Entry(
        key,
        EntryKind.PAYOUT,
        reserved.currency,
        (
            Posting(account(PAYABLE, reserved.reference), -amount),
            Posting(account(CREATOR_PAID, reserved.creator_id), amount),
        ),
        reserved.campaign_id,
        reserved.workspace_id,
        reserved.creator_id,
        transfer_ref,
    )


def refund(
    key: str,
    *,
    campaign_id: uuid.UUID,
    workspace_id: uuid.UUID,
    currency: str,
    escrow_minor: int,
    fee_minor: int,
    reference: str = "",
) -> Entry | None:
    """Return unspent escrow and the platform fee share charged on it; None if nothing is left."""
    total = escrow_minor + fee_minor
    if escrow_minor < 0 or fee_minor < 0:
        raise LedgerError("a refund cannot be negative")
    if total == 0:
        return None
    postings = [Posting(account(BRAND_REFUNDS, workspace_id), total)]
    if escrow_minor:
        postings.append(Posting(account(ESCROW, campaign_id), -escrow_minor))
    if fee_minor:
        postings.append(Posting(account(FEES, campaign_id), -fee_minor))
    return Entry(
        key, EntryKind.REFUND, currency, tuple(postings), campaign_id, workspace_id,
        reference=reference,
    )  # fmt: skip


def fee_share(fee_minor: int, budget_minor: int, unspent_minor: int) -> int:
    """The part of the platform fee that belongs to unspent budget, rounded down: the fee is
    charged on what is spent."""
    if budget_minor <= 0:
        return 0
    return fee_minor * unspent_minor // budget_minor


def platform_fee(budget_minor: int, fee_bps: int) -> int:
    """The fee on a budget in basis points, rounded half up to the minor unit."""
    return (budget_minor * fee_bps + 5_000) // 10_000


Balances = Mapping[tuple[str, str], int]  # (account, currency) -> minor units


@dataclass
class Ledger:
    """The rules of posting, over balances held in memory (the database keeps the same rules
    with its own balances)."""

    balances: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    keys: set[str] = field(default_factory=set)

    def post(self, entry: Entry) -> bool:
        """Apply the entry; False if its key was posted before (nothing changes)."""
        if entry.key in self.keys:
            return False
        check(entry, self.balances)
        for p in entry.postings:
            self.balances[(p.account, entry.currency)] += p.amount_minor
        self.keys.add(entry.key)
        return True


def check(entry: Entry, balances: Balances) -> None:
    """Refuse an entry that would take an account that holds money below zero."""
    for p in entry.postings:
        after = balances.get((p.account, entry.currency), 0) + p.amount_minor
        if after < 0 and kind_of(p.account) in MUST_NOT_BE_NEGATIVE:
            raise LedgerError(
                f"{p.account} holds {after - p.amount_minor} {entry.currency}; "
                f"it cannot pay {-p.amount_minor}"
            )


def violations(postings: Iterable[tuple[str, str, int]]) -> list[str]:
    """Everything wrong with a set of (account, currency, amount) postings: currencies that
    do not sum to zero, money-holding accounts below zero."""
    by_currency: dict[str, int] = defaultdict(int)
    by_account: dict[tuple[str, str], int] = defaultdict(int)
    for name, currency, amount in postings:
        by_currency[currency] += amount
        by_account[(name, currency)] += amount
    problems = [f"{c} postings sum to {s}, not 0" for c, s in by_currency.items() if s]
    problems += [
        f"{name} is {balance} {currency}"
        for (name, currency), balance in by_account.items()
        if balance < 0 and kind_of(name) in MUST_NOT_BE_NEGATIVE
    ]
    return problems
