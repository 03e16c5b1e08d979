"""The platform's values in the words people read: every enumeration of domain/enums.py and
the other short vocabularies pages show (payout and funding states, ledger entries, usage
channels, audit actors). How values read (money, dates, countries) is domain/words.py.

Words are as they read inside a sentence ("in review", "vertical video (9:16)"); names keep
their capitals ("TikTok", "API key")."""

from __future__ import annotations

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

# Keyed by value: a StrEnum member is its string, so one key serves every enum that shares
# it (WorkspaceKind.CREATOR and Role.CREATOR are both "creator").
WORDS: dict[str, str] = {
    WorkspaceKind.BRAND: "brand",
    WorkspaceKind.AGENCY: "agency",
    WorkspaceKind.CREATOR: "creator",
    WorkspaceKind.OPS: "platform operations",
    Role.BRAND_ADMIN: "brand admin",
    Role.BRAND_MEMBER: "brand member",
    Role.CREATOR: "creator",
    Role.OPS: "platform operations",
    Role.PARTNER: "API partner",
    CampaignStage.DRAFT: "draft",
    CampaignStage.PUBLISHED: "published",
    CampaignStage.RECRUITING: "recruiting",
    CampaignStage.IN_PRODUCTION: "in production",
    CampaignStage.COMPLETED: "completed",
    CampaignStage.CANCELLED: "cancelled",
    DeliverableFormat.VIDEO_9_16: "vertical video (9:16)",
    DeliverableFormat.VIDEO_16_9: "landscape video (16:9)",
    DeliverableFormat.VIDEO_1_1: "square video (1:1)",
    DeliverableFormat.PHOTO: "photo",
    CampaignVisibility.OPEN: "open to every creator",
    CampaignVisibility.INVITE_ONLY: "by invitation only",
    ApplicationOrigin.APPLICATION: "application",
    ApplicationOrigin.INVITATION: "invitation",
    ApplicationStatus.PENDING: "pending",
    ApplicationStatus.COUNTERED: "counter-offer made",
    ApplicationStatus.ACCEPTED: "accepted",
    ApplicationStatus.REJECTED: "not selected",
    ApplicationStatus.DECLINED: "declined",
    ApplicationStatus.EXPIRED: "expired",
    DeliveryStage.AWAITING_BRIEF_ACCEPTANCE: "awaiting brief acceptance",
    DeliveryStage.AWAITING_PRODUCT: "awaiting the product",
    DeliveryStage.AWAITING_SCRIPT: "awaiting script",
    "script_review": "script in review",
    DeliveryStage.AWAITING_DRAFT: "awaiting draft",
    DeliveryStage.CHECKING: "checking",
    DeliveryStage.FIXING: "fixing",
    DeliveryStage.IN_REVIEW: "in review",
    DeliveryStage.REVISING: "revising",
    DeliveryStage.AWAITING_FINAL: "awaiting final",
    DeliveryStage.COMPLETED: "completed",
    DeliveryStage.CANCELLED: "cancelled",
    DeliveryStage.REASSIGNED: "reassigned",
    LicenseStatus.ACTIVE: "active",
    LicenseStatus.SUSPENDED: "suspended",
    LicenseStatus.EXPIRED: "expired",
    LicenseStatus.TERMINATED: "terminated",
    PublicationStatus.LIVE: "live",
    PublicationStatus.WITHDRAWN: "withdrawn",
    # Values stored as plain strings.
    # Payouts (workflows/contracts/payouts.py) and why they are owed.
    "reserving": "reserving funds",
    "awaiting_onboarding": "awaiting onboarding",
    "transferring": "transferring",
    "awaiting_settlement": "awaiting settlement",
    "paid": "paid",
    "failed": "failed",
    "abandoned": "abandoned",
    "delivery": "delivery",
    "license_fee": "license fee",
    # Fundings (models/money.py).
    "card": "card",
    "bank_transfer": "bank transfer",
    "requires_action": "needs action",
    "processing": "processing",
    "awaiting_transfer": "awaiting transfer",
    "succeeded": "succeeded",
    "superseded": "replaced",
    "refunded": "refunded",
    # Ledger entries (domain/ledger.py).
    "funding": "funding",
    "reserve": "reserved for a creator",
    "release": "released to the budget",
    "payout": "payout",
    "refund": "refund",
    # Usage-rights channels (workflows/contracts/campaign.py).
    "organic_social": "organic social posts",
    "paid_social": "paid social ads",
    "website_email": "website and e-mail",
    "ecommerce": "online shops and marketplaces",
    "broadcast_ooh": "TV, radio and outdoor",
    # Moderation: escalations, decisions and the case's stages.
    "child_safety": "child safety",
    "review_overdue": "review overdue",
    "pass": "approved",
    "block": "rejected",
    "review": "waiting for a person",
    "probing": "reading the file",
    "transcoding": "converting",
    "analyzing": "checking",
    "done": "done",
    # Submissions and their review.
    "script": "script",
    "final": "final files",
    "approved": "approved",
    "auto_approved": "approved automatically",
    "revision_requested": "revision requested",
    # Audit actors and targets.
    "user": "person",
    "api_key": "API key",
    "anonymous": "anonymous",
    "system": "the platform",
    "campaign": "campaign",
    "license": "license",
}


