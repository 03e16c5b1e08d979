"""Ops administration: find accounts and workspaces, see a workspace's members and state,
suspend and reactivate a workspace or an account with a reason, and resend a verification
e-mail. Every such action is logged with the ops person who took it and why (admin_actions).

A suspended workspace's access tokens and API keys are refused (403, "this workspace is
suspended: contact support"), so nothing people or partners do through the API reaches its
campaigns, deliveries or processes; a suspended account's tokens are refused in every
workspace."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import DatabaseDep, Principal, allow
from api.routers.signup import _deliver as deliver
from api.routers.signup import _new_link as new_link
from api.schemas import Offset
from api.schemas import Request as Body
from api.text import LINE
from domain.enums import Role, WorkspaceKind
from integrations.notifications import Message
from models import admin as admin_model
from models.admin import AdminAction
from models.workspaces import User, Workspace
from nexus.errors import Conflict, NotFound

router = APIRouter(prefix="/ops", tags=["ops administration"])

Ops = Annotated[Principal, Depends(allow(Role.OPS))]
# What ops search by: no control characters (a NUL would reach PostgreSQL, which refuses it).
SearchText = Annotated[
    str,
    Query(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$", description="part of a name or e-mail"),
]
PageSize = Annotated[int, Query(ge=1, le=100, description="rows to return")]


class Reason(Body):
    reason: Annotated[str, Field(min_length=3, max_length=500), LINE] = Field(
        description="Why: kept with the action in the admin log"
    )


class UserSummary(BaseModel):
    id: uuid.UUID
    name: str
    email: str
    created_at: datetime
    email_verified: bool
    suspended_at: datetime | None
    suspended_reason: str | None


class UserWorkspacePublic(BaseModel):
    workspace_id: uuid.UUID
    name: str
    kind: WorkspaceKind
    role: Role
    suspended: bool


class UserDetail(UserSummary):
    workspaces: list[UserWorkspacePublic]


class WorkspaceSummary(BaseModel):
    id: uuid.UUID
    name: str
    kind: WorkspaceKind
    created_at: datetime
    members: int
    suspended_at: datetime | None
    suspended_reason: str | None


class MemberOfWorkspace(BaseModel):
    user_id: uuid.UUID
    name: str
    email: str
    role: Role


class WorkspaceDetail(WorkspaceSummary):
    member_list: list[MemberOfWorkspace]


class AdminActionPublic(BaseModel):
    id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID
    actor_name: str
    action: str
    target_type: str
    target_id: uuid.UUID
    target_name: str
    reason: str


class UserPage(BaseModel):
    limit: int
    offset: int
    items: list[UserSummary]


class WorkspacePage(BaseModel):
    limit: int
    offset: int
    items: list[WorkspaceSummary]


class AdminActionPage(BaseModel):
    limit: int
    offset: int
    items: list[AdminActionPublic]


class VerificationResent(BaseModel):
    detail: str


def user_summary(user: User) -> UserSummary:
    return UserSummary(
        id=user.id, name=user.name, email=user.email, created_at=user.created_at,
        email_verified=user.email_verified_at is not None, suspended_at=user.suspended_at,
        suspended_reason=user.suspended_reason,
    )  # fmt: skip


def workspace_summary(workspace: Workspace, members: int) -> WorkspaceSummary:
    return WorkspaceSummary(
        id=workspace.id, name=workspace.name, kind=workspace.kind,
        created_at=workspace.created_at, members=members, suspended_at=workspace.suspended_at,
        suspended_reason=workspace.suspended_reason,
    )  # fmt: skip


def action_public(row: AdminAction) -> AdminActionPublic:
    return AdminActionPublic.model_validate(row, from_attributes=True)


# -- finding ----------------------------------------------------------------------------------


@router.get("/users")
async def search_users(
    ops: Ops, db: DatabaseDep, q: SearchText = "", limit: PageSize = 50, offset: Offset = 0
) -> UserPage:
    """Accounts whose name or e-mail contains `q` (any case), by name."""
    rows = await db.run(admin_model.find_users, q.strip(), limit, offset)
    return UserPage(limit=limit, offset=offset, items=[user_summary(u) for u in rows])


def user_detail(session: Session, user_id: uuid.UUID) -> UserDetail:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such account")
    found = admin_model.workspaces_of_user(session, user_id)
    spaces = [UserWorkspacePublic(**vars(w)) for w in found]
    return UserDetail(**user_summary(user).model_dump(), workspaces=spaces)


@router.get("/users/{user_id}")
async def get_user(user_id: uuid.UUID, ops: Ops, db: DatabaseDep) -> UserDetail:
    """An account, its state and the workspaces it belongs to."""
    return await db.run(user_detail, user_id)


@router.get("/workspaces")
async def search_workspaces(
    ops: Ops, db: DatabaseDep, q: SearchText = "", limit: PageSize = 50, offset: Offset = 0
) -> WorkspacePage:
    """Workspaces whose name contains `q` (any case), by name."""
    rows = await db.run(admin_model.find_workspaces, q.strip(), limit, offset)
    items = [workspace_summary(r.workspace, r.members) for r in rows]
    return WorkspacePage(limit=limit, offset=offset, items=items)


def workspace_detail(session: Session, workspace_id: uuid.UUID) -> WorkspaceDetail:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("no such workspace")
    members = admin_model.members(session, workspace_id)
    listed = [MemberOfWorkspace(user_id=m.user_id, name=m.name, email=m.email, role=m.role)
              for m in members]  # fmt: skip
    summary = workspace_summary(workspace, len(members))
    return WorkspaceDetail(**summary.model_dump(), member_list=listed)


@router.get("/workspaces/{workspace_id}")
async def get_workspace(workspace_id: uuid.UUID, ops: Ops, db: DatabaseDep) -> WorkspaceDetail:
    """A workspace, its state and its members."""
    return await db.run(workspace_detail, workspace_id)


@router.get("/admin-actions")
async def list_admin_actions(
    ops: Ops,
    db: DatabaseDep,
    target_id: Annotated[uuid.UUID | None, Query(description="one workspace or account")] = None,
    limit: PageSize = 50,
    offset: Offset = 0,
) -> AdminActionPage:
    """Suspensions, reactivations and resent verifications, newest first, with who and why."""
    rows = await db.run(
        lambda s: admin_model.actions(s, target_id=target_id, limit=limit, offset=offset)
    )
    return AdminActionPage(limit=limit, offset=offset, items=[action_public(r) for r in rows])


# -- suspending -------------------------------------------------------------------------------


async def workspace_suspension(
    workspace_id: uuid.UUID, reason: str, ops: Principal, db: DatabaseDep, *, suspend: bool
) -> WorkspaceDetail:
    assert ops.user_id is not None
    done = await db.run(
        admin_model.set_workspace_suspension, ops.user_id, workspace_id, reason, suspend
    )
    if done is None:
        raise NotFound("no such workspace")
    return await db.run(workspace_detail, workspace_id)


async def user_suspension(
    user_id: uuid.UUID, reason: str, ops: Principal, db: DatabaseDep, *, suspend: bool
) -> UserDetail:
    assert ops.user_id is not None
    if suspend and user_id == ops.user_id:
        raise Conflict("you cannot suspend your own account")
    done = await db.run(admin_model.set_user_suspension, ops.user_id, user_id, reason, suspend)
    if done is None:
        raise NotFound("no such account")
    return await db.run(user_detail, user_id)


@router.post("/workspaces/{workspace_id}/suspension")
async def suspend_workspace(
    workspace_id: uuid.UUID, body: Reason, ops: Ops, db: DatabaseDep
) -> WorkspaceDetail:
    """Suspend a workspace: its members' access tokens and its API keys are refused with
    "this workspace is suspended: contact support" until it is reactivated."""
    return await workspace_suspension(workspace_id, body.reason, ops, db, suspend=True)


@router.post("/workspaces/{workspace_id}/reactivation")
async def reactivate_workspace(
    workspace_id: uuid.UUID, body: Reason, ops: Ops, db: DatabaseDep
) -> WorkspaceDetail:
    """Lift a workspace's suspension: its sessions and keys are accepted again."""
    return await workspace_suspension(workspace_id, body.reason, ops, db, suspend=False)


