"""The manual provider: brands pay by bank transfer (ops confirm it arrived); creators and
refunds are paid from a batch file ops export for their bank or PayPal mass payout, and
confirm once settled. Every outgoing transfer is a row keyed by its idempotency key."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from integrations.payments import (
    BadSignature,
    Charge,
    ChargeRequest,
    Payment,
    PayoutAccount,
    Refund,
    RefundRequest,
    Refused,
    Transfer,
    TransferRequest,
    WebhookEvent,
)
from models import money
from models.db import session_scope

PREFIX = "manual:"


def bank_reference(key: str) -> str:
    """A short reference the brand quotes on its transfer, stable for the same request."""
    return "NEXUS-" + uuid.uuid5(uuid.NAMESPACE_URL, key).hex[:10].upper()


class ManualPayments:
    name = "manual"

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def charge(self, request: ChargeRequest) -> Charge:
        reference = bank_reference(request.key)
        return Charge(
            status="awaiting_transfer",
            provider_ref=PREFIX + reference,
            instructions=(
                f"Transfer {request.amount_minor} minor units of {request.currency} to the "
                f"NEXUS escrow account quoting {reference}; it is confirmed on arrival."
            ),
        )

    def payment(self, provider_ref: str) -> Payment:
        # Nobody but ops can tell that a bank transfer arrived: they confirm it.
        raise Refused("a bank transfer is confirmed by ops, not read from a provider")

    def open_account(
        self, key: str, creator_id: uuid.UUID, email: str, country: str
    ) -> PayoutAccount:
        # Bank or PayPal details are collected by ops with the creator's agreement.
        return PayoutAccount(PREFIX + str(creator_id), payouts_enabled=True)

    def onboarding_link(self, account_ref: str) -> str | None:
        return None

    def account(self, account_ref: str) -> PayoutAccount:
        return PayoutAccount(account_ref, payouts_enabled=True)

    def _queue(self, key: str, kind: str, payee: str, amount: int, currency: str, ref: str) -> str:
        with session_scope(self._engine) as session:
            row = money.add_manual_transfer(
                session,
                money.ManualTransfer(
                    key=key, kind=kind, payee=payee, amount_minor=amount, currency=currency,
                    reference=ref,
                ),
            )  # fmt: skip
            return row.status

    def transfer(self, request: TransferRequest) -> Transfer:
        status = self._queue(
            request.key, "payout", request.account_ref, request.amount_minor, request.currency,
            request.reference,
        )  # fmt: skip
        return Transfer("paid" if status == "settled" else "pending", PREFIX + request.key)

    def transfer_status(self, transfer_ref: str) -> Transfer:
        """As ops recorded it: settled once they confirmed the bank batch carrying it."""
        with session_scope(self._engine) as session:
            row = money.manual_transfer(session, transfer_ref.removeprefix(PREFIX))
            if row is None or row.kind != "payout":
                raise Refused(f"no transfer {transfer_ref}")
            return Transfer("paid" if row.status == "settled" else "pending", transfer_ref)

    def refund(self, request: RefundRequest) -> Refund:
        status = self._queue(
            request.key, "refund", request.payee, request.amount_minor, request.currency,
            request.reference,
        )  # fmt: skip
        return Refund("refunded" if status == "settled" else "pending", PREFIX + request.key)

    def parse_webhook(self, payload: bytes, signature: str | None) -> WebhookEvent:
        raise BadSignature("the manual provider takes no webhooks")
