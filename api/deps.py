"""Annotated dependencies: settings, database, Temporal, and the authenticated principal."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from api.changes import DeliveryChanges
from api.schemas import Scope
from api.security import (
    API_KEY_PREFIX,
    VerifiedClaims,
    api_key_matches,
    decode_access_token,
    split_api_key,
)
from api.services import Database, Lookups, TemporalGateway
from domain.enums import Role
from integrations.storage import ObjectStore
from models import creators, workspaces
from nexus.errors import Forbidden, Unauthenticated
from nexus.settings import Settings

T = TypeVar("T")


def _from_state(kind: type[T], name: str) -> Callable[[Request], Coroutine[Any, Any, T]]:
    """A dependency on one of the long-lived handles the app keeps in its state. Async: FastAPI
    would run a plain function in a worker thread, which cost more than the lookup."""

    async def handle(request: Request) -> T:
        value: T = getattr(request.app.state, name)
        return value

    return handle


StoreDep = Annotated[ObjectStore, Depends(_from_state(ObjectStore, "store"))]
ChangesDep = Annotated[DeliveryChanges, Depends(_from_state(DeliveryChanges, "changes"))]
SettingsDep = Annotated[Settings, Depends(_from_state(Settings, "settings"))]
DatabaseDep = Annotated[Database, Depends(_from_state(Database, "database"))]
LookupsDep = Annotated[Lookups, Depends(_from_state(Lookups, "lookups"))]
TemporalDep = Annotated[TemporalGateway, Depends(_from_state(TemporalGateway, "temporal"))]


@dataclass(frozen=True)
class Principal:
    """Who is calling, in which workspace, with which role (and scopes, for API keys)."""

    workspace_id: uuid.UUID
    role: Role
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    scopes: frozenset[str] = frozenset()
    # The access token a user came with (what sign-out revokes); None for API keys.
    token: VerifiedClaims | None = None

    @property
    def actor_id(self) -> uuid.UUID:
        actor = self.user_id or self.api_key_id
        assert actor is not None
        return actor


class Suspended(Forbidden):
    """The workspace or the account was suspended by ops: nothing it presents is accepted."""

    title = "Suspended"
    type_slug = "suspended"


WORKSPACE_SUSPENDED = "this workspace is suspended: contact support"
ACCOUNT_SUSPENDED = "this account is suspended: contact support"
KEY_MAKER_SUSPENDED = "the account that made this API key is suspended: contact support"


_bearer = HTTPBearer(auto_error=False, description="JWT access token or partner API key")


def _principal_from_api_key(session: Session, presented: str) -> Principal:
    prefix, secret = split_api_key(presented)
    key = workspaces.find_api_key(session, prefix)
    if key is None or not api_key_matches(key.secret_hash, secret):
        raise Unauthenticated("API key unknown")
    if key.revoked_at is not None:
        raise Unauthenticated("API key revoked")
    suspended = workspaces.api_key_suspension(session, key)
    if suspended:
        raise Suspended(WORKSPACE_SUSPENDED if suspended == "workspace" else KEY_MAKER_SUSPENDED)
    return Principal(
        workspace_id=key.workspace_id,
        role=Role.PARTNER,
        api_key_id=key.id,
        scopes=frozenset(key.scopes),
    )


async def user_principal(lookups: Lookups, claims: VerifiedClaims) -> Principal:
    """Checked on every request, in one query: removing a member or signing out takes effect
    before the token expires."""
    found = await lookups.run(
        workspaces.token_membership,
        claims.user_id,
        claims.workspace_id,
        claims.token_id,
        claims.issued_at,
    )
    if found is None:
        raise Unauthenticated("no longer a member of this workspace")
    role, revoked, ended, _ = found
    if revoked:
        raise Unauthenticated("signed out: sign in again")
    if ended:
        raise Unauthenticated("signed out everywhere: sign in again")
    if found.suspended:
        raise Suspended(
            WORKSPACE_SUSPENDED if found.suspended == "workspace" else ACCOUNT_SUSPENDED
        )
    return Principal(
        workspace_id=claims.workspace_id, role=role, user_id=claims.user_id, token=claims
    )


async def principal_of_bearer(
    settings: Settings,
    db: Database,
    lookups: Lookups,
    credentials: HTTPAuthorizationCredentials | None,
) -> Principal:
    """Who presents these credentials: a partner key or a user's access token, checked."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("a bearer token or API key is required")
    token = credentials.credentials
    if token.startswith(API_KEY_PREFIX):
        return await db.read(_principal_from_api_key, token)
    return await user_principal(lookups, decode_access_token(settings.auth, token))


async def _principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # The app's handles straight from its state, not as dependencies: every authenticated
    # request resolves this, and FastAPI's cost per dependency is of the order of the check's.
    state = request.app.state
    return await principal_of_bearer(state.settings, state.database, state.lookups, credentials)


PrincipalDep = Annotated[Principal, Depends(_principal)]


async def _maybe_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The signed-in user where a request carries a user's token; None for anyone else."""
    if credentials is None:
        return None
    principal = await _principal(request, credentials)
    return principal if principal.user_id is not None else None


OptionalUserDep = Annotated[Principal | None, Depends(_maybe_user)]


# For a route that tells a key only about itself (`GET /auth/me`): any scope will do.
ANY_SCOPE: Literal["*"] = "*"


def allow(
    *roles: Role, scope: Scope | Literal["*"] | None = None
) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """The one authorization check of the JSON API: the given user roles, and partner keys
    holding `scope` (reads need a `:read` scope, writes a `:write` one; without a scope the
    route is closed to keys). Every route that authenticates declares its caller through it."""
    assert Role.PARTNER not in roles, "partner keys are admitted by their scope"

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role == Role.PARTNER:
            if scope is not None and (scope == ANY_SCOPE or scope in principal.scopes):
                return principal
            raise Forbidden(f"API key lacks the scope {scope}" if scope else "not for API keys")
        if principal.role not in roles:
            raise Forbidden(f"role {principal.role.value} may not do this")
        return principal

    return check


async def user_only(principal: PrincipalDep) -> Principal:
    if principal.user_id is None:
        raise Forbidden("only signed-in users may do this")
    return principal


UserDep = Annotated[Principal, Depends(user_only)]


@dataclass(frozen=True)
class CreatorPrincipal:
    principal: Principal
    creator_id: uuid.UUID
    user_id: uuid.UUID


async def _creator(principal: PrincipalDep, db: DatabaseDep) -> CreatorPrincipal:
    if principal.role != Role.CREATOR or principal.user_id is None:
        raise Forbidden("only creators may do this")
    profile = await db.read(creators.profile_of_user, principal.user_id)
    if profile is None:
        raise Forbidden("complete your creator profile first")
    return CreatorPrincipal(principal, profile.id, principal.user_id)


CreatorDep = Annotated[CreatorPrincipal, Depends(_creator)]
