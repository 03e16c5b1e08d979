"""Custom search attributes: registered at start-up, set by workflows, never holding PII."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CAMPAIGN_ID = SearchAttributeKey.for_keyword("CampaignId")
BRAND_ID = SearchAttributeKey.for_keyword("BrandId")
CREATOR_ID = SearchAttributeKey.for_keyword("CreatorId")
DELIVERY_ID = SearchAttributeKey.for_keyword("DeliveryId")
WORKSPACE_ID = SearchAttributeKey.for_keyword("WorkspaceId")
STAGE = SearchAttributeKey.for_keyword("Stage")

ALL: tuple[SearchAttributeKey[str], ...] = (
    CAMPAIGN_ID,
    BRAND_ID,
    CREATOR_ID,
    DELIVERY_ID,
    WORKSPACE_ID,
    STAGE,
)
