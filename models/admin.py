"""Administration: a workspace admin changing a member's role or removing a member, and ops
finding, suspending and reactivating workspaces and accounts, each such ops action written to
the admin actions log with who did it and why."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, func, or_, update
from sqlmodel import Field, Session, SQLModel, col, select

from domain.enums import Role, WorkspaceKind
from models.base import id_field, utcnow
from models.workspaces import ApiKey, Membership, RefreshToken, User, Workspace


class AdminActionKind(StrEnum):
    SUSPEND_WORKSPACE = "suspend_workspace"
    REACTIVATE_WORKSPACE = "reactivate_workspace"
    SUSPEND_USER = "suspend_user"
    REACTIVATE_USER = "reactivate_user"
    RESEND_VERIFICATION = "resend_verification"


class AdminAction(SQLModel, table=True):
    """One ops action on a workspace or an account, with the ops person and their reason.
    Names are kept as they were: the log outlives renames."""

    __tablename__ = "admin_actions"

    id: uuid.UUID = id_field()
    at: datetime = Field(
        default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False, index=True
    )
    actor_id: uuid.UUID
    actor_name: str = Field(max_length=320)
    action: str = Field(max_length=50)
    target_type: str = Field(max_length=20)  # "workspace" or "user"
    target_id: uuid.UUID = Field(index=True)
    target_name: str = Field(max_length=320)
    reason: str = Field(max_length=500)


# -- members of a workspace -------------------------------------------------------------------

ADMIN_ROLES = (Role.BRAND_ADMIN,)


class MemberChange(StrEnum):
    DONE = "done"
    NOT_FOUND = "not_found"
    LAST_ADMIN = "last_admin"


@dataclass(frozen=True)
class MemberRow:
    user_id: uuid.UUID
    name: str
    email: str
    role: Role
    joined_at: datetime


def _lock_workspace(session: Session, workspace_id: uuid.UUID) -> None:
    """Member changes of one workspace run one at a time: two admins demoting each other at
    once cannot leave it without an admin."""
    session.exec(select(Workspace.id).where(Workspace.id == workspace_id).with_for_update())


def _other_admins(session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID) -> int:
    return session.exec(
        select(func.count())
        .select_from(Membership)
        .where(
            Membership.workspace_id == workspace_id,
            Membership.user_id != user_id,
            col(Membership.role).in_(ADMIN_ROLES),
        )
    ).one()


def _member(session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID) -> Membership | None:
    return session.exec(
        select(Membership).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user_id
        )
    ).first()


def member_row(session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID) -> MemberRow | None:
    found = session.exec(
        select(Membership, User)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(Membership.workspace_id == workspace_id, Membership.user_id == user_id)
    ).first()
    if found is None:
        return None
    m, u = found
    return MemberRow(u.id, u.name, u.email, m.role, m.created_at)


def members(session: Session, workspace_id: uuid.UUID) -> list[MemberRow]:
    rows = session.exec(
        select(Membership, User)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(Membership.workspace_id == workspace_id)
        .order_by(col(Membership.created_at))
    ).all()
    return [MemberRow(u.id, u.name, u.email, m.role, m.created_at) for m, u in rows]


def change_role(
    session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID, role: Role
) -> MemberChange:
    """Give a member another role; the last admin keeps theirs. The token check reads the
    role on every request, so it applies to the member's current sessions at once."""
    _lock_workspace(session, workspace_id)
    member = _member(session, workspace_id, user_id)
    if member is None:
        return MemberChange.NOT_FOUND
    if (
        member.role in ADMIN_ROLES
        and role not in ADMIN_ROLES
        and _other_admins(session, workspace_id, user_id) == 0
    ):
        return MemberChange.LAST_ADMIN
    member.role = role
    session.add(member)
    return MemberChange.DONE


