"""Contracts of the campaign process."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, model_validator

from domain.enums import (
    ApplicationOrigin,
    ApplicationStatus,
    CampaignStage,
    CampaignVisibility,
    DeliverableFormat,
)
from domain.license_terms import TermError, normalize_territories

Channel = Literal[
    "organic_social", "paid_social", "website_email", "ecommerce", "broadcast_ooh"
]  # fmt: skip
Modification = Literal["none", "edit", "derivative"]


class Money(BaseModel):
    amount_minor: int = Field(gt=0, le=10**13)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


def _organic_only() -> list[Channel]:
    return ["organic_social"]


def _territory_codes(codes: list[str]) -> list[str]:
    try:
        return sorted(normalize_territories(codes))
    except TermError as exc:
        raise ValueError(str(exc)) from exc


def _platform_names(platforms: list[str]) -> list[str]:
    return sorted({p.strip().lower() for p in platforms if p.strip()})


# ISO 3166-1 alpha-2 codes or WW (worldwide), normalized; unknown codes are refused.
TerritoryCodes = Annotated[
    list[str], Field(min_length=1, max_length=250), AfterValidator(_territory_codes)
]
# Platform names within the channels (tiktok, instagram, ...); empty: any platform.
PlatformNames = Annotated[list[str], Field(max_length=20), AfterValidator(_platform_names)]


class UsageRightsSpec(BaseModel):
    """The rights a brand requests with the brief; the creator accepts them with the brief.

    The license granted at approval runs `term_days` from approval (or forever when
    `perpetual`, which the creator must accept explicitly)."""

    channels: list[Channel] = Field(default_factory=_organic_only, min_length=1)
    platforms: PlatformNames = Field(default_factory=list)
    territories: TerritoryCodes = Field(default_factory=lambda: ["WW"])
    term_days: int | None = Field(default=365, ge=1, le=3650)
    perpetual: bool = False
    exclusivity_days: int = Field(default=0, ge=0, le=3650)
    exclusivity_category: str | None = Field(default=None, min_length=1, max_length=100)
    modification: Modification = "edit"
    attribution: bool = False
    # Paid for the license on top of the deliverable's price; 0 when the price includes it.
    fee_minor: int = Field(default=0, ge=0, le=10**12)

    @model_validator(mode="after")
    def _term_or_perpetual(self) -> UsageRightsSpec:
        if self.perpetual == (self.term_days is not None):
            raise ValueError("give either term_days or perpetual=true, not both")
        if (self.exclusivity_days > 0) != (self.exclusivity_category is not None):
            raise ValueError("exclusivity needs both exclusivity_days and exclusivity_category")
        return self


class BriefSpec(BaseModel):
    product: str = Field(min_length=1, max_length=500)
    objective: str = Field(min_length=1, max_length=2000)
    target_audience: str = Field(default="", max_length=2000)
    hooks: list[str] = Field(default_factory=list, max_length=20)
    dos: list[str] = Field(default_factory=list, max_length=50)
    donts: list[str] = Field(default_factory=list, max_length=50)
    mandatory_mentions: list[str] = Field(default_factory=list, max_length=20)
    # Claims and words the video and caption must not contain ("cures acne", a competitor).
    banned_claims: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=50
    )
    # How strictly brand-safety (GARM) findings count: "high" sends warnings to human review.
    brand_safety_sensitivity: Literal["low", "medium", "high"] = "medium"
    disclosure_required: bool = True
    revision_rounds: int = Field(default=2, ge=0, le=10)
    ships_product: bool = False
    script_required: bool = False
    review_window_days: int = Field(default=3, ge=1, le=15)
    target_niches: list[str] = Field(default_factory=list, max_length=20)
    target_countries: list[str] = Field(default_factory=list, max_length=250)
    # The language the creator's endorsement is in (checked where the brand types it).
    language: str | None = Field(default=None, max_length=8)
    usage_rights: UsageRightsSpec = Field(default_factory=UsageRightsSpec)
    application_deadline: AwareDatetime | None = None
    delivery_deadline: AwareDatetime | None = None


class DeliverableSpec(BaseModel):
    id: uuid.UUID
    format: DeliverableFormat
    duration_s: int | None = Field(default=None, ge=1, le=600)
    quantity: int = Field(default=1, ge=1, le=100)
    price_minor: int = Field(gt=0, le=10**12)


class CampaignDraft(BaseModel):
    """Everything a new campaign starts with; the workflow persists it."""

    campaign_id: uuid.UUID
    workspace_id: uuid.UUID
    brand_id: uuid.UUID
    created_by: uuid.UUID
    # The brand as the checks look for it ("thanks to <brand>"); empty on older campaigns.
    brand_name: str = ""
    title: str = Field(min_length=1, max_length=200)
    visibility: CampaignVisibility = CampaignVisibility.OPEN
    budget: Money
    brief: BriefSpec
    deliverables: list[DeliverableSpec] = Field(min_length=1, max_length=50)
    created_at: datetime
    # Present only on a run continued-as-new: the state the previous run handed over.
    carry: CampaignCarry | None = None


class ApplicationState(BaseModel):
    """An application or invitation as the campaign process tracks it."""

    id: uuid.UUID
    creator_id: uuid.UUID
    creator_user_id: uuid.UUID
    deliverable_id: uuid.UUID
    origin: ApplicationOrigin
    status: ApplicationStatus
    pitch: str = ""
    price_minor: int
    counter_price_minor: int | None = None
    delivery_id: uuid.UUID | None = None
    # The languages the creator's profile says they post in, the usual one first.
    creator_languages: list[str] = Field(default_factory=list)

    @property
    def agreed_price(self) -> int:
        return (
            self.counter_price_minor if self.counter_price_minor is not None else self.price_minor
        )


class CampaignLive(BaseModel):
    """The part of a campaign process's state that pages and partners read, written to the
    read model with every change; `seq` orders the writes (a late write never undoes a newer
    one)."""

    campaign_id: uuid.UUID
    seq: int = Field(ge=1)
    cancel_reason: str | None = None
    committed_minor: int = 0
    owed_minor: int = 0
    open_slots: dict[str, int] = Field(default_factory=dict)
    open_deliveries: int = 0

    def same_state(self, other: CampaignLive | None) -> bool:
        return other is not None and self.model_dump(exclude={"seq"}) == other.model_dump(
            exclude={"seq"}
        )


class ApplicationChange(BaseModel):
    campaign_id: uuid.UUID
    workspace_id: uuid.UUID
    application: ApplicationState
    # The campaign's live state after this change; None from runs that do not record it.
    live: CampaignLive | None = None


class DeliveryOutcome(BaseModel):
    """Sent by a delivery to its campaign when it is approved or ends."""

    delivery_id: uuid.UUID
    outcome: Literal["approved", "completed", "reassigned", "cancelled"]


class CampaignStatus(BaseModel):
    """Live state of a campaign process, answered by the workflow's query."""

    campaign_id: uuid.UUID
    stage: CampaignStage
    recorded: bool
    cancel_reason: str | None = None
    budget_minor: int = 0
    committed_minor: int = 0
    owed_minor: int = 0
    open_slots: dict[str, int] = Field(default_factory=dict)
    applications: int = 0
    open_deliveries: int = 0
    recruiting_closes_at: datetime | None = None
    funded_minor: int = 0


