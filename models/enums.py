"""Enumerations stored in the database as strings."""

from __future__ import annotations

from enum import StrEnum


class WorkspaceKind(StrEnum):
    BRAND = "brand"
    AGENCY = "agency"
    CREATOR = "creator"
    OPS = "ops"


class Role(StrEnum):
    BRAND_ADMIN = "brand_admin"
    BRAND_MEMBER = "brand_member"
    CREATOR = "creator"
    OPS = "ops"
    PARTNER = "partner"


class CampaignStage(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RECRUITING = "recruiting"
    IN_PRODUCTION = "in_production"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class DeliverableFormat(StrEnum):
    VIDEO_9_16 = "video_9x16"
    VIDEO_16_9 = "video_16x9"
    VIDEO_1_1 = "video_1x1"
    PHOTO = "photo"
