"""The members of a brand workspace: its admins change a member's role or remove a member.
A removed member's sessions for the workspace end at once (the token check finds no
membership; their refresh tokens for it are revoked) and the API keys they created in it are
revoked. The last admin can be neither removed nor demoted."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from api.deps import DatabaseDep, Principal, allow
from api.schemas import Request as Body
from domain.enums import Role
from models import admin as admin_model
from models.admin import MemberChange, MemberRow
from nexus.errors import Conflict, FieldProblem, NotFound

router = APIRouter(prefix="/workspaces/current/members", tags=["members"])

Admin = Annotated[Principal, Depends(allow(Role.BRAND_ADMIN))]

LAST_ADMIN_REMOVED = (
    "this is the workspace's last admin: make another member an admin before removing them"
)
LAST_ADMIN_DEMOTED = (
    "this is the workspace's last admin: make another member an admin before changing their role"
)


class LastAdmin(Conflict):
    title = "Last admin"
    type_slug = "last-admin"


class MemberPublic(BaseModel):
    user_id: uuid.UUID
    name: str
    email: str
    role: Role
    joined_at: datetime


class MemberRoleChange(Body):
    role: Literal[Role.BRAND_ADMIN, Role.BRAND_MEMBER]


def _public(row: MemberRow) -> MemberPublic:
    return MemberPublic(
        user_id=row.user_id, name=row.name, email=row.email, role=row.role, joined_at=row.joined_at
    )


@router.get("")
async def list_members(admin: Admin, db: DatabaseDep) -> list[MemberPublic]:
    """The workspace's members, oldest first."""
    return [_public(r) for r in await db.run(admin_model.members, admin.workspace_id)]


async def change_member_role(
    user_id: uuid.UUID, role: Role, admin: Principal, db: DatabaseDep
) -> MemberPublic:
    outcome = await db.run(admin_model.change_role, admin.workspace_id, user_id, role)
    if outcome == MemberChange.NOT_FOUND:
        raise NotFound("no such member in this workspace")
    if outcome == MemberChange.LAST_ADMIN:
        raise LastAdmin(LAST_ADMIN_DEMOTED, errors=[FieldProblem("body.role", LAST_ADMIN_DEMOTED)])
    row = await db.run(admin_model.member_row, admin.workspace_id, user_id)
    if row is None:  # removed meanwhile
        raise NotFound("no such member in this workspace")
    return _public(row)


@router.patch("/{user_id}")
async def change_role(
    user_id: uuid.UUID, body: MemberRoleChange, admin: Admin, db: DatabaseDep
) -> MemberPublic:
    """Make a member an admin, or an admin a member; the change applies to their current
    sessions at once. The last admin cannot be demoted (409)."""
    return await change_member_role(user_id, body.role, admin, db)


async def remove(user_id: uuid.UUID, admin: Principal, db: DatabaseDep) -> None:
    outcome = await db.run(admin_model.remove_member, admin.workspace_id, user_id)
    if outcome == MemberChange.NOT_FOUND:
        raise NotFound("no such member in this workspace")
    if outcome == MemberChange.LAST_ADMIN:
        raise LastAdmin(LAST_ADMIN_REMOVED)


@router.delete("/{user_id}", status_code=204)
async def remove_member(user_id: uuid.UUID, admin: Admin, db: DatabaseDep) -> Response:
    """Remove a member: their access and refresh tokens for this workspace stop working at
    once and the API keys they created in it are revoked. The last admin stays (409)."""
    await remove(user_id, admin, db)
    return Response(status_code=204)
