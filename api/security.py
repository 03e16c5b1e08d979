"""Passwords (argon2), short-lived JWT access tokens, and partner API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
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


def issue_access_token(settings: AuthSettings, claims: AccessClaims) -> tuple[str, int]:
    now = datetime.now(UTC)
    payload = {
        "iss": settings.jwt_issuer,
        "sub": str(claims.user_id),
        "wid": str(claims.workspace_id),
        "role": claims.role.value,
        "iat": now,
        "exp": now + timedelta(seconds=settings.access_token_ttl_s),
        "jti": secrets.token_hex(16),
    }
    token = jwt.encode(payload, settings.jwt_secret.get_secret_value(), algorithm="HS256")
    return token, settings.access_token_ttl_s


def decode_access_token(settings: AuthSettings, token: str) -> VerifiedClaims:
    try:
        payload = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=["HS256"],
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "wid", "role", "iss", "jti"]},
        )
        token_id = payload["jti"]
        if not isinstance(token_id, str) or not 0 < len(token_id) <= 64:
            raise ValueError("jti")
        return VerifiedClaims(
            user_id=uuid.UUID(payload["sub"]),
            workspace_id=uuid.UUID(payload["wid"]),
            role=Role(payload["role"]),
            token_id=token_id,
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("access token expired") from exc
    except (jwt.InvalidTokenError, ValueError, KeyError) as exc:
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


def _sha256(value: str) -> str:
    # API key and invitation secrets are 256-bit random: a fast hash is enough, unlike passwords.
    return hashlib.sha256(value.encode()).hexdigest()
