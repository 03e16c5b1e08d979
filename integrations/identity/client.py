"""The authlib client of a social sign-in provider: the authorization URL (code flow with
PKCE S256, state and, for OpenID Connect, nonce), the code exchange, and the person it names:
from a verified ID token (OpenID Connect) or the provider's user information (OAuth 2.0)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from integrations.identity import Failure, Identity, SignInFailed
from integrations.identity.providers import PROVIDERS, Provider
from nexus.settings import SocialLoginSettings, SocialProviderSettings

_TIMEOUT = httpx.Timeout(10.0)
# Discovery documents, kept for an hour per URL.
_DISCOVERED: dict[str, tuple[float, dict[str, Any]]] = {}
_DISCOVERY_TTL_S = 3600.0


def new_secret() -> str:
    """A state, a nonce or a PKCE code verifier: 48 random URL-safe characters."""
    return str(generate_token(48))


def configured(settings: SocialLoginSettings) -> list[Provider]:
    """The providers that are enabled with a client id, with the endpoints the settings give."""
    found = []
    for name, provider in PROVIDERS.items():
        own: SocialProviderSettings = getattr(settings, name)
        if own.enabled and own.client_id:
            found.append(
                replace(
                    provider,
                    discovery_url=own.discovery_url or provider.discovery_url,
                    authorize_url=own.authorize_url or provider.authorize_url,
                    token_url=own.token_url or provider.token_url,
                    userinfo_url=own.userinfo_url or provider.userinfo_url,
                )
            )
    return found


@dataclass(frozen=True)
class _Endpoints:
    authorize_url: str
    token_url: str
    userinfo_url: str | None
    issuer: str | None
    jwks_uri: str | None


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


class IdentityClient:
    """One provider, as configured; `redirect_uri` is the portal's callback for it."""

    def __init__(
        self, provider: Provider, settings: SocialProviderSettings, redirect_uri: str
    ) -> None:
        self.provider = provider
        self._settings = settings
        self._redirect_uri = redirect_uri

    def _oauth(self) -> AsyncOAuth2Client:
        secret = self._settings.client_secret
        return AsyncOAuth2Client(
            client_id=self._settings.client_id,
            client_secret=secret.get_secret_value() if secret else None,
            scope=" ".join(self.provider.scopes),
            redirect_uri=self._redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method's name
            timeout=10.0,
        )

    async def _endpoints(self) -> _Endpoints:
        provider = self.provider
        if provider.protocol == "oauth2":
            assert provider.authorize_url and provider.token_url
            return _Endpoints(
                provider.authorize_url, provider.token_url, provider.userinfo_url, None, None
            )
        assert provider.discovery_url
        url = provider.discovery_url
        cached = _DISCOVERED.get(url)
        if cached is None or cached[0] < time.monotonic():
            try:
                async with httpx.AsyncClient(timeout=_TIMEOUT) as http:
                    answer = await http.get(url)
                    answer.raise_for_status()
                    document = answer.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise SignInFailed(Failure.UNAVAILABLE, f"discovery: {exc}") from exc
            cached = (time.monotonic() + _DISCOVERY_TTL_S, document)
            _DISCOVERED[url] = cached
        document = cached[1]
        return _Endpoints(
            provider.authorize_url or document["authorization_endpoint"],
            provider.token_url or document["token_endpoint"],
            provider.userinfo_url or document.get("userinfo_endpoint"),
            document["issuer"],
            document["jwks_uri"],
        )

    async def authorization_url(self, state: str, nonce: str, code_verifier: str) -> str:
        endpoints = await self._endpoints()
        extra: dict[str, str] = {}
        if self.provider.protocol == "oidc":
            extra["nonce"] = nonce
        if self.provider.client_id_param != "client_id":
            extra[self.provider.client_id_param] = self._settings.client_id
        async with self._oauth() as oauth:
            url, _ = oauth.create_authorization_url(
                endpoints.authorize_url, state=state, code_verifier=code_verifier, **extra
            )
        return str(url)

    async def identity(self, code: str, code_verifier: str, nonce: str) -> Identity:
        """Exchange the code (with its PKCE verifier) and say who it names."""
        endpoints = await self._endpoints()
        extra: dict[str, str] = {}
        if self.provider.client_id_param != "client_id":
            extra[self.provider.client_id_param] = self._settings.client_id
        async with self._oauth() as oauth:
            try:
                token = await oauth.fetch_token(
                    endpoints.token_url, code=code, code_verifier=code_verifier, **extra
                )
            except (OAuthError, httpx.HTTPError, ValueError) as exc:
                raise SignInFailed(Failure.TOKEN, str(exc)) from exc
            if self.provider.protocol == "oidc":
                id_token = token.get("id_token")
                if not isinstance(id_token, str):
                    raise SignInFailed(Failure.ID_TOKEN, "no ID token in the answer")
                claims = await self._verified_claims(endpoints, id_token, nonce)
                return self._identity(claims, ("sub",), ("name",))
            if endpoints.userinfo_url is None:
                raise SignInFailed(Failure.PROFILE, "no user information endpoint")
            try:
                answer = await oauth.get(endpoints.userinfo_url)
                answer.raise_for_status()
                profile = answer.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise SignInFailed(Failure.PROFILE, str(exc)) from exc
            return self._identity(profile, self.provider.subject_path, self.provider.name_path)

    async def _verified_claims(
        self, endpoints: _Endpoints, id_token: str, nonce: str
    ) -> dict[str, Any]:
        """The ID token's claims once its signature (the provider's JWKS), issuer, audience,
        nonce and expiry hold."""
        assert endpoints.jwks_uri is not None and endpoints.issuer is not None
        try:
            async with httpx.AsyncClient(timeout=_TIMEOUT) as plain:
                answer = await plain.get(endpoints.jwks_uri)
            answer.raise_for_status()
            keys = KeySet.import_key_set(answer.json())
        except (httpx.HTTPError, ValueError, JoseError) as exc:
            raise SignInFailed(Failure.UNAVAILABLE, f"JWKS: {exc}") from exc
        try:
            decoded = jwt.decode(id_token, keys, algorithms=["RS256", "ES256"])
            jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": endpoints.issuer},
                aud={"essential": True, "value": self._settings.client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise SignInFailed(Failure.ID_TOKEN, str(exc)) from exc
        return dict(decoded.claims)

    def _identity(
        self, data: dict[str, Any], subject_path: tuple[str, ...], name_path: tuple[str, ...]
    ) -> Identity:
        subject = _dig(data, subject_path)
        if not isinstance(subject, str | int) or not str(subject):
            raise SignInFailed(Failure.PROFILE, "no subject")
        email = data.get("email")
        verified = data.get("email_verified")
        name = _dig(data, name_path)
        return Identity(
            provider=self.provider.name,
            subject=str(subject)[:255],
            email=email if isinstance(email, str) and email else None,
            # Some providers send the claim as a string.
            email_verified=verified is True or verified == "true",
            name=name if isinstance(name, str) else None,
        )