@router.post("/users/{user_id}/suspension")
async def suspend_user(user_id: uuid.UUID, body: Reason, ops: Ops, db: DatabaseDep) -> UserDetail:
    """Suspend an account: its access tokens are refused in every workspace and its refresh
    tokens revoked, until it is reactivated."""
    return await user_suspension(user_id, body.reason, ops, db, suspend=True)


@router.post("/users/{user_id}/reactivation")
async def reactivate_user(
    user_id: uuid.UUID, body: Reason, ops: Ops, db: DatabaseDep
) -> UserDetail:
    """Lift an account's suspension: its owner signs in again."""
    return await user_suspension(user_id, body.reason, ops, db, suspend=False)


# -- verification -----------------------------------------------------------------------------


async def resend(
    request: Request, user_id: uuid.UUID, reason: str, ops: Principal, db: DatabaseDep
) -> None:
    """E-mail the account a new verification link and log it; Conflict once it is verified."""
    assert ops.user_id is not None
    ops_id = ops.user_id

    def link(session: Session) -> Message | None:
        if session.get(User, user_id) is None:
            raise NotFound("no such account")
        message = new_link(session, user_id, secrets.token_urlsafe(32))
        if message is not None:
            admin_model.log_resend(session, ops_id, user_id, reason)
        return message

    message = await db.run(link)
    if message is None:
        raise Conflict("this account's e-mail address is verified already")
    await run_in_threadpool(deliver, request, [message])


@router.post("/users/{user_id}/verification-email", status_code=202)
async def resend_verification(
    user_id: uuid.UUID, body: Reason, request: Request, ops: Ops, db: DatabaseDep
) -> VerificationResent:
    """E-mail the account a new verification link (earlier links keep working until they
    expire); 409 when its address is verified already."""
    await resend(request, user_id, body.reason, ops, db)
    return VerificationResent(detail="A new verification link is on its way.")
