"""Money tables: the append-only ledger, fundings, creator payout accounts, payouts, manual
bank transfers and received Stripe events. Balances are never stored; they are summed."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Index, LargeBinary, Sequence, case, func, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Field, Session, SQLModel, col, select

from domain import bank, ledger
from domain.enums import Role
from models import audit
from models.base import aware_datetime_field, created_at_field, id_field, utcnow
from models.brands import Brand
from models.campaigns import Campaign
from models.creators import CreatorProfile
from models.workspaces import Membership, Workspace
from workflows.contracts.license import fee_payout_id


class LedgerEntry(SQLModel, table=True):
    __tablename__ = "ledger_entries"

    id: uuid.UUID = id_field()
    # Idempotency: a retried activity posting the same movement finds its entry.
    key: str = Field(max_length=300, unique=True)
    kind: str = Field(max_length=20)
    currency: str = Field(max_length=3)
    amount_minor: int = Field(sa_type=BigInteger)
    campaign_id: uuid.UUID | None = Field(default=None, index=True)
    workspace_id: uuid.UUID | None = Field(default=None, index=True)
    creator_id: uuid.UUID | None = Field(default=None, index=True)
    reference: str = Field(default="", max_length=300)
    created_at: datetime = created_at_field()


class LedgerPosting(SQLModel, table=True):
    __tablename__ = "ledger_postings"
    __table_args__ = (Index("ix_ledger_postings_account_currency", "account", "currency"),)

    id: uuid.UUID = id_field()
    entry_id: uuid.UUID = Field(foreign_key="ledger_entries.id", index=True)
    account: str = Field(max_length=200)
    currency: str = Field(max_length=3)
    amount_minor: int = Field(sa_type=BigInteger)


class Funding(SQLModel, table=True):
    """One payment into a campaign's escrow plus the platform fee, by card or bank transfer:
    the campaign's budget, or (with `license_id` and `fee_number`) the fee of an accepted
    license renewal or change, owed to the creator."""

    __tablename__ = "fundings"

    id: uuid.UUID = id_field()
    campaign_id: uuid.UUID = Field(foreign_key="campaigns.id", index=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True)
    method: str = Field(max_length=20)  # card, bank_transfer
    provider: str = Field(max_length=20)
    currency: str = Field(max_length=3)
    budget_minor: int = Field(sa_type=BigInteger)
    fee_minor: int = Field(sa_type=BigInteger)
    # pending, requires_action, awaiting_transfer, succeeded, failed, superseded, refunded
    status: str = Field(max_length=30)
    provider_ref: str | None = Field(default=None, max_length=200, unique=True)
    failure: str = Field(default="", max_length=500)
    refunded_minor: int = Field(default=0, sa_type=BigInteger)
    license_id: uuid.UUID | None = Field(default=None, foreign_key="licenses.id", index=True)
    fee_number: int | None = None
    # A bank transfer's invoice: numbered from one sequence, in the order they were issued.
    invoice_number: int | None = Field(default=None, sa_type=BigInteger, unique=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


INVOICE_NUMBERS = Sequence("funding_invoice_numbers")


class PayoutBankDetails(SQLModel, table=True):
    """Where a creator wants manual payouts sent: sealed (AES-GCM under the payout-details
    key, bound to the creator), with only what is shown back in the clear."""

    __tablename__ = "payout_bank_details"

    creator_id: uuid.UUID = Field(foreign_key="creator_profiles.id", primary_key=True)
    scheme: str = Field(max_length=10)  # iban, us
    country: str = Field(max_length=2)
    last4: str = Field(max_length=4)
    sealed: bytes = Field(sa_type=LargeBinary)
    key_id: str = Field(max_length=16)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class PayoutAccount(SQLModel, table=True):
    """Where a creator is paid: a Stripe connected account or manual bank details."""

    __tablename__ = "payout_accounts"

    creator_id: uuid.UUID = Field(foreign_key="creator_profiles.id", primary_key=True)
    provider: str = Field(max_length=20)
    account_ref: str = Field(max_length=200, unique=True)
    payouts_enabled: bool = False
    # Time of the provider event the state comes from: older events never overwrite it.
    state_at: datetime | None = aware_datetime_field()
    created_at: datetime = created_at_field()


class Payout(SQLModel, table=True):
    """Read model of one PayoutWorkflow."""

    __tablename__ = "payouts"

    id: str = Field(primary_key=True, max_length=200)
    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True)
    campaign_id: uuid.UUID = Field(foreign_key="campaigns.id", index=True)
    creator_id: uuid.UUID = Field(foreign_key="creator_profiles.id", index=True)
    reason: str = Field(max_length=20)
    source_id: str = Field(max_length=200)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    # reserving, awaiting_onboarding, transferring, awaiting_settlement, paid, failed
    status: str = Field(max_length=30, index=True)
    transfer_ref: str | None = Field(default=None, max_length=200)
    failure: str = Field(default="", max_length=500)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class ManualTransfer(SQLModel, table=True):
    """An outgoing bank transfer for ops to make (payout to a creator, refund to a brand),
    exported as a batch file and confirmed once settled."""

    __tablename__ = "manual_transfers"

    id: uuid.UUID = id_field()
    key: str = Field(max_length=300, unique=True)
    kind: str = Field(max_length=20)  # payout, refund
    payee: str = Field(max_length=200)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    reference: str = Field(max_length=300)
    status: str = Field(default="pending", max_length=20)  # pending, settled, cancelled
    created_at: datetime = created_at_field()
    settled_at: datetime | None = aware_datetime_field()
    # A payout's creator, and their bank details as sealed when the transfer was queued.
    creator_id: uuid.UUID | None = Field(default=None, index=True)
    payee_sealed: bytes | None = Field(default=None, sa_type=LargeBinary)
    # The bank batch ops exported it in (none while it is due).
    batch_id: uuid.UUID | None = Field(default=None, foreign_key="transfer_batches.id", index=True)
    # Why it was taken out of the batches (the payout was abandoned).
    failure: str = Field(default="", max_length=500)


class TransferBatch(SQLModel, table=True):
    """Outgoing transfers ops exported together for the bank, and settle together."""

    __tablename__ = "transfer_batches"

    id: uuid.UUID = id_field()
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()
    settled_at: datetime | None = aware_datetime_field()


class Dispute(SQLModel, table=True):
    """A creator disputing a payout, or a brand a funding: recorded with the reason, shown to
    ops, resolved by ops with a note. Money moves only through the payout and funding
    processes (abandon, confirm, refund); a dispute is the record of why and what was done."""

    __tablename__ = "money_disputes"
    __table_args__ = (
        Index(
            "ix_money_disputes_open_subject",
            "subject",
            "subject_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: uuid.UUID = id_field()
    subject: str = Field(max_length=10)  # payout, funding
    subject_id: str = Field(max_length=200)
    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True)
    campaign_id: uuid.UUID = Field(foreign_key="campaigns.id")
    creator_id: uuid.UUID | None = None
    raised_by: uuid.UUID
    reason: str = Field(max_length=2000)
    status: str = Field(default="open", max_length=10, index=True)  # open, resolved
    resolution: str = Field(default="", max_length=2000)
    resolved_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()
    resolved_at: datetime | None = aware_datetime_field()


class ProviderEvent(SQLModel, table=True):
    """A verified webhook event, stored once; handled once, by its PaymentEventWorkflow."""

    __tablename__ = "provider_events"
    __table_args__ = (
        Index(
            "ix_provider_events_unhandled",
            "received_at",
            postgresql_where=text("processed_at IS NULL"),
        ),
    )

    id: str = Field(primary_key=True, max_length=255)
    type: str = Field(max_length=100)
    # What the event is about; read back from the provider when it is handled.
    object_id: str | None = Field(default=None, max_length=200)
    occurred_at: datetime = created_at_field()
    received_at: datetime = created_at_field()
    processed_at: datetime | None = aware_datetime_field()


# -- ledger ----------------------------------------------------------------------------------


def lock_accounts(session: Session, names: list[str]) -> None:
    # Transaction-scoped locks in a fixed order: entries debiting the same account serialize,
    # so two reservations can never both spend the same escrow.
    for name in sorted(set(names)):
        session.exec(select(func.pg_advisory_xact_lock(func.hashtext(name))))


def balance(session: Session, account: str, currency: str) -> int:
    total = session.exec(
        select(func.coalesce(func.sum(LedgerPosting.amount_minor), 0)).where(
            LedgerPosting.account == account, LedgerPosting.currency == currency
        )
    ).one()
    return int(total)


def find_entry(session: Session, key: str) -> LedgerEntry | None:
    return session.exec(select(LedgerEntry).where(LedgerEntry.key == key)).first()


def post_entry(session: Session, entry: ledger.Entry) -> bool:
    """Append the entry unless its key is posted already; refuse it (LedgerError) if it would
    take a money-holding account below zero. Commits with the caller's unit of work."""
    debited = [p.account for p in entry.postings if p.amount_minor < 0]
    lock_accounts(session, [f"entry:{entry.key}", *debited])
    if find_entry(session, entry.key) is not None:
        return False
    ledger.check(entry, {(a, entry.currency): balance(session, a, entry.currency) for a in debited})
    row = LedgerEntry(
        key=entry.key,
        kind=entry.kind.value,
        currency=entry.currency,
        amount_minor=entry.amount_minor,
        campaign_id=entry.campaign_id,
        workspace_id=entry.workspace_id,
        creator_id=entry.creator_id,
        reference=entry.reference,
    )
    session.add(row)
    session.flush()
    session.add_all(
        LedgerPosting(
            entry_id=row.id, account=p.account, currency=entry.currency, amount_minor=p.amount_minor
        )
        for p in entry.postings
    )
    session.flush()
    audit.record(
        session, "ledger.entry_posted", f"Money moved: {entry.kind.value}",
        workspace_id=entry.workspace_id,
        target=audit.Target("campaign", str(entry.campaign_id)) if entry.campaign_id else None,
        details={"key": entry.key, "kind": entry.kind, "currency": entry.currency,
                 "amount_minor": entry.amount_minor,
                 "postings": {p.account: p.amount_minor for p in entry.postings}},
    )  # fmt: skip
    return True


