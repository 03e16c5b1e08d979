"""Social sign-in port: who a person is at an OAuth 2.0 / OpenID Connect provider.

`providers` is the table of vendors (written from their public docs), `client` the authlib
client that runs the authorization code flow with PKCE (S256), state and nonce, and verifies
an ID token's signature (the provider's JWKS), issuer, audience, nonce and expiry."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Identity:
    """A provider's answer: its subject, and the e-mail it vouches for (`email_verified`)."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


class Failure(StrEnum):
    PROVIDER_ERROR = "provider_error"  # the provider answered with an error (or no code)
    TOKEN = "token"  # noqa: S105 - the code could not be exchanged
    # The ID token is forged, expired, for someone else, or its nonce is wrong.
    ID_TOKEN = "id_token"  # noqa: S105 - a kind of failure
    PROFILE = "profile"  # the user information could not be read
    UNAVAILABLE = "unavailable"  # the provider could not be reached


class SignInFailed(Exception):
    def __init__(self, failure: Failure, detail: str) -> None:
        super().__init__(f"{failure}: {detail}")
        self.failure = failure
        self.detail = detail
