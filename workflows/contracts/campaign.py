"""Contracts of the campaign process."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from models.enums import CampaignStage, DeliverableFormat


class Money(BaseModel):
    amount_minor: int = Field(gt=0, le=10**13)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class BriefSpec(BaseModel):
    product: str = Field(min_length=1, max_length=500)
    objective: str = Field(min_length=1, max_length=2000)
    target_audience: str = Field(default="", max_length=2000)
    hooks: list[str] = Field(default_factory=list, max_length=20)
    dos: list[str] = Field(default_factory=list, max_length=50)
    donts: list[str] = Field(default_factory=list, max_length=50)
    mandatory_mentions: list[str] = Field(default_factory=list, max_length=20)
    disclosure_required: bool = True
    revision_rounds: int = Field(default=2, ge=0, le=10)
    ships_product: bool = False
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
    title: str = Field(min_length=1, max_length=200)
    budget: Money
    brief: BriefSpec
    deliverables: list[DeliverableSpec] = Field(min_length=1, max_length=50)
    created_at: datetime


class CampaignStatus(BaseModel):
    """Live state of a campaign process, answered by the workflow's query."""

    campaign_id: uuid.UUID
    stage: CampaignStage
    recorded: bool
    cancel_reason: str | None = None


class StageChange(BaseModel):
    campaign_id: uuid.UUID
    stage: CampaignStage


class CancelCampaign(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)
