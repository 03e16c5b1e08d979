"""Social sign-in: identities at an OAuth 2.0 / OpenID Connect provider linked to accounts,
and the sign-ins sent to a provider and not yet back (each spent once by its callback)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import DateTime, UniqueConstraint, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from models.base import aware_datetime_field, created_at_field, id_field, utcnow
from models.workspaces import Membership, User, Workspace, find_user_by_email


class SocialIdentity(SQLModel, table=True):
    """Who a person is at a provider (its `sub`), linked to one account."""

    __tablename__ = "social_identities"
    __table_args__ = (
        UniqueConstraint("provider", "subject", name="uq_social_identities_provider_subject"),
    )

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    provider: str = Field(max_length=32)
    subject: str = Field(max_length=255)
    email: str | None = Field(default=None, max_length=320)
    created_at: datetime = created_at_field()


class SocialSignIn(SQLModel, table=True):
    """A sign-in sent to a provider: the nonce its ID token must carry and the PKCE verifier
    of its code, found by the SHA-256 of its state."""

    __tablename__ = "social_sign_ins"

    state_hash: str = Field(primary_key=True, max_length=64)
    provider: str = Field(max_length=32)
    nonce: str = Field(max_length=128)
    code_verifier: str = Field(max_length=128)
    next_path: str | None = Field(default=None, max_length=2000)
    # Started from the account page by this signed-in account: the identity is linked to it.
    link_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    used_at: datetime | None = aware_datetime_field()


def start_sign_in(
    session: Session,
    *,
    state_hash: str,
    provider: str,
    nonce: str,
    code_verifier: str,
    next_path: str | None,
    expires_at: datetime,
    link_user_id: uuid.UUID | None = None,
) -> None:
    # Sign-ins that never came back are forgotten a day after they expired.
    session.execute(
        delete(SocialSignIn).where(col(SocialSignIn.expires_at) < utcnow() - timedelta(days=1))
    )
    session.add(
        SocialSignIn(
            state_hash=state_hash, provider=provider, nonce=nonce, code_verifier=code_verifier,
            next_path=next_path, expires_at=expires_at, link_user_id=link_user_id,
        )
    )  # fmt: skip
    session.flush()


@dataclass(frozen=True)
class PendingSignIn:
    provider: str
    nonce: str
    code_verifier: str
    next_path: str | None
    link_user_id: uuid.UUID | None = None


def spend_sign_in(session: Session, state_hash: str, provider: str) -> PendingSignIn | None:
    """The sign-in of this state, marked used; None for an unknown, used or expired one (a
    replayed callback finds its state used). One statement: two callbacks at once, one wins."""
    now = utcnow()
    row = session.exec(
        update(SocialSignIn)
        .where(
            col(SocialSignIn.state_hash) == state_hash,
            col(SocialSignIn.provider) == provider,
            col(SocialSignIn.used_at).is_(None),
            col(SocialSignIn.expires_at) > now,
        )
        .values(used_at=now)
        .returning(
            col(SocialSignIn.provider),
            col(SocialSignIn.nonce),
            col(SocialSignIn.code_verifier),
            col(SocialSignIn.next_path),
            col(SocialSignIn.link_user_id),
        )
    ).first()
    session.flush()
    return PendingSignIn(*row) if row is not None else None


class Outcome(StrEnum):
    SIGNED_IN = "signed_in"  # the identity was linked already
    LINKED = "linked"  # linked now, through a verified e-mail
    EMAIL_NOT_VERIFIED = "email_not_verified"  # the provider does not vouch for the e-mail
    ACCOUNT_NOT_VERIFIED = "account_not_verified"  # the account's own e-mail is not verified
    NO_ACCOUNT = "no_account"  # no account uses the e-mail
    WRONG_KIND = "wrong_kind"  # e.g. a creator provider for a brand-only account
    SUSPENDED = "suspended"
    TAKEN = "taken"  # linked to another account already


@dataclass(frozen=True)
class Resolved:
    outcome: Outcome
    user_id: uuid.UUID | None = None


def resolve(
    session: Session,
    *,
    provider: str,
    subject: str,
    email: str | None,
    email_verified: bool,
    kinds: frozenset[str],
) -> Resolved:
    """The account a provider's answer signs in to. A known (provider, subject) signs in its
    account. Otherwise it is linked only to the account whose e-mail is the provider's
    verified e-mail, when that account has verified its e-mail with us too (else whoever made
    an account with someone else's address would be handed their sign-in), and has a
    workspace of one of `kinds` (the provider's audience). Nothing else is written."""
    linked = session.exec(
        select(SocialIdentity).where(
            SocialIdentity.provider == provider, SocialIdentity.subject == subject
        )
    ).first()
    if linked is not None:
        user = session.get(User, linked.user_id)
        if user is None or user.suspended_at is not None:
            return Resolved(Outcome.SUSPENDED)
        return Resolved(Outcome.SIGNED_IN, linked.user_id)
    if not email or not email_verified:
        return Resolved(Outcome.EMAIL_NOT_VERIFIED)
    user = find_user_by_email(session, email) if "\x00" not in email else None
    if user is None:
        return Resolved(Outcome.NO_ACCOUNT)
    if user.email_verified_at is None:
        return Resolved(Outcome.ACCOUNT_NOT_VERIFIED)
    if user.suspended_at is not None:
        return Resolved(Outcome.SUSPENDED)
    if not _has_kind(session, user.id, kinds):
        return Resolved(Outcome.WRONG_KIND)
    return _linked(session, user.id, provider, subject, email)


def _has_kind(session: Session, user_id: uuid.UUID, kinds: frozenset[str]) -> bool:
    """Whether the user belongs to a workspace of one of `kinds`."""
    workspace_kinds = session.exec(
        select(Workspace.kind)
        .join(Membership, col(Membership.workspace_id) == col(Workspace.id))
        .where(Membership.user_id == user_id)
    ).all()
    return bool({str(k) for k in workspace_kinds} & kinds)


def _owner(session: Session, provider: str, subject: str) -> uuid.UUID | None:
    """The account an identity is linked to, if any."""
    return session.exec(
        select(SocialIdentity.user_id).where(
            SocialIdentity.provider == provider, SocialIdentity.subject == subject
        )
    ).first()


def _linked(
    session: Session, user_id: uuid.UUID, provider: str, subject: str, email: str | None
) -> Resolved:
    try:
        with session.begin_nested():
            session.add(
                SocialIdentity(user_id=user_id, provider=provider, subject=subject, email=email)
            )
            session.flush()
    except IntegrityError:
        # Linked by a callback that ran at the same time, or to another account.
        if _owner(session, provider, subject) != user_id:
            return Resolved(Outcome.TAKEN)
    return Resolved(Outcome.LINKED, user_id)


def link(
    session: Session,
    user_id: uuid.UUID,
    *,
    provider: str,
    subject: str,
    email: str | None,
    kinds: frozenset[str],
) -> Resolved:
    """Link an identity to the signed-in account that asked for it from its account page: it
    proved both, so no e-mail need match (TikTok and Instagram give none). An identity linked
    to another account stays there; one per provider per account (connecting another replaces
    it)."""
    user = session.get(User, user_id)
    if user is None or user.suspended_at is not None:
        return Resolved(Outcome.SUSPENDED)
    if not _has_kind(session, user_id, kinds):
        return Resolved(Outcome.WRONG_KIND)
    owner = _owner(session, provider, subject)
    if owner is not None:
        return Resolved(Outcome.LINKED, user_id) if owner == user_id else Resolved(Outcome.TAKEN)
    unlink(session, user_id, provider)
    return _linked(session, user_id, provider, subject, email)


def unlink(session: Session, user_id: uuid.UUID, provider: str) -> bool:
    """Forget the account's identity at `provider`; whether there was one."""
    gone = session.exec(
        delete(SocialIdentity)
        .where(col(SocialIdentity.user_id) == user_id, col(SocialIdentity.provider) == provider)
        .returning(col(SocialIdentity.id))
    ).all()
    return bool(gone)


def identities_of(session: Session, user_id: uuid.UUID) -> list[SocialIdentity]:
    return list(
        session.exec(
            select(SocialIdentity)
            .where(SocialIdentity.user_id == user_id)
            .order_by(col(SocialIdentity.created_at))
        ).all()
    )