def refund_amounts(session: Session, entry_id: uuid.UUID) -> tuple[int, int]:
    """(escrow, fee) a posted refund entry returned."""
    postings = session.exec(select(LedgerPosting).where(LedgerPosting.entry_id == entry_id)).all()
    escrow = -sum(p.amount_minor for p in postings if ledger.kind_of(p.account) == ledger.ESCROW)
    fee = -sum(p.amount_minor for p in postings if ledger.kind_of(p.account) == ledger.FEES)
    return escrow, fee


def all_postings(session: Session) -> list[tuple[str, str, int]]:
    rows = session.exec(
        select(LedgerPosting.account, LedgerPosting.currency, LedgerPosting.amount_minor)
    ).all()
    return [(a, c, int(m)) for a, c, m in rows]


def entries(
    session: Session,
    *,
    workspace_id: uuid.UUID | None = None,
    campaign_id: uuid.UUID | None = None,
    creator_id: uuid.UUID | None = None,
) -> list[LedgerEntry]:
    query = select(LedgerEntry)
    if workspace_id is not None:
        query = query.where(LedgerEntry.workspace_id == workspace_id)
    if campaign_id is not None:
        query = query.where(LedgerEntry.campaign_id == campaign_id)
    if creator_id is not None:
        query = query.where(LedgerEntry.creator_id == creator_id)
    return list(session.exec(query.order_by(col(LedgerEntry.created_at), col(LedgerEntry.key))))


