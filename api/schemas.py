"""Request and response bodies. Requests forbid unknown fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from api.text import LINE, Line, Text
from domain.compliance.language import parse_language
from domain.enums import (
    ApplicationOrigin,
    ApplicationStatus,
    CampaignStage,
    CampaignVisibility,
    DeliverableFormat,
    DeliveryStage,
    LicenseStatus,
    PublicationStatus,
    Role,
    WorkspaceKind,
)
from domain.findings import Finding
from workflows.contracts.campaign import BriefSpec, Channel, Money, UsageRightsSpec
from workflows.contracts.delivery import DeliveryStatus
from workflows.contracts.license import (
    DisputeResolution,
    LicenseState,
    LicenseTerms,
    Termination,
    TermsChangeFields,
)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- auth -----------------------------------------------------------------------------------


class LoginRequest(Request):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    workspace_id: uuid.UUID | None = Field(
        default=None, description="Workspace to act in; the first membership when omitted"
    )


class SwitchWorkspace(Request):
    workspace_id: uuid.UUID


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int
    workspace_id: uuid.UUID
    role: Role
    refresh_token: str | None = Field(
        default=None,
        description="Single use: POST /auth/refresh swaps it for a new pair; presenting a used "
        "one again ends the whole sign-in",
    )
    refresh_expires_in: int | None = None


class RefreshRequest(Request):
    refresh_token: str = Field(min_length=1, max_length=200)


class PasswordChange(Request):
    current_password: str = Field(min_length=1, max_length=1024)
    password: str = Field(min_length=1, max_length=1024, description="The new password")


class PasswordForgot(Request):
    email: str = Field(min_length=3, max_length=320)


class PasswordReset(Request):
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class WorkspaceMembership(BaseModel):
    workspace_id: uuid.UUID
    name: str
    kind: WorkspaceKind
    role: Role
    # A client of an agency the user belongs to: the agency's workspace (acting with the
    # agency role unless the user is a member of the client itself).
    managed_by: uuid.UUID | None = None
    # Suspended by ops (the workspace, or the agency the user acts for it through): nothing
    # can be done in it until it is reactivated.
    suspended: bool = False


class MeResponse(BaseModel):
    user_id: uuid.UUID | None
    api_key_id: uuid.UUID | None
    email: str | None
    name: str | None
    workspace_id: uuid.UUID
    role: Role
    memberships: list[WorkspaceMembership]


# --- API keys -------------------------------------------------------------------------------

# What a partner key may do (api.deps.allow checks them): read or write campaigns (with their
# brands, creators, fundings and statements), deliveries (with their media and review steps),
# and licenses (with their history, certificates, ledger entries and publications).
Scope = Literal[
    "campaigns:read",
    "campaigns:write",
    "deliveries:read",
    "deliveries:write",
    "licenses:read",
    "licenses:write",
]


class ApiKeyCreate(Request):
    name: Line = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(min_length=1)


class ApiKeyPublic(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="Shown once; only a hash is stored")


# --- brands ---------------------------------------------------------------------------------


class BrandCreate(Request):
    name: Line = Field(min_length=1, max_length=200)
    website: str | None = Field(default=None, max_length=500, pattern=r"^https?://\S+$")


class BrandPublic(BaseModel):
    id: uuid.UUID
    name: str
    website: str | None


# --- campaigns ------------------------------------------------------------------------------


class MoneyIn(Money):
    model_config = ConfigDict(extra="forbid")


class UsageRightsIn(UsageRightsSpec):
    model_config = ConfigDict(extra="forbid")


# A language with disclosure rules, as its code ("pt-BR" is kept as "pt"); any other is a 422.
Language = Annotated[str, Field(min_length=2, max_length=35), AfterValidator(parse_language)]


class BriefIn(BriefSpec):
    model_config = ConfigDict(extra="forbid")

    # What the brand types, checked here rather than in the workflow contract that carries it.
    product: Line = Field(min_length=1, max_length=500)
    objective: Text = Field(min_length=1, max_length=2000)
    target_audience: Text = Field(default="", max_length=2000)
    hooks: list[Annotated[str, LINE]] = Field(default_factory=list, max_length=20)
    dos: list[Annotated[str, LINE]] = Field(default_factory=list, max_length=50)
    donts: list[Annotated[str, LINE]] = Field(default_factory=list, max_length=50)
    mandatory_mentions: list[Annotated[str, LINE]] = Field(default_factory=list, max_length=20)
    banned_claims: list[Annotated[str, Field(min_length=1, max_length=200), LINE]] = Field(
        default_factory=list, max_length=50
    )
    usage_rights: UsageRightsIn = Field(default_factory=UsageRightsIn)
    language: Language | None = Field(
        default=None,
        description="the language the creator's endorsement is in: its disclosure must be too "
        "(en, es, fr, de, it, pt, nl, ja); none: the creator's profile says",
    )

    @model_validator(mode="after")
    def _deadlines_in_order(self) -> BriefIn:
        if (
            self.application_deadline is not None
            and self.delivery_deadline is not None
            and self.application_deadline >= self.delivery_deadline
        ):
            raise ValueError("application_deadline must be before delivery_deadline")
        return self


class DeliverableIn(Request):
    format: DeliverableFormat
    duration_s: int | None = Field(default=None, ge=1, le=600)
    quantity: int = Field(default=1, ge=1, le=100)
    price_minor: int = Field(gt=0, le=10**12, description="Price per unit, in minor units")


class CampaignCreate(Request):
    brand_id: uuid.UUID
    title: Line = Field(min_length=1, max_length=200)
    visibility: CampaignVisibility = CampaignVisibility.OPEN
    budget: MoneyIn
    brief: BriefIn
    deliverables: list[DeliverableIn] = Field(min_length=1, max_length=50)


class CampaignChange(Request):
    """Changes to a draft campaign: each field given replaces the current one whole (the
    brief and the list of deliverables too); fields left out stay as they are."""

    title: Line | None = Field(default=None, min_length=1, max_length=200)
    visibility: CampaignVisibility | None = None
    budget: MoneyIn | None = None
    brief: BriefIn | None = None
    deliverables: list[DeliverableIn] | None = Field(default=None, min_length=1, max_length=50)


class CampaignCancel(Request):
    reason: Text = Field(min_length=1, max_length=1000)


class DeliverablePublic(BaseModel):
    id: uuid.UUID
    format: DeliverableFormat
    duration_s: int | None
    quantity: int
    price_minor: int


class BriefPublic(BriefSpec):
    pass


class LiveState(BaseModel):
    """State answered by the running workflow; absent when the workflow cannot answer now."""

    stage: CampaignStage
    workflow_id: str
    cancel_reason: str | None
    committed_minor: int
    owed_minor: int
    open_slots: dict[str, int]
    open_deliveries: int


class CampaignSummary(BaseModel):
    id: uuid.UUID
    brand_id: uuid.UUID
    title: str
    stage: CampaignStage
    visibility: CampaignVisibility
    budget: Money
    created_at: AwareDatetime
    updated_at: AwareDatetime


class CampaignPublic(CampaignSummary):
    brief: BriefPublic
    deliverables: list[DeliverablePublic]
    live: LiveState | None


# Every list's paging parameters: bounded, so that a huge offset is a 422 naming the field,
# not a number the database cannot hold.
MAX_OFFSET = 10_000_000
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
Limit = Annotated[int, Query(ge=1, le=200, description="rows to return")]


class Page(BaseModel):
    limit: int
    offset: int
    items: list[CampaignSummary]


# --- applications, invitations, marketplace -------------------------------------------------


class ApplicationCreate(Request):
    deliverable_id: uuid.UUID
    pitch: Text = Field(min_length=1, max_length=4000)
    price_minor: int = Field(gt=0, le=10**12, description="Proposed price, in minor units")


class InvitationCreate(Request):
    creator_id: uuid.UUID
    deliverable_id: uuid.UUID
    price_minor: int = Field(gt=0, le=10**12)
    message: Text = Field(default="", max_length=4000)


class DecisionCreate(Request):
    action: Literal["accept", "reject", "counter"]
    counter_price_minor: int | None = Field(default=None, gt=0, le=10**12)


class ResponseCreate(Request):
    accept: bool


class ApplicationPublic(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    deliverable_id: uuid.UUID
    creator_id: uuid.UUID
    origin: ApplicationOrigin
    status: ApplicationStatus
    pitch: str
    price_minor: int
    counter_price_minor: int | None
    delivery_id: uuid.UUID | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class CreatorPublic(BaseModel):
    id: uuid.UUID
    handle: str
    display_name: str
    country: str
    niches: list[str]
    platforms: list[str]


class MarketplaceDeliverable(DeliverablePublic):
    open_slots: int = Field(description="Creator places still open")
    applied: bool = Field(description="Whether you applied for it (or were invited) already")
    summary: str = Field(description="In words: count, format, length and price each")


class RightsLine(BaseModel):
    key: str = Field(description="channels, platforms, territories, term, exclusivity, ...")
    label: str
    text: str


class MarketplaceCampaign(BaseModel):
    """What a creator sees of an open campaign."""

    id: uuid.UUID
    title: str
    brand_name: str
    stage: CampaignStage
    currency: str
    brief: BriefPublic
    deliverables: list[MarketplaceDeliverable]
    usage_rights_summary: list[RightsLine] = Field(
        description="The brief's usage rights in words, line by line"
    )
    taking_applications: bool = Field(
        description="Open for applications: before the deadline, with a place you can apply for"
    )


# --- deliveries -----------------------------------------------------------------------------


class ScriptCreate(Request):
    text: Text = Field(min_length=1, max_length=10_000)


class DraftCreate(Request):
    media_key: str = Field(min_length=1, max_length=1024, description="Object key of the upload")
    caption: Text = Field(default="", max_length=2200)


class FinalCreate(Request):
    media_key: str = Field(min_length=1, max_length=1024)


class ReviewCreate(Request):
    decision: Literal["approve", "revise"]
    notes: Text = Field(default="", max_length=4000)


class ExtraRevisionCreate(Request):
    notes: Text = Field(min_length=1, max_length=4000)


class DeadlineCreate(Request):
    due_at: AwareDatetime


class ReassignCreate(Request):
    reason: Text = Field(min_length=1, max_length=1000)


class SubmissionPublic(BaseModel):
    id: uuid.UUID
    # The order of every submission of the delivery (scripts, drafts and finals together).
    number: int
    kind: str
    # What people call it, numbered per kind: "Script 1", "Draft 1", "Draft 2", "Final files".
    title: str = ""
    media_key: str | None
    text: str
    checks_passed: bool | None
    findings: list[Finding]
    # Links to the checked video (video, thumbnail, captions, report) for the brand's player.
    media: dict[str, str] = Field(default_factory=dict)
    media_kind: Literal["video", "photo"] | None = Field(
        default=None, description="what the checked media is; a photo's `video` link is the photo"
    )
    review: str | None
    review_notes: str
    submitted_at: AwareDatetime


class DeliverySummary(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    deliverable_id: uuid.UUID
    creator_id: uuid.UUID
    stage: DeliveryStage
    price_minor: int
    currency: str
    due_at: AwareDatetime | None
    review_due_at: AwareDatetime | None
    late: bool
    revisions_used: int
    approved_at: AwareDatetime | None
    handoffs: dict[str, str]
    updated_at: AwareDatetime


class DeliveryPublic(DeliverySummary):
    submissions: list[SubmissionPublic]
    live: DeliveryStatus | None = Field(
        description="Guided tasks and what is due next, from the running process"
    )


class NotificationPublic(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    body: str
    link: str
    created_at: AwareDatetime
    read_at: AwareDatetime | None


# --- licensing ------------------------------------------------------------------------------


class BriefAcceptanceCreate(Request):
    accept_perpetual_rights: bool = Field(
        default=False, description="Required when the brief asks for perpetual usage rights"
    )


class LicenseChangeCreate(Request, TermsChangeFields):
    """Proposed terms; the other party accepts or declines them."""

    note: Text = Field(default="", max_length=2000)


class ChangeAnswerCreate(Request):
    accept: bool
    note: Text = Field(default="", max_length=2000)


class TerminationCreate(Request, Termination):
    """Why the brand ends the license early."""

    reason: Text = Field(min_length=1, max_length=2000)


class DisputeCreate(Request):
    reason: Text = Field(min_length=1, max_length=2000)


class DisputeResolutionCreate(Request, DisputeResolution):
    """Ops' decision on a disputed license."""

    reason: Text = Field(min_length=1, max_length=2000)


