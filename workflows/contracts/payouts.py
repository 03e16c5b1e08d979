"""Contracts of the money processes: funding a campaign, paying a creator, refunding escrow."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, Field

PayoutReason = Literal["delivery", "license_fee"]
PayoutStatus = Literal[
    "reserving",
    "awaiting_onboarding",
    "transferring",
    "awaiting_settlement",
    "paid",
    "failed",
]
CURRENCY = r"^[A-Z]{3}$"


class PayoutRequest(BaseModel):
    """One fee owed to a creator, paid from a campaign's escrow: an approved delivery, or a
    license renewal or extension (charged into the escrow first)."""

    payout_id: str = Field(min_length=1, max_length=150, pattern=r"^[A-Za-z0-9_.:-]+$")
    workspace_id: uuid.UUID
    campaign_id: uuid.UUID
    creator_id: uuid.UUID
    creator_user_id: uuid.UUID
    amount_minor: int = Field(gt=0, le=10**12)
    currency: str = Field(pattern=CURRENCY)
    reason: PayoutReason
    source_id: str = Field(min_length=1, max_length=200)
    # How often the creator is reminded while no payout account can receive the money.
    remind_every: timedelta = timedelta(days=3)


class PayoutState(BaseModel):
    payout_id: str
    status: PayoutStatus
    amount_minor: int
    currency: str
    transfer_ref: str | None = None
    failure: str = ""
    reminders_sent: int = 0


class PayoutRecord(BaseModel):
    """The read-model row of a payout."""

    request: PayoutRequest
    status: PayoutStatus
    transfer_ref: str | None = None
    failure: str = ""


class TransferOrder(BaseModel):
    # Derived from the workflow ID: every attempt, on any worker, sends the same key.
    idempotency_key: str
    request: PayoutRequest
    account_ref: str


class TransferResult(BaseModel):
    status: Literal["paid", "pending"]
    transfer_ref: str


class PaidOrder(BaseModel):
    request: PayoutRequest
    transfer_ref: str


class FundingConfirmed(BaseModel):
    """Signalled to a campaign when money for it has arrived (and is in the ledger)."""

    funding_id: uuid.UUID
    budget_minor: int = Field(gt=0)
    fee_minor: int = Field(ge=0)
    currency: str = Field(pattern=CURRENCY)


class RefundOrder(BaseModel):
    """Return a closed campaign's unspent escrow; `owed` (payout id -> amount) stays for the
    approved work whose payouts may not have reserved their money yet."""

    idempotency_key: str
    campaign_id: uuid.UUID
    workspace_id: uuid.UUID
    currency: str = Field(pattern=CURRENCY)
    owed: dict[str, int] = Field(default_factory=dict)


class RefundResult(BaseModel):
    refunded_minor: int
    fee_refunded_minor: int


class AbandonedPayout(BaseModel):
    """Where an abandoned payout's money went, and the names its messages use."""

    campaign: str
    brand: str
    creator: str
    # Given back to the brand (the campaign had closed); 0 when it stays in the escrow.
    refunded_minor: int = 0
    fee_refunded_minor: int = 0
