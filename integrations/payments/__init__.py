"""Payment provider port: take a brand's money, open creators' payout accounts, pay them,
refund, and read the provider's webhooks. Provider types never leave this package.

`manual` (the embedded default): bank transfers ops confirm; outgoing money is a batch file.
`stripe`: PaymentIntents for cards, Connect Express accounts and transfers for creators.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import Engine

from nexus.settings import PaymentSettings

ChargeStatus = Literal["succeeded", "requires_action", "processing", "awaiting_transfer", "failed"]
# Where a payment stands at the provider now.
PaymentStatus = Literal["succeeded", "requires_action", "processing", "failed", "canceled"]


class PaymentError(Exception):
    """A provider call that failed."""


class Refused(PaymentError):
    """The provider refused the request as given: repeating it cannot succeed."""


class Unavailable(PaymentError):
    """The provider could not be reached or failed on its side: try again later."""


class BadSignature(PaymentError):
    """A webhook whose signature or age does not check out."""


class MalformedEvent(PaymentError):
    """An authentic webhook whose body is not an event the platform can store: `field` names
    the part that is missing, too long or of the wrong type."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class ChargeRequest:
    key: str  # idempotency key
    amount_minor: int
    currency: str
    payment_method: str | None = None  # a card tokenized by the client (Stripe.js)
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Charge:
    status: ChargeStatus
    provider_ref: str
    # For `requires_action`: the client completes 3-D Secure with it (Stripe.js).
    client_secret: str | None = None
    failure: str = ""
    # For `awaiting_transfer`: what the brand quotes on the bank transfer.
    instructions: str = ""


@dataclass(frozen=True)
class PayoutAccount:
    account_ref: str
    payouts_enabled: bool


@dataclass(frozen=True)
class TransferRequest:
    key: str  # idempotency key: the same key never pays twice
    account_ref: str
    amount_minor: int
    currency: str
    reference: str


@dataclass(frozen=True)
class Transfer:
    # "pending": handed over (a bank batch) but not settled yet.
    status: Literal["paid", "pending"]
    transfer_ref: str


@dataclass(frozen=True)
class RefundRequest:
    key: str
    charge_ref: str
    payee: str
    amount_minor: int
    currency: str
    reference: str


@dataclass(frozen=True)
class Refund:
    status: Literal["refunded", "pending"]
    refund_ref: str


@dataclass(frozen=True)
class Payment:
    """A payment as the provider records it when asked (never as an event tells it)."""

    provider_ref: str
    status: PaymentStatus
    # What was received once `succeeded`, what is asked for before.
    amount_minor: int
    currency: str  # ISO 4217, upper case
    metadata: dict[str, str]
    failure: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    """What the platform keeps of a verified event: which object changed, and when. Its body
    is never acted on: the object is read back from the provider."""

    id: str
    type: str
    occurred_at: datetime
    object_id: str


class PaymentProvider(Protocol):
    name: str

    def charge(self, request: ChargeRequest) -> Charge: ...

    def payment(self, provider_ref: str) -> Payment:
        """The payment as the provider has it now."""

    def open_account(
        self, key: str, creator_id: uuid.UUID, email: str, country: str
    ) -> PayoutAccount: ...

    def onboarding_link(self, account_ref: str) -> str | None:
        """Where the creator completes onboarding; None where nothing is left to do."""

    def account(self, account_ref: str) -> PayoutAccount: ...

    def transfer(self, request: TransferRequest) -> Transfer: ...

    def transfer_status(self, transfer_ref: str) -> Transfer:
        """The transfer as the provider has it now (settled or not)."""

    def refund(self, request: RefundRequest) -> Refund: ...

    def parse_webhook(self, payload: bytes, signature: str | None) -> WebhookEvent: ...


def provider_from_settings(engine: Engine, settings: PaymentSettings) -> PaymentProvider:
    if settings.provider == "stripe":
        from integrations.payments.stripe_connect import StripePayments

        return StripePayments(settings)
    from integrations.payments.manual import ManualPayments

    return ManualPayments(engine, settings)