def entries_with_reference(session: Session, kind: str, references: list[str]) -> set[str]:
    rows = session.exec(
        select(LedgerEntry.reference).where(
            LedgerEntry.kind == kind, col(LedgerEntry.reference).in_(references)
        )
    ).all()
    return set(rows)


# -- fundings --------------------------------------------------------------------------------

UNDER_WAY = ("pending", "succeeded", "requires_action", "processing", "awaiting_transfer")
# A funding still `pending` (opened, never charged) this long after it was opened belongs to
# a request that died before charging it (its API process, or the database, went away): the
# next request resumes it, charging it under its own key, instead of being refused forever.
ABANDONED_AFTER = timedelta(minutes=2)


def get_funding(session: Session, funding_id: uuid.UUID) -> Funding | None:
    return session.get(Funding, funding_id)


def funding_by_ref(session: Session, provider_ref: str) -> Funding | None:
    return session.exec(select(Funding).where(Funding.provider_ref == provider_ref)).first()


def fundings_of(session: Session, campaign_id: uuid.UUID) -> list[Funding]:
    return list(
        session.exec(
            select(Funding)
            .where(Funding.campaign_id == campaign_id)
            .order_by(col(Funding.created_at), col(Funding.id))
        )
    )


def confirm_funding(session: Session, funding_id: uuid.UUID) -> Funding:
    """The money arrived: mark the funding succeeded and post it to the ledger, once."""
    funding = session.exec(select(Funding).where(Funding.id == funding_id).with_for_update()).one()
    # A campaign's closing refund holds this lock while it decides what to keep: the money
    # lands either before it (and is kept where owed) or after it.
    lock_accounts(session, [ledger.account(ledger.ESCROW, funding.campaign_id)])
    money_in = ledger.funding(
        f"funding-{funding.id}",
        campaign_id=funding.campaign_id,
        workspace_id=funding.workspace_id,
        currency=funding.currency,
        budget_minor=funding.budget_minor,
        fee_minor=funding.fee_minor,
        reference=funding.provider_ref or "",
    )
    post_entry(session, money_in)
    if funding.status != "succeeded":
        audit.record(
            session, "funding.succeeded", "Funding received",
            workspace_id=funding.workspace_id, target=audit.Target("funding", str(funding.id)),
            details={"from": funding.status, "method": funding.method,
                     "amount_minor": funding.budget_minor + funding.fee_minor,
                     "currency": funding.currency},
        )  # fmt: skip
        funding.status = "succeeded"
        save(session, funding)
    return funding


