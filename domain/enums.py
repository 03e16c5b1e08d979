"""The platform's enumerations: values the tables store as strings and the contracts carry."""

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


class CampaignVisibility(StrEnum):
    OPEN = "open"  # listed in the marketplace; creators apply
    INVITE_ONLY = "invite_only"  # only invited creators take part


class ApplicationOrigin(StrEnum):
    APPLICATION = "application"  # the creator applied
    INVITATION = "invitation"  # the brand invited


class ApplicationStatus(StrEnum):
    PENDING = "pending"  # waiting for the brand (application) or the creator (invitation)
    COUNTERED = "countered"  # the brand proposed another price; waiting for the creator
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DECLINED = "declined"
    EXPIRED = "expired"  # recruiting closed or the campaign was cancelled first


class DeliveryStage(StrEnum):
    AWAITING_BRIEF_ACCEPTANCE = "awaiting_brief_acceptance"
    AWAITING_PRODUCT = "awaiting_product"
    AWAITING_SCRIPT = "awaiting_script"
    SCRIPT_REVIEW = "script_review"  # the brand approves the script or asks for changes
    AWAITING_DRAFT = "awaiting_draft"
    CHECKING = "checking"
    FIXING = "fixing"
    IN_REVIEW = "in_review"
    REVISING = "revising"
    AWAITING_FINAL = "awaiting_final"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REASSIGNED = "reassigned"


class LicenseStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # under dispute: no use until ops resolve it
    EXPIRED = "expired"
    TERMINATED = "terminated"


class PublicationStatus(StrEnum):
    LIVE = "live"
    WITHDRAWN = "withdrawn"
