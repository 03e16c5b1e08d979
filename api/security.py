"""Passwords (argon2), short-lived JWT access tokens, and partner API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from domain.enums import Role
from nexus.errors import Unauthenticated
from nexus.settings import AuthSettings

_hasher = PasswordHasher()
# Verifying against this keeps unknown e-mails as slow as wrong passwords.
_DUMMY_HASH = _hasher.hash("nexus-timing-equaliser")

API_KEY_PREFIX = "nxk_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    workspace_id: uuid.UUID
    role: Role


@dataclass(frozen=True)
class VerifiedClaims(AccessClaims):
    """Claims of a token whose signature and expiry were checked; `token_id` (the jti) is what
    sign-out revokes, until `expires_at`."""

    token_id: str
    expires_at: datetime
    # To the microsecond: "sign out everywhere" voids the tokens issued before it.
    issued_at: datetime
    # The sign-in this token belongs to (its refresh-token family), where it has one: what the
    # portal's CSRF token is bound to, so that renewing the session keeps open forms valid.
    session_id: str | None = None


def issue_access_token(
    settings: AuthSettings, claims: AccessClaims, session_id: uuid.UUID | None = None
) -> tuple[str, int]:
    now = datetime.now(UTC)
    payload: dict[str, object] = {
        "iss": settings.jwt_issuer,
        "sub": str(claims.user_id),
        "wid": str(claims.workspace_id),
        "role": claims.role.value,
        # A NumericDate may have a fraction (RFC 7519 section 2): a token issued just after
        # "sign out everywhere" in the same second stays valid.
        "iat": now.timestamp(),
        "exp": now + timedelta(seconds=settings.access_token_ttl_s),
        "jti": secrets.token_hex(16),
    }
    if session_id is not None:
        payload["sid"] = str(session_id)
    token = jwt.encode(payload, settings.jwt_secret.get_secret_value(), algorithm="HS256")
    return token, settings.access_token_ttl_s


# Tokens whose signature was checked, with their claims: a client sends the same token with
# every request, and the check costs more than the rest of a cached read. Bounded; emptied
# when full. Keyed with the secret and issuer, so another key never finds a token valid.
_VERIFIED: dict[tuple[str, str, str], VerifiedClaims] = {}
_VERIFIED_LIMIT = 10_000


def decode_access_token(
    settings: AuthSettings, token: str, *, verify_expiry: bool = True
) -> VerifiedClaims:
    """The claims of a token we signed; `verify_expiry` False also takes one past its expiry
    (for what only needs to know whose session it was)."""
    key = (settings.jwt_secret.get_secret_value(), settings.jwt_issuer, token)
    claims = _VERIFIED.get(key)
    if claims is None:
        claims = _verified_claims(settings, token)
        if len(_VERIFIED) >= _VERIFIED_LIMIT:
            _VERIFIED.clear()
        _VERIFIED[key] = claims
    # As PyJWT counts it: expired from the second its `exp` names.
    if verify_expiry and claims.expires_at.timestamp() <= time.time():
        raise Unauthenticated("access token expired")
    return claims


def _verified_claims(settings: AuthSettings, token: str) -> VerifiedClaims:
    try:
        payload = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=["HS256"],
            issuer=settings.jwt_issuer,
            options={
                "require": ["exp", "iat", "sub", "wid", "role", "iss", "jti"],
                "verify_exp": False,
            },
        )
        token_id = payload["jti"]
        if not isinstance(token_id, str) or not 0 < len(token_id) <= 64:
            raise ValueError("jti")
        session_id = payload.get("sid")
        if session_id is not None:
            session_id = str(uuid.UUID(str(session_id)))
        return VerifiedClaims(
            user_id=uuid.UUID(payload["sub"]),
            workspace_id=uuid.UUID(payload["wid"]),
            role=Role(payload["role"]),
            token_id=token_id,
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            issued_at=datetime.fromtimestamp(float(payload["iat"]), UTC),
            session_id=session_id,
        )
    except (jwt.InvalidTokenError, ValueError, KeyError, TypeError, OverflowError) as exc:
        raise Unauthenticated("access token invalid") from exc


@dataclass(frozen=True)
class NewApiKey:
    prefix: str
    secret_hash: str
    plaintext: str


def generate_api_key() -> NewApiKey:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewApiKey(
        prefix=prefix,
        secret_hash=_sha256(secret),
        plaintext=f"{API_KEY_PREFIX}{prefix}_{secret}",
    )


def split_api_key(plaintext: str) -> tuple[str, str]:
    """(prefix, secret) of a presented key; Unauthenticated if it is not shaped like one."""
    body = plaintext.removeprefix(API_KEY_PREFIX)
    prefix, _, secret = body.partition("_")
    if body == plaintext or len(prefix) != 12 or not secret:
        raise Unauthenticated("API key malformed")
    return prefix, secret


def api_key_matches(secret_hash: str, secret: str) -> bool:
    return hmac.compare_digest(secret_hash, _sha256(secret))


def new_invitation_token() -> tuple[str, str]:
    """(token for the invitee's link, the hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, invitation_token_hash(token)


def invitation_token_hash(token: str) -> str:
    return _sha256(token)


# A refresh token lasts this long unused; each use hands out the next for as long again.
REFRESH_TOKEN_TTL = timedelta(days=14)
# A password reset link works this long, once.
RESET_TOKEN_TTL = timedelta(minutes=30)


def new_secret_token() -> tuple[str, str]:
    """(an opaque 256-bit token to hand out once, the SHA-256 to store): refresh tokens and
    e-mailed links."""
    token = secrets.token_urlsafe(32)
    return token, secret_token_hash(token)


def secret_token_hash(token: str) -> str:
    return _sha256(token)


def _sha256(value: str) -> str:
    # API key and invitation secrets are 256-bit random: a fast hash is enough, unlike passwords.
    return hashlib.sha256(value.encode()).hexdigest()