class CampaignCarry(BaseModel):
    """State carried across continue-as-new (a campaign may take thousands of applications)."""

    stage: CampaignStage = CampaignStage.DRAFT
    recorded: bool = False
    cancel_reason: str | None = None
    applications: list[ApplicationState] = Field(default_factory=list)
    # delivery id -> "open" | "approved" | "completed" | "reassigned" | "cancelled"
    deliveries: dict[str, str] = Field(default_factory=dict)
    # deliverable id -> creator slots; fixed to the filled count when recruiting closes
    slots: dict[str, int] = Field(default_factory=dict)
    events: int = 0
    # Budget paid in (fee excluded) and the fundings it came from, each counted once.
    funded_minor: int = 0
    fundings: list[uuid.UUID] = Field(default_factory=list)
    # Continue-as-new after this many history events (the server may suggest it sooner).
    max_history_events: int = Field(default=10_000, ge=50)
    # The last CampaignLive.seq written, so that the next run's writes still count.
    live_seq: int = 0


class Apply(BaseModel):
    application_id: uuid.UUID
    creator_id: uuid.UUID
    creator_user_id: uuid.UUID
    deliverable_id: uuid.UUID
    pitch: str = Field(min_length=1, max_length=4000)
    price_minor: int = Field(gt=0, le=10**12)
    creator_languages: list[str] = Field(default_factory=list)


class Invite(BaseModel):
    application_id: uuid.UUID
    creator_id: uuid.UUID
    creator_user_id: uuid.UUID
    deliverable_id: uuid.UUID
    price_minor: int = Field(gt=0, le=10**12)
    message: str = Field(default="", max_length=4000)
    creator_languages: list[str] = Field(default_factory=list)


class Decide(BaseModel):
    """The brand's answer to an application."""

    application_id: uuid.UUID
    action: Literal["accept", "reject", "counter"]
    counter_price_minor: int | None = Field(default=None, gt=0, le=10**12)


class Respond(BaseModel):
    """The creator's answer to an invitation or a counter-offer."""

    application_id: uuid.UUID
    creator_id: uuid.UUID
    accept: bool


class StageChange(BaseModel):
    campaign_id: uuid.UUID
    stage: CampaignStage
    live: CampaignLive | None = None


class CancelCampaign(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class CampaignEdit(BaseModel):
    """The brand's changes to its draft: each part given replaces the current one whole;
    what is left out (None) stays as it is."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    visibility: CampaignVisibility | None = None
    budget: Money | None = None
    brief: BriefSpec | None = None
    deliverables: list[DeliverableSpec] | None = Field(default=None, min_length=1, max_length=50)


class DraftChange(BaseModel):
    """An edited draft for the read model, with the live state it leaves (its open slots)."""

    draft: CampaignDraft
    live: CampaignLive | None = None


CampaignDraft.model_rebuild()
