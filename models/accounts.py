"""Self-serve accounts: a brand's or an agency's sign-up, single-use e-mailed tokens (verify
the address), whether an account may move money, and the state a new workspace's first-run
checklist is ticked from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.enums import CampaignStage, Role, WorkspaceKind
from models.base import utcnow
from models.brands import Brand
from models.campaigns import Campaign
from models.invitations import Invitation
from models.money import Funding
from models.workspaces import ApiKey, Membership, User, Workspace, find_account_token

VERIFY_EMAIL = "verify_email"


def sign_up_brand(
    session: Session, user: User, *, kind: WorkspaceKind, workspace_name: str, brand_name: str
) -> tuple[Workspace, Brand]:
    """A new brand or agency workspace, its first brand, and the user as its admin."""
    assert kind in (WorkspaceKind.BRAND, WorkspaceKind.AGENCY)
    workspace = Workspace(name=workspace_name, kind=kind)
    session.add_all([workspace, user])
    session.flush()
    brand = Brand(workspace_id=workspace.id, name=brand_name)
    session.add_all(
        [brand, Membership(user_id=user.id, workspace_id=workspace.id, role=Role.BRAND_ADMIN)]
    )
    session.flush()
    return workspace, brand


# -- single-use e-mailed tokens ---------------------------------------------------------------


class TokenState(StrEnum):
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verified:
    user_id: uuid.UUID
    email: str
    name: str


def use_verify_token(session: Session, token_hash: str) -> Verified | TokenState:
    """Spend an e-mail verification token: the account's address is verified from now on.
    A used, expired or unknown token changes nothing and says which it is. The row is
    locked: two uses of one link run one after the other, and the second finds it used."""
    row = find_account_token(session, VERIFY_EMAIL, token_hash)
    if row is None:
        return TokenState.UNKNOWN
    if row.used_at is not None:
        return TokenState.USED
    now = utcnow()
    if row.expires_at <= now:
        return TokenState.EXPIRED
    user = session.get(User, row.user_id)
    if user is None:
        return TokenState.UNKNOWN
    row.used_at = now
    if user.email_verified_at is None:
        user.email_verified_at = now
    session.add_all([row, user])
    session.flush()
    return Verified(user.id, user.email, user.name)


# -- what an unverified account may not do ------------------------------------------------------


def verified(session: Session, user_id: uuid.UUID | None, api_key_id: uuid.UUID | None) -> bool:
    """Whether the caller's account has a verified e-mail address: a user's own, or for a
    partner key, that of the person who created it."""
    if user_id is None and api_key_id is not None:
        key = session.get(ApiKey, api_key_id)
        user_id = key.created_by if key is not None else None
    if user_id is None:
        return False
    user = session.get(User, user_id)
    return user is not None and user.email_verified_at is not None


# -- the first-run checklist ------------------------------------------------------------------

_PUBLISHED = (
    CampaignStage.PUBLISHED,
    CampaignStage.RECRUITING,
    CampaignStage.IN_PRODUCTION,
    CampaignStage.COMPLETED,
)


@dataclass(frozen=True)
class FirstRun:
    """What a brand workspace has done of its first steps, read from the real rows."""

    email_verified: bool
    brands: int
    team_invited: bool
    funded: bool
    published: bool

    @property
    def done(self) -> bool:
        return (
            self.email_verified
            and self.brands > 0
            and self.team_invited
            and self.funded
            and self.published
        )


def first_run(session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID) -> FirstRun:
    def count(query: object) -> int:
        return int(session.exec(query).one())  # type: ignore[call-overload]

    user = session.get(User, user_id)
    members = count(
        select(func.count()).select_from(Membership).where(Membership.workspace_id == workspace_id)
    )
    invited = count(
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.workspace_id == workspace_id, col(Invitation.revoked_at).is_(None))
    )
    return FirstRun(
        email_verified=user is not None and user.email_verified_at is not None,
        brands=count(
            select(func.count()).select_from(Brand).where(Brand.workspace_id == workspace_id)
        ),
        team_invited=members > 1 or invited > 0,
        funded=count(
            select(func.count())
            .select_from(Funding)
            .where(
                Funding.workspace_id == workspace_id,
                col(Funding.status).in_(("succeeded", "refunded")),
                col(Funding.license_id).is_(None),
            )
        )
        > 0,
        published=count(
            select(func.count())
            .select_from(Campaign)
            .where(Campaign.workspace_id == workspace_id, col(Campaign.stage).in_(_PUBLISHED))
        )
        > 0,
    )
