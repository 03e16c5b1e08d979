"""Money activities: ledger postings, transfers and refunds through the payment provider.
Every one is idempotent: ledger entries carry keys, provider calls carry idempotency keys."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain import ledger
from domain.enums import CampaignStage
from integrations.payments import (
    PaymentProvider,
    RefundRequest,
    Refused,
    TransferRequest,
)
from models import money
from models.campaigns import Campaign
from models.db import session_scope
from workflows.contracts.payouts import (
    AbandonedPayout,
    PaidOrder,
    PayoutRecord,
    PayoutRequest,
    RefundOrder,
    RefundResult,
    TransferOrder,
    TransferResult,
)

CLOSED_STAGES = frozenset({CampaignStage.COMPLETED, CampaignStage.CANCELLED})


def reserve_key(payout_id: str) -> str:
    return f"payout-{payout_id}:reserve"


def _reservation(request: PayoutRequest) -> ledger.Entry:
    return ledger.reserve(
        reserve_key(request.payout_id),
        payout_id=request.payout_id,
        campaign_id=request.campaign_id,
        workspace_id=request.workspace_id,
        creator_id=request.creator_id,
        currency=request.currency,
        amount_minor=request.amount_minor,
    )


class MoneyActivities:
    def __init__(self, engine: Engine, provider: PaymentProvider) -> None:
        self._engine = engine
        self._provider = provider

    @activity.defn(name="money.reserve")
    def reserve(self, request: PayoutRequest) -> None:
        """Escrow -> payable. Refused (non-retryable) when the escrow cannot cover it."""
        try:
            with session_scope(self._engine) as session:
                money.post_entry(session, _reservation(request))
        except ledger.LedgerError as exc:
            raise ApplicationError(str(exc), type="InsufficientEscrow", non_retryable=True) from exc

    @activity.defn(name="money.release")
    def release(self, request: PayoutRequest) -> None:
        with session_scope(self._engine) as session:
            if money.find_entry(session, reserve_key(request.payout_id)) is not None:
                key = f"payout-{request.payout_id}:release"
                money.post_entry(session, ledger.release(key, _reservation(request)))

    @activity.defn(name="money.destination")
    def destination(self, creator_id: uuid.UUID) -> str | None:
        """The creator's payout account, if it can receive money now: a manual one only with
        bank details to pay to."""
        with session_scope(self._engine) as session:
            account = money.payout_account(session, creator_id)
            if account is None or not account.payouts_enabled:
                return None
            if account.provider == "manual" and money.bank_details(session, creator_id) is None:
                return None
            return account.account_ref

    @activity.defn(name="money.transfer")
    def transfer(self, order: TransferOrder) -> TransferResult:
        request = order.request
        try:
            result = self._provider.transfer(
                TransferRequest(
                    key=order.idempotency_key,
                    account_ref=order.account_ref,
                    amount_minor=request.amount_minor,
                    currency=request.currency,
                    reference=f"payout-{request.payout_id}",
                )
            )
        except Refused as exc:
            raise ApplicationError(str(exc), type="TransferRefused", non_retryable=True) from exc
        return TransferResult(status=result.status, transfer_ref=result.transfer_ref)

    @activity.defn(name="money.transfer_settled")
    def transfer_settled(self, transfer_ref: str) -> bool:
        """Whether the provider has the transfer settled (a `settled` signal only says so)."""
        try:
            return self._provider.transfer_status(transfer_ref).status == "paid"
        except Refused as exc:
            raise ApplicationError(str(exc), type="UnknownTransfer", non_retryable=True) from exc

    @activity.defn(name="money.record_paid")
    def record_paid(self, order: PaidOrder) -> None:
        """Payable -> the creator: the money left the platform."""
        key = f"payout-{order.request.payout_id}:paid"
        entry = ledger.payout(key, _reservation(order.request), transfer_ref=order.transfer_ref)
        with session_scope(self._engine) as session:
            money.post_entry(session, entry)

    @activity.defn(name="money.record_payout")
    def record_payout(self, record: PayoutRecord) -> None:
        r = record.request
        with session_scope(self._engine) as session:
            money.upsert_payout(
                session,
                money.Payout(
                    id=r.payout_id,
                    workspace_id=r.workspace_id,
                    campaign_id=r.campaign_id,
                    creator_id=r.creator_id,
                    reason=r.reason,
                    source_id=r.source_id,
                    amount_minor=r.amount_minor,
                    currency=r.currency,
                    status=record.status,
                    transfer_ref=record.transfer_ref,
                    failure=record.failure[:500],
                ),
            )

    @activity.defn(name="money.ops_users")
    def ops_users(self) -> list[uuid.UUID]:
        with session_scope(self._engine) as session:
            return money.ops_user_ids(session)

    @activity.defn(name="money.refund_escrow")
    def refund_escrow(self, order: RefundOrder) -> RefundResult:
        """Post the refund of what the campaign no longer needs, then pay it back against the
        campaign's fundings; a repeated attempt re-sends the same provider requests."""
        with session_scope(self._engine) as session:
            entry = money.find_entry(session, order.idempotency_key)
            if entry is None:
                entry_amounts = self._post_refund(session, order)
            else:
                entry_amounts = money.refund_amounts(session, entry.id)
        return self._pay_back(order, entry_amounts)

    @activity.defn(name="money.return_abandoned")
    def return_abandoned(self, request: PayoutRequest) -> AbandonedPayout:
        """After an abandoned payout's reservation went back to the escrow: a closed campaign
        (whose unspent budget was refunded already) gives that money back to the brand too,
        with its share of the platform fee. Names the campaign and creator for the messages."""
        order = RefundOrder(
            idempotency_key=f"payout-{request.payout_id}:return",
            campaign_id=request.campaign_id,
            workspace_id=request.workspace_id,
            currency=request.currency,
        )
        with session_scope(self._engine) as session:
            named, creators_named = money.names_of(
                session, {request.campaign_id}, {request.creator_id}
            )
            campaign = session.get(Campaign, request.campaign_id)
            closed = campaign is not None and campaign.stage in CLOSED_STAGES
            entry = money.find_entry(session, order.idempotency_key)
            if entry is not None:
                amounts = money.refund_amounts(session, entry.id)
            elif closed and money.find_entry(session, f"payout-{request.payout_id}:release"):
                amounts = self._post_return(session, order, request.amount_minor)
            else:
                amounts = (0, 0)
        result = (
            self._pay_back(order, amounts)
            if amounts != (0, 0)
            else RefundResult(refunded_minor=0, fee_refunded_minor=0)
        )
        title, brand = named.get(request.campaign_id, ("the campaign", "the brand"))
        return AbandonedPayout(
            campaign=title,
            brand=brand,
            creator=creators_named.get(request.creator_id, "the creator"),
            refunded_minor=result.refunded_minor,
            fee_refunded_minor=result.fee_refunded_minor,
        )

    def _post_return(
        self, session: Session, order: RefundOrder, amount_minor: int
    ) -> tuple[int, int]:
        escrow = ledger.account(ledger.ESCROW, order.campaign_id)
        fees = ledger.account(ledger.FEES, order.campaign_id)
        money.lock_accounts(session, [escrow])
        back = min(amount_minor, money.balance(session, escrow, order.currency))
        funded = [
            f for f in money.fundings_of(session, order.campaign_id) if f.status == "succeeded"
        ]
        fee_part = min(
            ledger.fee_share(
                sum(f.fee_minor for f in funded), sum(f.budget_minor for f in funded), back
            ),
            money.balance(session, fees, order.currency),
        )
        entry = ledger.refund(
            order.idempotency_key, campaign_id=order.campaign_id, workspace_id=order.workspace_id,
            currency=order.currency, escrow_minor=max(back, 0), fee_minor=fee_part,
            reference=f"campaign-{order.campaign_id}",
        )  # fmt: skip
        if entry is None:
            return 0, 0
        money.post_entry(session, entry)
        return max(back, 0), fee_part

    def _pay_back(self, order: RefundOrder, entry_amounts: tuple[int, int]) -> RefundResult:
        """Send a posted refund back against the campaign's fundings, each under its own key."""
        with session_scope(self._engine) as session:
            fundings = [
                (f.id, f.provider_ref, f.budget_minor + f.fee_minor)
                for f in money.fundings_of(session, order.campaign_id)
                if f.status == "succeeded" and f.provider_ref
            ]
        escrow_part, fee_part = entry_amounts
        remaining = escrow_part + fee_part
        for funding_id, charge_ref, paid in fundings:
            if remaining <= 0:
                break
            amount = min(paid, remaining)
            try:
                self._provider.refund(
                    RefundRequest(
                        key=f"{order.idempotency_key}:{funding_id}",
                        charge_ref=charge_ref,
                        payee=str(order.workspace_id),
                        amount_minor=amount,
                        currency=order.currency,
                        reference=f"campaign-{order.campaign_id}",
                    )
                )
            except Refused as exc:
                raise ApplicationError(str(exc), type="RefundRefused", non_retryable=True) from exc
            remaining -= amount
        return RefundResult(refunded_minor=escrow_part, fee_refunded_minor=fee_part)

    def _post_refund(self, session: Session, order: RefundOrder) -> tuple[int, int]:
        escrow = ledger.account(ledger.ESCROW, order.campaign_id)
        fees = ledger.account(ledger.FEES, order.campaign_id)
        # Held against reservations for the whole computation.
        money.lock_accounts(session, [escrow])
        reserved = money.entries_with_reference(session, ledger.EntryKind.RESERVE, list(order.owed))
        keep = sum(amount for pid, amount in order.owed.items() if pid not in reserved)
        # License fees paid in for creators, on their way to a payout, are not unspent.
        keep += money.license_fees_awaiting_payout(session, order.campaign_id, order.currency)
        unspent = max(money.balance(session, escrow, order.currency) - keep, 0)
        funded = [
            f for f in money.fundings_of(session, order.campaign_id) if f.status == "succeeded"
        ]
        fee_part = min(
            ledger.fee_share(
                sum(f.fee_minor for f in funded), sum(f.budget_minor for f in funded), unspent
            ),
            money.balance(session, fees, order.currency),
        )
        entry = ledger.refund(
            order.idempotency_key, campaign_id=order.campaign_id, workspace_id=order.workspace_id,
            currency=order.currency, escrow_minor=unspent, fee_minor=fee_part,
            reference=f"campaign-{order.campaign_id}",
        )  # fmt: skip
        if entry is None:
            return 0, 0
        money.post_entry(session, entry)
        return unspent, fee_part
