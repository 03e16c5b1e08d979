"""Contracts of the processes that handle what a payment provider reports: a verified webhook
event (PaymentEventWorkflow) and a funding's confirmation (FundingWorkflow)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from workflows.contracts.payouts import CURRENCY


def payment_event_workflow_id(event_id: str) -> str:
    return f"payment-event-{event_id}"


def funding_workflow_id(funding_id: object) -> str:
    return f"funding-{funding_id}"


class ProviderEventRef(BaseModel):
    """A stored webhook event: which provider object changed. Its body is never trusted."""

    event_id: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=1, max_length=100)
    object_id: str = Field(min_length=1, max_length=200)


class SettlePayment(BaseModel):
    """Bring a funding to what is true: for a card, what the provider says of the payment
    (found by `provider_ref` or `funding_id`); for a bank transfer, ops' confirmation that it
    arrived (`confirmed_by_ops`, by `funding_id` only)."""

    funding_id: uuid.UUID | None = None
    provider_ref: str | None = Field(default=None, max_length=200)
    confirmed_by_ops: bool = False

    @model_validator(mode="after")
    def _one_way_to_find_it(self) -> SettlePayment:
        if (self.funding_id is None) == (self.provider_ref is None):
            raise ValueError("give funding_id or provider_ref")
        return self


class FundingFacts(BaseModel):
    """A funding whose money is in the escrow ledger, as the fundings table records it."""

    funding_id: uuid.UUID
    campaign_id: uuid.UUID
    workspace_id: uuid.UUID
    license_id: uuid.UUID | None = None
    fee_number: int | None = None
    budget_minor: int
    fee_minor: int
    currency: str = Field(pattern=CURRENCY)


SettleOutcome = Literal["confirmed", "refunded", "failed", "waiting", "ignored"]


class Settled(BaseModel):
    outcome: SettleOutcome
    # Set when the money is in the escrow: who to tell.
    funding: FundingFacts | None = None
    detail: str = ""
