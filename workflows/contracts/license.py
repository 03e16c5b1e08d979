"""Contracts of the licensing process."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from domain.enums import LicenseStatus
from domain.license_terms import (
    Exclusivity,
    Grant,
    Period,
    TermError,
    as_utc,
)
from workflows.contracts.campaign import (
    Channel,
    Modification,
    PlatformNames,
    TerritoryCodes,
    UsageRightsSpec,
)
from workflows.contracts.payouts import PayoutRequest

Party = Literal["brand", "creator"]


class ExclusivityTerm(BaseModel):
    category: str = Field(min_length=1, max_length=100)
    ends_at: AwareDatetime


class LicenseTerms(BaseModel):
    """Machine-readable usage rights of one asset."""

    channels: list[Channel] = Field(min_length=1)
    platforms: PlatformNames = Field(default_factory=list)
    territories: TerritoryCodes
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None  # None: perpetual
    # Perpetual rights only with the creator's explicit consent.
    perpetual_consent: bool = False
    exclusivity: ExclusivityTerm | None = None
    modification: Modification = "edit"
    attribution: bool = False
    fee_minor: int = Field(default=0, ge=0, le=10**12)
    currency: str = Field(pattern=r"^[A-Z]{3}$")

    @model_validator(mode="after")
    def _consistent(self) -> LicenseTerms:
        if self.ends_at is None and not self.perpetual_consent:
            raise ValueError("perpetual rights need the creator's explicit consent")
        try:
            period = self.period()
        except TermError as exc:
            raise ValueError(str(exc)) from exc
        if self.exclusivity is not None and self.exclusivity.ends_at <= period.starts_at:
            raise ValueError("exclusivity must end after the license starts")
        return self

    def period(self) -> Period:
        return Period(self.starts_at, self.ends_at)

    def grant(self) -> Grant:
        return Grant(
            channels=frozenset(self.channels),
            platforms=frozenset(self.platforms),
            territories=frozenset(self.territories),
            period=self.period(),
        )

    def exclusive(self) -> Exclusivity | None:
        if self.exclusivity is None:
            return None
        return Exclusivity(
            self.exclusivity.category, Period(self.starts_at, self.exclusivity.ends_at)
        )

    @classmethod
    def from_brief(
        cls, rights: UsageRightsSpec, *, starts_at: datetime, currency: str, consent: bool
    ) -> LicenseTerms:
        """The license a brief's requested rights become when its asset is approved."""
        starts_at = as_utc("starts_at", starts_at)  # days are 24 h, whatever the zone
        exclusivity = None
        if rights.exclusivity_category is not None and rights.exclusivity_days > 0:
            exclusivity = ExclusivityTerm(
                category=rights.exclusivity_category,
                ends_at=starts_at + timedelta(days=rights.exclusivity_days),
            )
        return cls(
            channels=rights.channels,
            platforms=rights.platforms,
            territories=rights.territories,
            starts_at=starts_at,
            ends_at=None
            if rights.perpetual or rights.term_days is None
            else starts_at + timedelta(days=rights.term_days),
            perpetual_consent=consent,
            exclusivity=exclusivity,
            modification=rights.modification,
            attribution=rights.attribution,
            fee_minor=rights.fee_minor,
            currency=currency,
        )


class LicenseGrant(BaseModel):
    """Starts a LicenseWorkflow: the approved asset, the parties and the agreed terms."""

    license_id: uuid.UUID
    workspace_id: uuid.UUID
    brand_id: uuid.UUID
    creator_id: uuid.UUID
    creator_user_id: uuid.UUID
    campaign_id: uuid.UUID
    delivery_id: uuid.UUID
    asset_id: uuid.UUID
    asset_key: str | None = None
    terms: LicenseTerms


class TermsChangeFields(BaseModel):
    """Absent fields keep their value; a later `ends_at` is a renewal or extension, and
    `fee_minor` the extra fee for it."""

    ends_at: AwareDatetime | None = None
    perpetual: bool = False
    channels: list[Channel] | None = Field(default=None, min_length=1)
    platforms: PlatformNames | None = None
    territories: TerritoryCodes | None = None
    modification: Modification | None = None
    attribution: bool | None = None
    fee_minor: int = Field(default=0, ge=0, le=10**12)
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _something_changes(self) -> TermsChangeFields:
        if self.perpetual and self.ends_at is not None:
            raise ValueError("give either ends_at or perpetual=true, not both")
        fields = ("ends_at", "channels", "platforms", "territories", "modification", "attribution")
        if not self.perpetual and all(getattr(self, f) is None for f in fields):
            raise ValueError("the change changes nothing")
        return self