def remove_member(session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID) -> MemberChange:
    """Take a member out of the workspace: their access tokens for it are refused from the
    next request on (the membership is gone), their refresh tokens for it and the API keys they
    created in it are revoked; for an agency, also in the clients they reached through it (not
    those where they are members in their own right). The last admin stays."""
    _lock_workspace(session, workspace_id)
    member = _member(session, workspace_id, user_id)
    if member is None:
        return MemberChange.NOT_FOUND
    if member.role in ADMIN_ROLES and _other_admins(session, workspace_id, user_id) == 0:
        return MemberChange.LAST_ADMIN
    now = utcnow()
    session.delete(member)
    own_elsewhere = select(Membership.workspace_id).where(Membership.user_id == user_id)
    clients = session.exec(
        select(Workspace.id).where(
            Workspace.managed_by == workspace_id, col(Workspace.id).not_in(own_elsewhere)
        )
    ).all()
    reached = [workspace_id, *clients]
    session.execute(
        update(RefreshToken)
        .where(
            col(RefreshToken.user_id) == user_id,
            col(RefreshToken.workspace_id).in_(reached),
            col(RefreshToken.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    session.execute(
        update(ApiKey)
        .where(
            col(ApiKey.workspace_id).in_(reached),
            col(ApiKey.created_by) == user_id,
            col(ApiKey.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    return MemberChange.DONE


# -- ops: finding -----------------------------------------------------------------------------


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_users(session: Session, text: str, limit: int, offset: int) -> list[User]:
    """Accounts whose name or e-mail holds `text` (any case), by name."""
    query = select(User)
    if text:
        pattern = _like(text)
        query = query.where(
            or_(
                col(User.name).ilike(pattern, escape="\\"),
                col(User.email).ilike(pattern, escape="\\"),
            )
        )
    return list(
        session.exec(
            query.order_by(func.lower(User.name), col(User.id)).limit(limit).offset(offset)
        )
    )


@dataclass(frozen=True)
class WorkspaceRow:
    workspace: Workspace
    members: int


def find_workspaces(session: Session, text: str, limit: int, offset: int) -> list[WorkspaceRow]:
    """Workspaces whose name holds `text` (any case), by name, with how many members each has."""
    count = (
        select(func.count())
        .select_from(Membership)
        .where(col(Membership.workspace_id) == col(Workspace.id))
        .scalar_subquery()
    )
    query = select(Workspace, count)
    if text:
        query = query.where(col(Workspace.name).ilike(_like(text), escape="\\"))
    rows = session.exec(
        query.order_by(func.lower(Workspace.name), col(Workspace.id)).limit(limit).offset(offset)
    ).all()
    return [WorkspaceRow(w, n) for w, n in rows]


@dataclass(frozen=True)
class UserWorkspace:
    workspace_id: uuid.UUID
    name: str
    kind: WorkspaceKind
    role: Role
    suspended: bool


def workspaces_of_user(session: Session, user_id: uuid.UUID) -> list[UserWorkspace]:
    rows = session.exec(
        select(Membership, Workspace)
        .join(Workspace, col(Workspace.id) == col(Membership.workspace_id))
        .where(Membership.user_id == user_id)
        .order_by(func.lower(Workspace.name))
    ).all()
    return [
        UserWorkspace(w.id, w.name, w.kind, m.role, w.suspended_at is not None) for m, w in rows
    ]


# -- ops: suspending --------------------------------------------------------------------------


def _log(
    session: Session,
    actor: User,
    action: AdminActionKind,
    target_type: str,
    target_id: uuid.UUID,
    target_name: str,
    reason: str,
) -> AdminAction:
    row = AdminAction(
        actor_id=actor.id, actor_name=actor.name[:320], action=action.value,
        target_type=target_type, target_id=target_id, target_name=target_name[:320],
        reason=reason[:500],
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def set_workspace_suspension(
    session: Session, ops_user_id: uuid.UUID, workspace_id: uuid.UUID, reason: str, suspend: bool
) -> Workspace | None:
    """Suspend (or reactivate) a workspace and log it; None when there is no such workspace.
    Doing it again changes nothing but is logged with its reason too."""
    workspace = session.exec(
        select(Workspace).where(Workspace.id == workspace_id).with_for_update()
    ).first()
    actor = session.get(User, ops_user_id)
    if workspace is None or actor is None:
        return None
    if suspend and workspace.suspended_at is None:
        workspace.suspended_at = utcnow()
    workspace.suspended_reason = reason if suspend else None
    if not suspend:
        workspace.suspended_at = None
    session.add(workspace)
    kind = AdminActionKind.SUSPEND_WORKSPACE if suspend else AdminActionKind.REACTIVATE_WORKSPACE
    _log(session, actor, kind, "workspace", workspace.id, workspace.name, reason)
    return workspace


def set_user_suspension(
    session: Session, ops_user_id: uuid.UUID, user_id: uuid.UUID, reason: str, suspend: bool
) -> User | None:
    """Suspend (or reactivate) an account and log it; None when there is no such account.
    A suspended account's refresh tokens are revoked: reactivated, its owner signs in again."""
    user = session.exec(select(User).where(User.id == user_id).with_for_update()).first()
    actor = session.get(User, ops_user_id)
    if user is None or actor is None:
        return None
    now = utcnow()
    if suspend:
        user.suspended_at = user.suspended_at or now
        user.suspended_reason = reason
        session.execute(
            update(RefreshToken)
            .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None))
            .values(revoked_at=now)
        )
    else:
        user.suspended_at = None
        user.suspended_reason = None
    session.add(user)
    kind = AdminActionKind.SUSPEND_USER if suspend else AdminActionKind.REACTIVATE_USER
    _log(session, actor, kind, "user", user.id, user.name, reason)
    return user


def log_resend(
    session: Session, ops_user_id: uuid.UUID, user_id: uuid.UUID, reason: str
) -> AdminAction | None:
    user, actor = session.get(User, user_id), session.get(User, ops_user_id)
    if user is None or actor is None:
        return None
    return _log(
        session, actor, AdminActionKind.RESEND_VERIFICATION, "user", user.id, user.name, reason
    )


def actions(
    session: Session, *, target_id: uuid.UUID | None = None, limit: int, offset: int = 0
) -> list[AdminAction]:
    """Newest first; of one workspace or account when `target_id` is given."""
    query = select(AdminAction)
    if target_id is not None:
        query = query.where(AdminAction.target_id == target_id)
    return list(
        session.exec(
            query.order_by(col(AdminAction.at).desc(), col(AdminAction.id).desc())
            .limit(limit)
            .offset(offset)
        )
    )
