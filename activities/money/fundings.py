"""Funding activities: what a payment provider reports is acted on only as the provider
records it when asked (never as a webhook's body tells it), and a signalled funding only as
the fundings table and the ledger record it. Every one is idempotent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity

from domain import words
from domain.enums import CampaignStage
from integrations.payments import Payment, PaymentProvider, RefundRequest, Refused
from models import creators, licenses, money
from models.base import utcnow
from models.campaigns import Campaign
from models.db import session_scope
from workflows.contracts.license import fee_payout
from workflows.contracts.payments import (
    FundingFacts,
    ProviderEventRef,
    Settled,
    SettlePayment,
)
from workflows.contracts.payouts import PayoutRequest

CLOSED = frozenset({CampaignStage.COMPLETED, CampaignStage.CANCELLED})
# Events are handled as they arrive; the sweep takes only those left behind for this long.
SWEEP_GRACE = timedelta(minutes=1)
SWEEP_BATCH = 100


@dataclass(frozen=True)
class _Found:
    funding_id: uuid.UUID
    method: str
    provider_ref: str | None


def _facts(funding: money.Funding) -> FundingFacts:
    return FundingFacts(
        funding_id=funding.id,
        campaign_id=funding.campaign_id,
        workspace_id=funding.workspace_id,
        license_id=funding.license_id,
        fee_number=funding.fee_number,
        budget_minor=funding.budget_minor,
        fee_minor=funding.fee_minor,
        currency=funding.currency,
    )


def _unwanted(session: Session, funding: money.Funding) -> str | None:
    """Why a card payment that completed must not enter escrow: its campaign closed (the
    closing refund has run) or a newer request replaced it. None when it is wanted."""
    if funding.status == "superseded":
        return "completed after a newer funding request replaced it"
    if funding.license_id is not None or funding.status == "succeeded":
        return None
    campaign = session.get(Campaign, funding.campaign_id)
    if campaign is not None and campaign.stage in CLOSED:
        return "arrived after the campaign closed"
    return None


def _mismatch(funding: money.Funding, payment: Payment) -> str | None:
    """Why the provider's payment is not the one the funding asked for, if it is not."""
    expected = funding.budget_minor + funding.fee_minor
    if payment.amount_minor == expected and payment.currency == funding.currency:
        return None
    return (
        f"the provider reported {words.money(payment.amount_minor, payment.currency)}, not "
        f"the {words.money(expected, funding.currency)} asked for: not taken into escrow"
    )