class TermsChange(TermsChangeFields):
    """Proposed by one party, applied only when the other accepts."""

    by: Party

    def applied_to(self, terms: LicenseTerms, *, accepted_by: Party) -> LicenseTerms:
        """The terms after this change; raises ValueError when they are not valid."""
        update: dict[str, Any] = {
            name: getattr(self, name)
            for name in ("channels", "platforms", "territories", "modification", "attribution")
            if getattr(self, name) is not None
        }
        if self.perpetual:
            update["ends_at"] = None
            update["perpetual_consent"] = "creator" in (self.by, accepted_by)
        elif self.ends_at is not None:
            update["ends_at"] = self.ends_at
        return LicenseTerms.model_validate(terms.model_dump() | update)


class ChangeAnswer(BaseModel):
    by: Party
    accept: bool
    note: str = Field(default="", max_length=2000)


class Termination(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class DisputeOpen(BaseModel):
    by: Party | Literal["ops"]
    reason: str = Field(min_length=1, max_length=2000)


class DisputeResolution(BaseModel):
    outcome: Literal["reinstate", "terminate"]
    reason: str = Field(min_length=1, max_length=2000)


class FeeHandoff(BaseModel):
    """An extra license fee the brand pays into the campaign's escrow (`pending` until it
    arrives) and a payout then pays the creator (`paying`: `payout_workflow_id` runs)."""

    number: int
    amount_minor: int
    currency: str
    reason: str
    status: Literal["pending", "paying"] = "pending"
    funding_id: uuid.UUID | None = None
    payout_workflow_id: str | None = None


class FeeFunded(BaseModel):
    """Signalled to a license when the brand's payment of fee `number` is in the escrow."""

    number: int = Field(ge=1)
    funding_id: uuid.UUID


def fee_payout_id(license_id: object, number: object) -> str:
    """The payout of a license's fee number `number` (one per fee, whoever starts it)."""
    return f"license-{license_id}-{number}"


def fee_payout(
    *,
    license_id: uuid.UUID,
    number: int,
    workspace_id: uuid.UUID,
    campaign_id: uuid.UUID,
    creator_id: uuid.UUID,
    creator_user_id: uuid.UUID,
    amount_minor: int,
    currency: str,
) -> PayoutRequest:
    """What the creator is paid for a license fee, out of the campaign's escrow."""
    return PayoutRequest(
        payout_id=fee_payout_id(license_id, number),
        workspace_id=workspace_id,
        campaign_id=campaign_id,
        creator_id=creator_id,
        creator_user_id=creator_user_id,
        amount_minor=amount_minor,
        currency=currency,
        reason="license_fee",
        source_id=f"{license_id}:{number}",
    )


class LicenseSnapshot(BaseModel):
    """The license row as the read model and every ledger entry record it."""

    license_id: uuid.UUID
    workspace_id: uuid.UUID
    brand_id: uuid.UUID
    creator_id: uuid.UUID
    campaign_id: uuid.UUID
    delivery_id: uuid.UUID
    asset_id: uuid.UUID
    asset_key: str | None
    status: LicenseStatus
    version: int
    terms: LicenseTerms
    end_reason: str | None = None


EventKind = Literal[
    "grant", "change", "renewal", "termination", "expiry", "dispute_opened", "dispute_resolved"
]  # fmt: skip


class LicenseEvent(BaseModel):
    """One ledger entry and the license row it leaves behind, written in one transaction."""

    event_key: str
    kind: EventKind
    at: datetime
    license: LicenseSnapshot
    detail: dict[str, Any] = Field(default_factory=dict)


class GrantOutcome(BaseModel):
    """The entry written; for a grant, a colliding exclusive license (the exclusivity is
    dropped) and the configured reminder days."""

    seq: int
    exclusivity_conflict: uuid.UUID | None = None
    reminder_days: list[int] = Field(default_factory=list)


class LicenseState(BaseModel):
    """Live state of a license process, answered by the workflow's query."""

    license_id: uuid.UUID
    status: LicenseStatus
    version: int
    terms: LicenseTerms
    pending_change: TermsChange | None = None
    dispute_reason: str | None = None
    end_reason: str | None = None
    fees: list[FeeHandoff] = Field(default_factory=list)
    next_reminder_at: datetime | None = None


class CheckpointMade(BaseModel):
    from_seq: int
    to_seq: int
    hash: str  # hex; the value to anchor externally