def open_funding(session: Session, row: Funding, budget_minor: int, fee_bps: int) -> Funding | None:
    """Add a funding for what the campaign's budget still lacks, or None if nothing does.
    Serialized per campaign, so two requests at once cannot both fund the same budget."""
    lock_accounts(session, [f"funding:{row.campaign_id}"])
    # A card payment still waiting for the brand's 3-D Secure does not block a new request:
    # it is superseded, and refunded in full should it complete after all.
    for waiting in session.exec(
        select(Funding).where(
            Funding.campaign_id == row.campaign_id,
            col(Funding.license_id).is_(None),
            Funding.status == "requires_action",
        )
    ):
        waiting.status, waiting.failure = "superseded", "replaced by a newer funding request"
        save(session, waiting)
    abandoned = _abandoned(session, row, col(Funding.license_id).is_(None))
    if abandoned is not None:
        return abandoned
    due = budget_minor - funded_minor(session, row.campaign_id)
    if due <= 0:
        return None
    row.budget_minor, row.fee_minor = due, ledger.platform_fee(due, fee_bps)
    save(session, row)
    return row


def _abandoned(session: Session, row: Funding, *same: Any) -> Funding | None:
    """The campaign's (or fee's) funding of the same kind left pending, if any."""
    return session.exec(
        select(Funding).where(
            Funding.campaign_id == row.campaign_id,
            Funding.method == row.method,
            Funding.provider == row.provider,
            Funding.status == "pending",
            col(Funding.created_at) < utcnow() - ABANDONED_AFTER,
            *same,
        )
    ).first()


def funded_minor(session: Session, campaign_id: uuid.UUID) -> int:
    """Budget paid in or on its way (being charged, awaiting 3-D Secure, bank transfers);
    license fees paid into the same escrow are not budget."""
    total = session.exec(
        select(func.coalesce(func.sum(Funding.budget_minor), 0)).where(
            Funding.campaign_id == campaign_id,
            col(Funding.status).in_(UNDER_WAY),
            col(Funding.license_id).is_(None),
        )
    ).one()
    return int(total)


def open_fee_funding(session: Session, row: Funding, fee_bps: int) -> Funding | None:
    """Add the funding of one license fee (the fee into escrow, plus the platform fee), or
    None when that fee is paid or being paid already. Serialized per fee."""
    assert row.license_id is not None and row.fee_number is not None
    lock_accounts(session, [f"license-fee:{row.license_id}:{row.fee_number}"])
    abandoned = _abandoned(
        session, row, Funding.license_id == row.license_id, Funding.fee_number == row.fee_number
    )
    if abandoned is not None:
        return abandoned
    under_way = session.exec(
        select(Funding.id).where(
            Funding.license_id == row.license_id,
            Funding.fee_number == row.fee_number,
            col(Funding.status).in_(UNDER_WAY),
        )
    ).first()
    if under_way is not None:
        return None
    row.fee_minor = ledger.platform_fee(row.budget_minor, fee_bps)
    save(session, row)
    return row