class LicenseSummary(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    brand_id: uuid.UUID
    creator_id: uuid.UUID
    campaign_id: uuid.UUID
    delivery_id: uuid.UUID
    asset_id: uuid.UUID
    status: LicenseStatus
    version: int
    terms: LicenseTerms
    end_reason: str | None
    created_at: datetime
    updated_at: datetime


class LicensePublic(LicenseSummary):
    days_left: int | None = Field(description="Whole days until the term ends; None: perpetual")
    live: LicenseState | None = Field(description="Live state of the license process")


class AssetRights(BaseModel):
    asset_id: uuid.UUID
    in_rights: bool = Field(description="A license in force covers this moment")
    licenses: list[LicenseSummary]


class UsageAnswerPublic(BaseModel):
    allowed: bool
    reason: str
    license_id: uuid.UUID | None
    ends_at: datetime | None


class PublicationCreate(Request):
    channel: Channel
    platform: Annotated[str, Field(max_length=50), LINE] | None = None
    territory: str = Field(min_length=2, max_length=2)
    target: Line = Field(min_length=1, max_length=500, description="Ad id, gallery slot, ...")


class PublicationPublic(BaseModel):
    id: uuid.UUID
    asset_id: uuid.UUID
    license_id: uuid.UUID
    channel: str
    platform: str | None
    territory: str
    target: str
    status: PublicationStatus
    withdrawn_at: datetime | None
    withdraw_reason: str | None
    created_at: datetime


class LedgerEntryPublic(BaseModel):
    seq: int
    kind: str
    body: dict[str, Any] = Field(description="The hashed body, parsed")
    body_raw: str = Field(description="Exactly the bytes that were hashed")
    prev_hash: str
    hash: str
    problem: str | None = Field(description="What is wrong with this entry; None when sound")


class ProofPublic(BaseModel):
    checkpoint: dict[str, Any] = Field(description="The signed checkpoint statement")
    checkpoint_hash: str
    signature: str
    leaf_index: int
    tree_size: int
    path: list[str]
    valid: bool


class LedgerEntryProof(LedgerEntryPublic):
    proof: ProofPublic | None = Field(
        description="Inclusion in a signed checkpoint; None until one covers the entry"
    )


class LicenseHistory(BaseModel):
    license_id: uuid.UUID
    entries: list[LedgerEntryPublic]
    sound: bool


class VerdictPublic(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str | None
    head_hash: str


class PublicKeyPublic(BaseModel):
    algorithm: Literal["Ed25519"] = "Ed25519"
    key_id: str
    public_key: str = Field(description="Raw 32-byte public key, hex")