# A stage or status as it ends a sentence about the thing ("not possible while the delivery
# is waiting for a draft", "the campaign is taking applications"): what is happening now.
DELIVERY_STATES: dict[str, str] = {
    DeliveryStage.AWAITING_BRIEF_ACCEPTANCE: "waiting for the creator to accept the brief",
    DeliveryStage.AWAITING_PRODUCT: "waiting for the product to reach the creator",
    DeliveryStage.AWAITING_SCRIPT: "waiting for a script",
    DeliveryStage.SCRIPT_REVIEW: "waiting for the brand to review the script",
    DeliveryStage.AWAITING_DRAFT: "waiting for a draft",
    DeliveryStage.CHECKING: "being checked",
    DeliveryStage.FIXING: "waiting for the creator to fix the draft",
    DeliveryStage.IN_REVIEW: "waiting for the brand to review the draft",
    DeliveryStage.REVISING: "waiting for a revised draft",
    DeliveryStage.AWAITING_FINAL: "waiting for the final files",
    DeliveryStage.COMPLETED: "completed",
    DeliveryStage.CANCELLED: "cancelled",
    DeliveryStage.REASSIGNED: "reassigned to another creator",
}
CAMPAIGN_STATES: dict[str, str] = {
    CampaignStage.DRAFT: "still a draft",
    CampaignStage.PUBLISHED: "published",
    CampaignStage.RECRUITING: "taking applications",
    CampaignStage.IN_PRODUCTION: "in production",
    CampaignStage.COMPLETED: "completed",
    CampaignStage.CANCELLED: "cancelled",
}
APPLICATION_STATES: dict[str, str] = {
    ApplicationStatus.PENDING: "pending",
    ApplicationStatus.COUNTERED: "answered with a counter-offer",
    ApplicationStatus.ACCEPTED: "accepted",
    ApplicationStatus.REJECTED: "turned down",
    ApplicationStatus.DECLINED: "declined",
    ApplicationStatus.EXPIRED: "closed",
}


def delivery_state(stage: object) -> str:
    """ "the delivery is {delivery_state(stage)}"."""
    return _state(DELIVERY_STATES, stage)


def campaign_state(stage: object) -> str:
    """ "the campaign is {campaign_state(stage)}"."""
    return _state(CAMPAIGN_STATES, stage)


def application_state(status: object) -> str:
    """ "this application is {application_state(status)}"."""
    return _state(APPLICATION_STATES, status)


def _state(states: dict[str, str], value: object) -> str:
    return states.get(str(getattr(value, "value", value))) or words(value)


def words(value: object) -> str:
    """A value as it reads inside a sentence; one without words of its own still reads as
    words ("some_state" -> "some state"), never as a code."""
    if value is None:
        return ""
    raw = str(getattr(value, "value", value))
    return WORDS.get(raw) or raw.replace("_", " ")