def fee_fundings(session: Session, license_id: uuid.UUID) -> list[Funding]:
    return list(
        session.exec(
            select(Funding)
            .where(Funding.license_id == license_id)
            .order_by(col(Funding.created_at), col(Funding.id))
        )
    )


def license_fees_awaiting_payout(session: Session, campaign_id: uuid.UUID, currency: str) -> int:
    """License fees paid into the campaign's escrow whose payouts have not reserved them yet:
    owed to creators, so a closing refund keeps them."""
    paid_in = session.exec(
        select(Funding).where(
            Funding.campaign_id == campaign_id,
            Funding.currency == currency,
            Funding.status == "succeeded",
            col(Funding.license_id).is_not(None),
        )
    ).all()
    ids = {fee_payout_id(f.license_id, f.fee_number): f.budget_minor for f in paid_in}
    reserved = entries_with_reference(session, ledger.EntryKind.RESERVE, list(ids))
    return sum(amount for payout_id, amount in ids.items() if payout_id not in reserved)


def statement(session: Session, rows: list[LedgerEntry]) -> list[tuple[LedgerEntry, int, int]]:
    """Each entry with the escrow-side amount and the platform-fee amount it moved."""
    ids = [r.id for r in rows]
    postings = session.exec(select(LedgerPosting).where(col(LedgerPosting.entry_id).in_(ids))).all()
    fee: dict[uuid.UUID, int] = {}
    for p in postings:
        if ledger.kind_of(p.account) == ledger.FEES:
            fee[p.entry_id] = fee.get(p.entry_id, 0) + abs(p.amount_minor)
    return [(r, r.amount_minor - fee.get(r.id, 0), fee.get(r.id, 0)) for r in rows]


def save(session: Session, row: SQLModel) -> None:
    if isinstance(row, Funding | Payout):
        row.updated_at = utcnow()
    session.add(row)
    session.flush()


# -- payout accounts and payouts -------------------------------------------------------------


def payout_account(session: Session, creator_id: uuid.UUID) -> PayoutAccount | None:
    return session.get(PayoutAccount, creator_id)


def payout_account_by_ref(session: Session, account_ref: str) -> PayoutAccount | None:
    return session.exec(
        select(PayoutAccount).where(PayoutAccount.account_ref == account_ref)
    ).first()


def upsert_payout(session: Session, row: Payout) -> None:
    values = row.model_dump()
    mutable = {k: values[k] for k in ("status", "transfer_ref", "failure")}
    # The subquery sees the row as it was before this statement.
    before = select(Payout.status).where(Payout.id == row.id).scalar_subquery()
    statement = (
        insert(Payout)
        .values(values)
        .on_conflict_do_update(index_elements=["id"], set_={**mutable, "updated_at": utcnow()})
        .returning(before)
    )
    previous = session.exec(statement).scalar_one()
    if previous != row.status:
        audit.record(
            session, "payout.status_changed", f"Payout {row.status}",
            workspace_id=row.workspace_id, target=audit.Target("payout", row.id),
            details={"from": previous, "to": row.status, "amount_minor": row.amount_minor,
                     "currency": row.currency, "failure": row.failure or None},
        )  # fmt: skip


def get_payout(session: Session, payout_id: str) -> Payout | None:
    return session.get(Payout, payout_id)


def payouts_of(
    session: Session, *, creator_id: uuid.UUID | None = None, status: str | None = None
) -> list[Payout]:
    query = select(Payout)
    if creator_id is not None:
        query = query.where(Payout.creator_id == creator_id)
    if status is not None:
        query = query.where(Payout.status == status)
    return list(session.exec(query.order_by(col(Payout.created_at))))


# -- manual transfers and provider events ----------------------------------------------------


