"""A real OpenID Connect provider for the social sign-in tests, served over HTTP: discovery,
an authorization endpoint with a consent page ("Allow" / "Deny"), a token endpoint that checks
the client, the redirect URI, the single-use code and its PKCE verifier (S256, by authlib),
an ID token signed with an RSA key (joserfc, authlib's JOSE library), the JWKS, and user
information.

The test says who signs in (`person`), and may make the provider misbehave as an attacker
would: sign with a key not in its JWKS (`forge`), put another nonce in the ID token, or issue
it expired. Its user information also answers as Instagram's and TikTok's do, for the OAuth 2.0
providers."""

from __future__ import annotations

import asyncio
import html
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support import free_port

CLIENT_ID = "nexus-test-client"
CLIENT_SECRET = "nexus-test-secret"


@dataclass
class Person:
    subject: str
    email: str | None
    email_verified: bool
    name: str = "Test Person"


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    person: Person


@dataclass
class Provider:
    issuer: str
    person: Person = field(default_factory=lambda: Person("subject-1", None, False))
    forge: bool = False
    nonce_override: str | None = None
    # Seconds the ID token lives (negative: expired when issued).
    id_token_ttl: int = 300
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "k1"}))
    codes: dict[str, _Grant] = field(default_factory=dict)
    tokens: dict[str, Person] = field(default_factory=dict)

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        person = grant.person
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": grant.client_id, "sub": person.subject,
            "iat": now, "exp": now + self.id_token_ttl, "name": person.name,
            "nonce": self.nonce_override or grant.nonce,
        }  # fmt: skip
        if person.email is not None:
            claims["email"] = person.email
            claims["email_verified"] = person.email_verified
        # A forger signs with a key of their own under the provider's key id.
        key = RSAKey.generate_key(2048, {"kid": "k1"}) if self.forge else self.key
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)

    def app(self) -> Starlette:
        async def discovery(request: Request) -> Response:
            return JSONResponse({
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"],
            })  # fmt: skip

        async def jwks(request: Request) -> Response:
            return JSONResponse({"keys": [self.key.as_dict(private=False)]})

        async def authorize(request: Request) -> Response:
            q = request.query_params
            if q.get("client_id") != CLIENT_ID or q.get("code_challenge_method") != "S256":
                return HTMLResponse("unknown client or no PKCE", 400)
            fields = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in q.items()
            )
            who = html.escape(self.person.email or self.person.subject)
            return HTMLResponse(
                f"<!doctype html><title>Test provider</title><h1>Sign in to NEXUS as {who}?"
                f'</h1><form method="post" action="/authorize">{fields}'
                '<button name="answer" value="allow">Allow</button>'
                '<button name="answer" value="deny">Deny</button></form>'
            )

        async def consent(request: Request) -> Response:
            form = await request.form()
            values = {k: str(v) for k, v in form.items()}
            redirect_uri, state = values["redirect_uri"], values.get("state", "")
            if values.get("answer") != "allow":
                query = urlencode({"error": "access_denied", "state": state})
                return RedirectResponse(f"{redirect_uri}?{query}", 303)
            code = secrets.token_urlsafe(24)
            self.codes[code] = _Grant(
                values["client_id"], redirect_uri, values["code_challenge"], values.get("nonce"),
                self.person,
            )  # fmt: skip
            return RedirectResponse(
                f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", 303
            )

        async def token(request: Request) -> Response:
            form = {k: str(v) for k, v in (await request.form()).items()}
            grant = self.codes.pop(form.get("code", ""), None)  # single use
            if (
                grant is None
                or form.get("client_id") != CLIENT_ID
                or form.get("client_secret") != CLIENT_SECRET
                or form.get("redirect_uri") != grant.redirect_uri
                or create_s256_code_challenge(form.get("code_verifier", "")) != grant.code_challenge
            ):
                return JSONResponse({"error": "invalid_grant"}, 400)
            access = secrets.token_urlsafe(24)
            self.tokens[access] = grant.person
            return JSONResponse({
                "access_token": access, "token_type": "Bearer", "expires_in": 300,
                "id_token": self._id_token(grant),
            })  # fmt: skip

        async def userinfo(request: Request) -> Response:
            bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
            person = self.tokens.get(bearer)
            if person is None:
                return JSONResponse({"error": "invalid_token"}, 401)
            # OpenID Connect's claims, with Instagram's and TikTok's shapes beside them.
            return JSONResponse({
                "sub": person.subject, "name": person.name,
                "user_id": person.subject, "username": person.name,
                "data": {"user": {"open_id": person.subject, "display_name": person.name}},
            })  # fmt: skip

        return Starlette(routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/jwks", jwks),
            Route("/authorize", authorize, methods=["GET"]),
            Route("/authorize", consent, methods=["POST"]),
            Route("/token", token, methods=["POST"]),
            Route("/userinfo", userinfo),
        ])  # fmt: skip


@asynccontextmanager
async def running_provider() -> AsyncIterator[Provider]:
    """The provider under uvicorn on a free port, in this event loop."""
    port = free_port()
    provider = Provider(issuer=f"http://127.0.0.1:{port}")
    config = uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the provider did not start"
        await asyncio.sleep(0.05)
    try:
        yield provider
    finally:
        server.should_exit = True
        await task
