"""Request and response bodies. Requests forbid unknown fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from models.enums import CampaignStage, DeliverableFormat, Role, WorkspaceKind
from workflows.contracts.campaign import BriefSpec, Money


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


class WorkspaceMembership(BaseModel):
    workspace_id: uuid.UUID
    name: str
    kind: WorkspaceKind
    role: Role


class MeResponse(BaseModel):
    user_id: uuid.UUID | None
    api_key_id: uuid.UUID | None
    email: str | None
    name: str | None
    workspace_id: uuid.UUID
    role: Role
    memberships: list[WorkspaceMembership]


# --- API keys -------------------------------------------------------------------------------

Scope = Literal["campaigns:read", "campaigns:write"]


class ApiKeyCreate(Request):
    name: str = Field(min_length=1, max_length=200)
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
    name: str = Field(min_length=1, max_length=200)
    website: str | None = Field(default=None, max_length=500, pattern=r"^https?://\S+$")


class BrandPublic(BaseModel):
    id: uuid.UUID
    name: str
    website: str | None


# --- campaigns ------------------------------------------------------------------------------


class MoneyIn(Money):
    model_config = ConfigDict(extra="forbid")


class BriefIn(BriefSpec):
    model_config = ConfigDict(extra="forbid")

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
    title: str = Field(min_length=1, max_length=200)
    budget: MoneyIn
    brief: BriefIn
    deliverables: list[DeliverableIn] = Field(min_length=1, max_length=50)


class CampaignCancel(Request):
    reason: str = Field(min_length=1, max_length=1000)


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


class CampaignSummary(BaseModel):
    id: uuid.UUID
    brand_id: uuid.UUID
    title: str
    stage: CampaignStage
    budget: Money
    created_at: AwareDatetime
    updated_at: AwareDatetime


class CampaignPublic(CampaignSummary):
    brief: BriefPublic
    deliverables: list[DeliverablePublic]
    live: LiveState | None


class Page(BaseModel):
    limit: int
    offset: int
    items: list[CampaignSummary]
