"""Ops view of the moderation pipeline: a video's live state, and the human review decision
(an Update on its ModerationWorkflow; refused unless the video is waiting for one)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from api.deps import Principal, SettingsDep, TemporalDep, allow
from api.text import Text
from api.workflow_calls import execute_update
from domain.enums import Role
from nexus.errors import NotFound
from workflows.contracts.moderation import ModerationStatus, ReviewDecision
from workflows.moderation import ModerationWorkflow, workflow_id

router = APIRouter(prefix="/moderation", tags=["moderation"])
Ops = Annotated[Principal, Depends(allow(Role.OPS))]


class ReviewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["pass", "block"]
    reason: Text = Field(min_length=1, max_length=2000)


@router.get("/{asset_id}", response_model=ModerationStatus)
async def get_status(
    asset_id: uuid.UUID, principal: Ops, temporal: TemporalDep
) -> ModerationStatus:
    client = await temporal.client()
    try:
        status = await client.get_workflow_handle(workflow_id(asset_id)).query(
            ModerationWorkflow.status, rpc_timeout=timedelta(seconds=5)
        )
    except (RPCError, WorkflowQueryFailedError):
        status = None
    if status is None:
        raise NotFound("no moderation for this asset")
    return status


@router.post("/{asset_id}/review", response_model=ModerationStatus)
async def review(
    asset_id: uuid.UUID,
    body: ReviewCreate,
    principal: Ops,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> ModerationStatus:
    decision = ReviewDecision(
        decision=body.decision, reason=body.reason, reviewer=f"user:{principal.user_id}"
    )
    return await execute_update(
        temporal, settings.api, workflow_id(asset_id), ModerationWorkflow.review, decision,
        result_type=ModerationStatus,
    )  # fmt: skip