class FundingActivities:
    def __init__(self, engine: Engine, provider: PaymentProvider) -> None:
        self._engine = engine
        self._provider = provider

    @activity.defn(name="money.settle_payment")
    def settle_payment(self, order: SettlePayment) -> Settled:
        found = self._find(order)
        if found is None:
            return Settled(outcome="ignored", detail="no funding is this payment")
        if found.method == "bank_transfer":
            # A provider event never confirms a bank transfer: only ops see it arrive.
            if not order.confirmed_by_ops or order.funding_id is None:
                return Settled(outcome="ignored", detail="a bank transfer is confirmed by ops")
            return self._confirm(found.funding_id)
        if found.provider_ref is None:
            return Settled(outcome="waiting", detail="the charge has not been made yet")
        try:
            payment = self._provider.payment(found.provider_ref)
        except Refused as exc:
            # Nothing the provider confirms, so nothing moves; asking again cannot change it.
            return Settled(outcome="ignored", detail=f"the provider does not know it: {exc}")
        if payment.metadata.get("funding_id") != str(found.funding_id):
            return Settled(outcome="ignored", detail="the payment was made for another funding")
        if payment.status in ("requires_action", "processing"):
            return Settled(outcome="waiting", detail=f"the payment is {payment.status}")
        if payment.status != "succeeded":
            return self._fail(found.funding_id, payment.failure or f"the payment {payment.status}")
        return self._succeeded(found.funding_id, payment)

    def _find(self, order: SettlePayment) -> _Found | None:
        with session_scope(self._engine) as session:
            if order.funding_id is not None:
                funding = money.get_funding(session, order.funding_id)
            else:
                assert order.provider_ref is not None
                funding = money.funding_by_ref(session, order.provider_ref)
            if funding is None:
                return None
            return _Found(funding.id, funding.method, funding.provider_ref)

    def _confirm(self, funding_id: uuid.UUID) -> Settled:
        with session_scope(self._engine) as session:
            funding = money.confirm_funding(session, funding_id)
            return Settled(outcome="confirmed", funding=_facts(funding))

    def _fail(self, funding_id: uuid.UUID, why: str) -> Settled:
        with session_scope(self._engine) as session:
            funding = money.get_funding(session, funding_id)
            assert funding is not None
            if funding.status == "succeeded":
                return Settled(outcome="ignored", detail="the funding is in the escrow already")
            funding.status, funding.failure = "failed", why[:500]
            money.save(session, funding)
        return Settled(outcome="failed", detail=why)

    def _succeeded(self, funding_id: uuid.UUID, payment: Payment) -> Settled:
        with session_scope(self._engine) as session:
            funding = money.get_funding(session, funding_id)
            assert funding is not None
            if funding.status == "refunded":
                return Settled(outcome="refunded", detail=funding.failure)
            mismatch = _mismatch(funding, payment)
            unwanted = _unwanted(session, funding)
            amount = funding.budget_minor + funding.fee_minor
        if mismatch is not None:
            # For ops to settle with the provider; nothing enters the ledger.
            return self._fail(funding_id, mismatch)
        if unwanted is None:
            return self._confirm(funding_id)
        return self._refund(funding_id, payment, amount, unwanted)

    def _refund(self, funding_id: uuid.UUID, payment: Payment, amount: int, why: str) -> Settled:
        """Give the whole payment back at the provider; nothing enters the ledger. A refusal
        leaves the funding for ops, marked with the reason."""
        with session_scope(self._engine) as session:
            funding = money.get_funding(session, funding_id)
            assert funding is not None
            request = RefundRequest(
                key=f"unwanted-funding-{funding.id}",
                charge_ref=payment.provider_ref,
                payee=str(funding.workspace_id),
                amount_minor=amount,
                currency=funding.currency,
                reference=f"campaign-{funding.campaign_id}",
            )
        try:
            self._provider.refund(request)
        except Refused as exc:
            return self._fail(funding_id, f"{why}; the refund failed: {exc}")
        with session_scope(self._engine) as session:
            funding = money.get_funding(session, funding_id)
            assert funding is not None
            funding.status, funding.refunded_minor = "refunded", amount
            funding.failure = f"{why}; refunded in full"
            money.save(session, funding)
        return Settled(outcome="refunded", detail=why)

    @activity.defn(name="money.funding_facts")
    def funding_facts(self, funding_id: uuid.UUID) -> FundingFacts | None:
        """The funding as recorded, only if its money is in the escrow ledger: what a
        process checks a signal against before it acts on it."""
        with session_scope(self._engine) as session:
            funding = money.get_funding(session, funding_id)
            if funding is None or funding.status != "succeeded":
                return None
            if money.find_entry(session, f"funding-{funding.id}") is None:
                return None
            return _facts(funding)

    @activity.defn(name="money.campaign_fundings")
    def campaign_fundings(self, campaign_id: uuid.UUID) -> list[FundingFacts]:
        """The campaign's budget fundings whose money is in the escrow ledger."""
        with session_scope(self._engine) as session:
            return [
                _facts(f)
                for f in money.fundings_of(session, campaign_id)
                if f.status == "succeeded"
                and f.license_id is None
                and money.find_entry(session, f"funding-{f.id}") is not None
            ]

    @activity.defn(name="money.fee_payout_request")
    def fee_payout_request(self, funding_id: uuid.UUID) -> PayoutRequest:
        """The payout of a paid license fee, for when the license's process has closed."""
        with session_scope(self._engine) as session:
            funding = money.get_funding(session, funding_id)
            assert funding is not None
            assert funding.license_id is not None and funding.fee_number is not None
            row = licenses.get_license(session, funding.license_id)
            assert row is not None
            profile = creators.get_profile(session, row.creator_id)
            assert profile is not None
            return fee_payout(
                license_id=row.id, number=funding.fee_number, workspace_id=row.workspace_id,
                campaign_id=row.campaign_id, creator_id=row.creator_id,
                creator_user_id=profile.user_id, amount_minor=funding.budget_minor,
                currency=funding.currency,
            )  # fmt: skip

    @activity.defn(name="money.refresh_account")
    def refresh_account(self, account_ref: str) -> list[str]:
        """Apply the payout account's state as the provider has it now; the payouts waiting
        for it when it can receive money."""
        with session_scope(self._engine) as session:
            if money.payout_account_by_ref(session, account_ref) is None:
                return []
        try:
            state = self._provider.account(account_ref)
        except Refused:
            activity.logger.warning("the provider does not know account %s", account_ref)
            return []
        with session_scope(self._engine) as session:
            account = money.payout_account_by_ref(session, account_ref)
            assert account is not None
            account.payouts_enabled, account.state_at = state.payouts_enabled, utcnow()
            money.save(session, account)
            if not state.payouts_enabled:
                return []
            waiting = money.payouts_of(
                session, creator_id=account.creator_id, status="awaiting_onboarding"
            )
            return [payout.id for payout in waiting]

    @activity.defn(name="money.mark_event_handled")
    def mark_event_handled(self, event_id: str) -> None:
        with session_scope(self._engine) as session:
            money.mark_processed(session, event_id)

    @activity.defn(name="money.unhandled_events")
    def unhandled_events(self) -> list[ProviderEventRef]:
        """Events stored but left unhandled (the API stopped between storing one and starting
        its process), oldest first."""
        with session_scope(self._engine) as session:
            rows = money.unhandled_events(session, utcnow() - SWEEP_GRACE, SWEEP_BATCH)
            return [
                ProviderEventRef(event_id=r.id, type=r.type, object_id=r.object_id)
                for r in rows
                if r.object_id is not None
            ]
