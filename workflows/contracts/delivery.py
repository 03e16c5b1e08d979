"""Contracts of the delivery process and its automated checks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from domain.enums import DeliverableFormat, DeliveryStage
from domain.findings import Finding
from workflows.contracts.campaign import UsageRightsSpec


class DeliveryTerms(BaseModel):
    ships_product: bool
    script_required: bool
    revision_rounds: int
    review_window_days: int
    disclosure_required: bool
    mandatory_mentions: list[str]
    due_at: datetime | None
    # The rights the license at approval grants (absent in processes started before licensing).
    usage_rights: UsageRightsSpec = Field(default_factory=UsageRightsSpec)
    # What the automated checks hold a draft to (empty on processes started before them).
    brand_name: str = ""
    banned_claims: list[str] = Field(default_factory=list)
    brand_safety_sensitivity: Literal["low", "medium", "high"] = "medium"
    # Which disclosure rules apply: the brief's target countries (empty: the default market)
    # and the platform the draft is posted on (None: the longest preview applies).
    markets: list[str] = Field(default_factory=list)
    platform: Literal["instagram", "tiktok", "youtube_shorts"] | None = None
    # The language of the endorsement, which its disclosure must be in (None: the caption's).
    language: str | None = None


class ReminderPolicy(BaseModel):
    creator_hours_before_due: list[int] = Field(default_factory=lambda: [48, 24])
    brand_business_days_before_review_due: int = 1
    # Creator time for later phases (fixes, revisions, final files), in business days.
    phase_business_days: int = 3


class DeliveryStart(BaseModel):
    delivery_id: uuid.UUID
    campaign_id: uuid.UUID
    workspace_id: uuid.UUID
    brand_id: uuid.UUID
    creator_id: uuid.UUID
    creator_user_id: uuid.UUID
    application_id: uuid.UUID
    deliverable_id: uuid.UUID
    format: DeliverableFormat
    duration_s: int | None
    price_minor: int
    currency: str
    terms: DeliveryTerms
    reminders: ReminderPolicy = Field(default_factory=ReminderPolicy)


class CheckRequest(BaseModel):
    delivery_id: uuid.UUID
    submission_id: uuid.UUID
    caption: str
    disclosure_required: bool
    mandatory_mentions: list[str]
    # The uploaded draft in object storage: when set, the video (or photo) goes through the
    # moderation pipeline (ModerationWorkflow) as well as the caption rules.
    media_key: str | None = None
    media_kind: Literal["video", "photo"] = "video"
    brand: str = ""
    banned_words: list[str] = Field(default_factory=list)
    aspect_ratio: Literal["9:16", "1:1", "16:9", "4:5"] | None = None
    max_duration_s: float | None = None
    sensitivity: Literal["low", "medium", "high"] = "medium"
    markets: list[str] = Field(default_factory=list)
    platform: Literal["instagram", "tiktok", "youtube_shorts"] | None = None
    language: str | None = None


class ReviewMedia(BaseModel):
    """Where the brand's player finds the checked video, or the checked photo (keys in
    object storage)."""

    master_key: str
    hls_key: str | None  # a photo has none
    thumbnail_key: str | None
    captions_vtt_key: str | None
    report_key: str | None
    kind: Literal["video", "photo"] = "video"


class CheckReport(BaseModel):
    passed: bool
    findings: list[Finding]
    media: ReviewMedia | None = None
    # The video can never be used (a child-safety match): no resubmission reopens it.
    final: bool = False


TaskKey = Literal[
    "accept_brief", "confirm_product", "submit_script", "upload_draft", "fix_issues",
    "address_revisions", "final_delivery",
]  # fmt: skip
TaskStatus = Literal["done", "current", "upcoming", "waiting"]


class Task(BaseModel):
    key: TaskKey
    title: str
    status: TaskStatus
    due_at: datetime | None = None


class DeliveryStatus(BaseModel):
    delivery_id: uuid.UUID
    stage: DeliveryStage
    tasks: list[Task]
    next_task: TaskKey | None
    due_at: datetime | None
    late: bool
    review_due_at: datetime | None
    revisions_used: int
    revision_cap: int
    extra_revision_pending: bool
    findings: list[Finding]
    last_review_notes: str
    cancel_reason: str | None
    license_id: uuid.UUID | None = None
    # What the brand wrote with a pending extra-revision request.
    extra_revision_notes: str = ""


class CreatorAct(BaseModel):
    creator_id: uuid.UUID


class BriefAcceptance(CreatorAct):
    # Perpetual usage rights need the creator's explicit consent.
    accept_perpetual_rights: bool = False


class SubmitScript(CreatorAct):
    text: str = Field(min_length=1, max_length=10_000)


class SubmitDraft(CreatorAct):
    media_key: str = Field(min_length=1, max_length=1024)
    caption: str = Field(default="", max_length=2200)


class SubmitFinal(CreatorAct):
    media_key: str = Field(min_length=1, max_length=1024)


class Review(BaseModel):
    decision: Literal["approve", "revise"]
    notes: str = Field(default="", max_length=4000)


class ExtraRevisionRequest(BaseModel):
    notes: str = Field(min_length=1, max_length=4000)


class ExtraRevisionAnswer(CreatorAct):
    accept: bool


class ExtendDeadline(BaseModel):
    due_at: AwareDatetime


class Reassign(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class SubmissionRecord(BaseModel):
    id: uuid.UUID
    delivery_id: uuid.UUID
    number: int
    kind: Literal["script", "draft", "final"]
    media_key: str | None = None
    text: str = ""
    checks_passed: bool | None = None
    findings: list[Finding] = Field(default_factory=list)
    media: ReviewMedia | None = None
    review: str | None = None
    review_notes: str = ""
    submitted_at: datetime


class DeliveryRecord(BaseModel):
    """The read-model row an activity writes for a delivery."""

    start: DeliveryStart
    stage: DeliveryStage
    due_at: datetime | None
    review_due_at: datetime | None
    late: bool
    revisions_used: int
    approved_at: datetime | None
    handoffs: dict[str, str]
    submissions: list[SubmissionRecord] = Field(default_factory=list)