def add_manual_transfer(session: Session, row: ManualTransfer) -> ManualTransfer:
    """Insert unless its key exists; return the stored row either way."""
    session.exec(
        insert(ManualTransfer)
        .values(row.model_dump())
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return session.exec(select(ManualTransfer).where(ManualTransfer.key == row.key)).one()


def manual_transfer(session: Session, key: str) -> ManualTransfer | None:
    return session.exec(select(ManualTransfer).where(ManualTransfer.key == key)).first()


def manual_transfers(session: Session, status: str | None = None) -> list[ManualTransfer]:
    query = select(ManualTransfer)
    if status is not None:
        query = query.where(ManualTransfer.status == status)
    return list(session.exec(query.order_by(col(ManualTransfer.created_at))))


def settle_manual_transfer(session: Session, transfer_id: uuid.UUID) -> ManualTransfer | None:
    row = session.exec(
        select(ManualTransfer).where(ManualTransfer.id == transfer_id).with_for_update()
    ).first()
    if row is not None and row.status == "pending":
        row.status, row.settled_at = "settled", utcnow()
        save(session, row)
    return row


def ops_user_ids(session: Session) -> list[uuid.UUID]:
    rows = session.exec(
        select(Membership.user_id).where(Membership.role == Role.OPS).distinct()
    ).all()
    return list(rows)


def store_event(
    session: Session, event_id: str, type_: str, occurred_at: datetime, object_id: str
) -> tuple[bool, bool]:
    """Store the event unless known: (whether this stored it, whether it is handled already).
    Handling is idempotent, so deliveries racing through here apply it once."""
    stored = session.exec(
        insert(ProviderEvent)
        .values(
            id=event_id,
            type=type_,
            occurred_at=occurred_at,
            object_id=object_id,
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(col(ProviderEvent.id))
    ).first()
    row = session.exec(select(ProviderEvent).where(ProviderEvent.id == event_id)).one()
    return stored is not None, row.processed_at is not None


def mark_processed(session: Session, event_id: str) -> None:
    event = session.get(ProviderEvent, event_id)
    if event is not None and event.processed_at is None:
        event.processed_at = utcnow()
        session.add(event)


def unhandled_events(
    session: Session, received_before: datetime, limit: int
) -> list[ProviderEvent]:
    """Events stored before `received_before` and not handled yet, oldest first."""
    return list(
        session.exec(
            select(ProviderEvent)
            .where(
                col(ProviderEvent.processed_at).is_(None),
                col(ProviderEvent.object_id).is_not(None),
                ProviderEvent.received_at < received_before,
            )
            .order_by(col(ProviderEvent.received_at))
            .limit(limit)
        )
    )


def spend_by_campaign(
    session: Session, workspace_id: uuid.UUID, campaign_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """What each campaign has committed to creators: reserved minus released, minor units."""
    if not campaign_ids:
        return {}
    signed = func.sum(
        case(
            (col(LedgerEntry.kind) == ledger.EntryKind.RELEASE, -col(LedgerEntry.amount_minor)),
            else_=col(LedgerEntry.amount_minor),
        )
    )
    rows = session.exec(
        select(LedgerEntry.campaign_id, signed)
        .where(
            LedgerEntry.workspace_id == workspace_id,
            col(LedgerEntry.campaign_id).in_(campaign_ids),
            col(LedgerEntry.kind).in_([ledger.EntryKind.RESERVE, ledger.EntryKind.RELEASE]),
        )
        .group_by(col(LedgerEntry.campaign_id))
    ).all()
    return {campaign_id: int(total) for campaign_id, total in rows if campaign_id is not None}


# -- invoices --------------------------------------------------------------------------------


def number_invoice(session: Session, funding_id: uuid.UUID) -> Funding:
    """Give a bank-transfer funding its invoice number, once."""
    funding = session.exec(select(Funding).where(Funding.id == funding_id).with_for_update()).one()
    if funding.invoice_number is None:
        funding.invoice_number = int(session.exec(select(INVOICE_NUMBERS.next_value())).one())
        save(session, funding)
    return funding


def names_of(
    session: Session, campaign_ids: set[uuid.UUID], creator_ids: set[uuid.UUID] | None = None
) -> tuple[dict[uuid.UUID, tuple[str, str]], dict[uuid.UUID, str]]:
    """Campaign id -> (campaign title, brand name); creator id -> display name."""
    campaigns_named: dict[uuid.UUID, tuple[str, str]] = {}
    if campaign_ids:
        rows = session.exec(
            select(Campaign.id, Campaign.title, Brand.name)
            .join(Brand, col(Brand.id) == col(Campaign.brand_id))
            .where(col(Campaign.id).in_(campaign_ids))
        ).all()
        campaigns_named = {cid: (title, brand) for cid, title, brand in rows}
    creators_named: dict[uuid.UUID, str] = {}
    if creator_ids:
        found = session.exec(
            select(CreatorProfile.id, CreatorProfile.display_name).where(
                col(CreatorProfile.id).in_(creator_ids)
            )
        ).all()
        creators_named = dict(found)
    return campaigns_named, creators_named


def ops_fundings(session: Session, *, pending_only: bool, limit: int) -> list[Funding]:
    """Fundings across the platform, newest first; `pending_only`: those waiting for money."""
    query = select(Funding)
    if pending_only:
        query = query.where(col(Funding.status).in_(("awaiting_transfer", "pending")))
    return list(
        session.exec(query.order_by(col(Funding.created_at).desc(), col(Funding.id)).limit(limit))
    )


# -- payout bank details ---------------------------------------------------------------------


def bank_details(session: Session, creator_id: uuid.UUID) -> PayoutBankDetails | None:
    return session.get(PayoutBankDetails, creator_id)


def masked(details: PayoutBankDetails) -> str:
    """The details as shown back: the kind of account and its last four characters."""
    if details.scheme == "iban":
        return f"IBAN {details.country}·· ···· {details.last4}"
    return f"US account ···· {details.last4}"


def store_bank_details(
    session: Session, creator_id: uuid.UUID, account: bank.BankAccount, key: bytes
) -> PayoutBankDetails:
    """Seal and keep the creator's payout details (replacing earlier ones), and let manual
    payouts go out to them."""
    row = session.get(PayoutBankDetails, creator_id) or PayoutBankDetails(
        creator_id=creator_id, scheme="", country="", last4="", sealed=b"", key_id=""
    )
    row.scheme, row.country, row.last4 = account.scheme, account.country, account.last4
    row.sealed = bank.seal(account, key, str(creator_id))
    row.key_id, row.updated_at = bank.key_id(key), utcnow()
    session.add(row)
    account_row = session.get(PayoutAccount, creator_id)
    if account_row is None:
        session.add(
            PayoutAccount(
                creator_id=creator_id,
                provider="manual",
                account_ref=f"manual:{creator_id}",
                payouts_enabled=True,
            )
        )
    session.flush()
    audit.record(
        session, "payout_details.changed", "Payout bank details changed", workspace_id=None,
        target=audit.Target("creator", str(creator_id)),
        details={"scheme": row.scheme, "country": row.country, "last4": row.last4},
    )  # fmt: skip
    return row


def open_bank_details(sealed: bytes, key: bytes, creator_id: uuid.UUID) -> bank.BankAccount:
    return bank.unseal(sealed, key, str(creator_id))


# -- the bank batches ops pay ----------------------------------------------------------------


def due_transfers(session: Session) -> list[ManualTransfer]:
    """Transfers waiting to go into a bank batch, oldest first."""
    return list(
        session.exec(
            select(ManualTransfer)
            .where(ManualTransfer.status == "pending", col(ManualTransfer.batch_id).is_(None))
            .order_by(col(ManualTransfer.created_at), col(ManualTransfer.id))
        )
    )


def create_batch(session: Session, created_by: uuid.UUID | None) -> TransferBatch | None:
    """Put every due transfer into a new batch; None when none is due."""
    lock_accounts(session, ["manual-transfer-batches"])
    due = due_transfers(session)
    if not due:
        return None
    batch = TransferBatch(created_by=created_by)
    session.add(batch)
    session.flush()
    for row in due:
        row.batch_id = batch.id
        session.add(row)
    session.flush()
    audit.record(
        session, "transfer_batch.created", "Bank batch created", workspace_id=None,
        target=audit.Target("transfer_batch", str(batch.id)),
        details={"transfers": len(due)},
    )  # fmt: skip
    return batch


def note_batch_export(session: Session, batch_id: uuid.UUID, transfers: int) -> None:
    """The batch file carries full bank details: who exported it, and when, is kept."""
    audit.record(
        session, "transfer_batch.exported", "Bank batch exported with full bank details",
        workspace_id=None, target=audit.Target("transfer_batch", str(batch_id)),
        details={"transfers": transfers},
    )  # fmt: skip


def batches(session: Session, limit: int = 50) -> list[TransferBatch]:
    return list(
        session.exec(
            select(TransferBatch).order_by(col(TransferBatch.created_at).desc()).limit(limit)
        )
    )


def batch(session: Session, batch_id: uuid.UUID) -> TransferBatch | None:
    return session.get(TransferBatch, batch_id)


def batch_transfers(session: Session, batch_id: uuid.UUID) -> list[ManualTransfer]:
    return list(
        session.exec(
            select(ManualTransfer)
            .where(ManualTransfer.batch_id == batch_id)
            .order_by(col(ManualTransfer.created_at), col(ManualTransfer.id))
        )
    )


def settle_batch(session: Session, batch_id: uuid.UUID) -> list[ManualTransfer]:
    """Every pending transfer of the batch settled; the ones this settled."""
    found = session.exec(
        select(TransferBatch).where(TransferBatch.id == batch_id).with_for_update()
    ).first()
    if found is None:
        return []
    settled = []
    for row in batch_transfers(session, batch_id):
        if row.status == "pending":
            row.status, row.settled_at = "settled", utcnow()
            session.add(row)
            settled.append(row)
    if found.settled_at is None:
        found.settled_at = utcnow()
        session.add(found)
    session.flush()
    return settled


def cancel_manual_transfer(session: Session, key: str, reason: str) -> ManualTransfer | None:
    """Take a pending transfer out of the batches (its payout is abandoned): the row as it
    stands, cancelled only if it was still pending."""
    row = session.exec(
        select(ManualTransfer).where(ManualTransfer.key == key).with_for_update()
    ).first()
    if row is not None and row.status == "pending":
        row.status, row.failure = "cancelled", reason[:500]
        session.add(row)
        session.flush()
    return row


def transfer_by_id(session: Session, transfer_id: uuid.UUID) -> ManualTransfer | None:
    return session.get(ManualTransfer, transfer_id)


def workspace_names(session: Session, workspace_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not workspace_ids:
        return {}
    rows = session.exec(
        select(Workspace.id, Workspace.name).where(col(Workspace.id).in_(workspace_ids))
    ).all()
    return dict(rows)


# -- disputes --------------------------------------------------------------------------------


def open_dispute(session: Session, row: Dispute) -> Dispute | None:
    """Record the dispute; None when one about the same payout or funding is open already."""
    stored = session.exec(
        insert(Dispute)
        .values(row.model_dump())
        .on_conflict_do_nothing(
            index_elements=["subject", "subject_id"], index_where=text("status = 'open'")
        )
        .returning(col(Dispute.id))
    ).first()
    if stored is None:
        return None
    audit.record(
        session, "dispute.opened", f"A {row.subject} is disputed",
        workspace_id=row.workspace_id, target=audit.Target(row.subject, row.subject_id),
        details={"reason": row.reason},
    )  # fmt: skip
    return session.get(Dispute, row.id)


def disputes(
    session: Session,
    *,
    status: str | None = None,
    workspace_id: uuid.UUID | None = None,
    creator_id: uuid.UUID | None = None,
    subject_id: str | None = None,
    limit: int = 200,
) -> list[Dispute]:
    query = select(Dispute)
    if status is not None:
        query = query.where(Dispute.status == status)
    if workspace_id is not None:
        query = query.where(Dispute.workspace_id == workspace_id)
    if creator_id is not None:
        query = query.where(Dispute.creator_id == creator_id)
    if subject_id is not None:
        query = query.where(Dispute.subject_id == subject_id)
    return list(session.exec(query.order_by(col(Dispute.created_at).desc()).limit(limit)))


def get_dispute(session: Session, dispute_id: uuid.UUID) -> Dispute | None:
    return session.get(Dispute, dispute_id)


def resolve_dispute(
    session: Session, dispute_id: uuid.UUID, resolved_by: uuid.UUID | None, note: str
) -> tuple[Dispute | None, bool]:
    """(the dispute, whether this resolved it): resolving twice keeps the first note."""
    row = session.exec(select(Dispute).where(Dispute.id == dispute_id).with_for_update()).first()
    if row is None or row.status != "open":
        return row, False
    row.status, row.resolution = "resolved", note
    row.resolved_by, row.resolved_at = resolved_by, utcnow()
    session.add(row)
    session.flush()
    audit.record(
        session, "dispute.resolved", f"A disputed {row.subject} is resolved",
        workspace_id=row.workspace_id, target=audit.Target(row.subject, row.subject_id),
        details={"resolution": note},
    )  # fmt: skip
    return row, True
