"""Social sign-in on the portal: "Continue with Google" for brands, and TikTok, Instagram and
YouTube for creators (integrations.identity).

`/portal/auth/{provider}/start` sends the browser to the provider with a fresh state, nonce
and PKCE verifier (kept on the server under the state's SHA-256; the state also goes into a
cookie of this browser). `/portal/auth/{provider}/callback` checks that the state is this
browser's and spends it (a replayed callback finds it spent), exchanges the code, verifies the
ID token, and signs in the account the identity is linked to.

Linking: an identity not seen before is linked only to the account whose e-mail is the one
the provider says is verified, when that account has verified the address with us too and has
a workspace of the provider's audience (brands for Google; creators for TikTok, Instagram and
YouTube). A social sign-in never makes an account: sign-up asks for what a brand (its first
brand) or a creator (handle, country) needs, so a person without an account is sent to the
sign-up page, and once signed up (and verified), the same button signs them in. Every refusal
is a page in words, and changes nothing.

Connecting: a signed-in person connects a provider from the account page (`/portal/account/
connections/{provider}`); the sign-in it starts carries their account, and its callback links
the identity to it when the same person is still signed in, with no e-mail to match. This is
how TikTok and Instagram, which tell no e-mail, come to sign anyone in."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.deps import DatabaseDep, Principal, SettingsDep
from api.portal.web import (
    BRAND_ROLES,
    Csrf,
    MaybeSignedIn,
    SignedIn,
    local_path,
    render,
    secure,
    set_session_cookies,
)
from api.routers import auth as auth_api
from integrations.identity import Failure, Identity, SignInFailed
from integrations.identity.client import IdentityClient, configured, new_secret
from integrations.identity.providers import BRANDS, CREATORS, PROVIDERS, Provider
from models import social
from models.base import utcnow
from models.social import Outcome, PendingSignIn, Resolved, SocialIdentity
from nexus.settings import Settings, SocialProviderSettings

router = APIRouter()
log = logging.getLogger(__name__)

STATE_COOKIE = "nexus_social_state"
_COOKIE_PATH = "/portal/auth"


def buttons(settings: Settings) -> dict[str, list[Provider]]:
    """The configured providers for the sign-in page: brands', then creators'."""
    found = configured(settings.social)
    return {
        "brands": [p for p in found if p.audience == BRANDS],
        "creators": [p for p in found if p.audience != BRANDS],
    }


def _provider(settings: Settings, name: str) -> Provider | None:
    return next((p for p in configured(settings.social) if p.name == name), None)


def _client(settings: Settings, provider: Provider) -> IdentityClient:
    own: SocialProviderSettings = getattr(settings.social, provider.name)
    base = settings.api.public_url.rstrip("/")
    return IdentityClient(provider, own, f"{base}/portal/auth/{provider.name}/callback")


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _refused(
    request: Request,
    label: str,
    message: str,
    status_code: int = 400,
    *,
    sign_up: str = "",
    forget_state: bool = True,
    back: str = "",
) -> HTMLResponse:
    """The page of a sign-in that did not go through; the browser's state is forgotten unless
    the request was not this browser's sign-in (a forged callback must not end a real one)."""
    context: dict[str, object] = {
        "principal": None, "label": label, "message": message, "sign_up": sign_up,
        "back": back,
    }  # fmt: skip
    response = render(request, "portal/social_refused.html", context, status_code)
    if forget_state:
        response.delete_cookie(STATE_COOKIE, path=_COOKIE_PATH)
    return response


async def start(
    request: Request,
    provider: str,
    settings: SettingsDep,
    db: DatabaseDep,
    next: Annotated[str, Query(max_length=2000)] = "",
    link_user_id: uuid.UUID | None = None,
) -> Response:
    """Off to the provider, with a new state, nonce and PKCE verifier; to link the identity to
    the signed-in account `link_user_id` rather than sign in, when given."""
    found = _provider(settings, provider)
    if found is None:
        return _refused(
            request, "this provider", "Signing in this way is not available here. Sign in "
            "with your e-mail and password instead.", 404,
        )  # fmt: skip
    state, nonce, verifier = new_secret(), new_secret(), new_secret()
    try:
        url = await _client(settings, found).authorization_url(state, nonce, verifier)
    except SignInFailed:
        log.warning("%s sign-in could not start", found.name, exc_info=True)
        return _refused(request, found.label, _UNAVAILABLE.format(label=found.label), 503)
    ttl = settings.social.sign_in_ttl_s

    def keep(session: Session) -> None:
        social.start_sign_in(
            session, state_hash=_hash(state), provider=found.name, nonce=nonce,
            code_verifier=verifier, next_path=local_path(next),
            expires_at=utcnow() + timedelta(seconds=ttl), link_user_id=link_user_id,
        )  # fmt: skip

    await db.run(keep)
    response = RedirectResponse(url, status_code=303)
    # Lax: the provider's redirect back is a top-level GET, which carries it.
    response.set_cookie(
        STATE_COOKIE, state, max_age=ttl, path=_COOKIE_PATH, httponly=True, samesite="lax",
        secure=secure(request),
    )  # fmt: skip
    return response


_START_AGAIN = "Nothing was changed: start again from the sign-in page."
_UNAVAILABLE = "We could not reach {label} just now. Nothing was changed: try again in a moment."
_FAILURES: dict[Failure, str] = {
    Failure.PROVIDER_ERROR: "{label} did not sign you in. " + _START_AGAIN,
    Failure.TOKEN: "{label} did not accept this sign-in (it may have been used already). "
    + _START_AGAIN,
    Failure.ID_TOKEN: "{label}'s answer could not be verified as genuine, so we did not sign you "
    "in. " + _START_AGAIN,
    Failure.PROFILE: "{label} did not tell us who you are, so we did not sign you in. "
    + _START_AGAIN,
    Failure.UNAVAILABLE: _UNAVAILABLE,
}


def _outcome_words(provider: Provider, identity: Identity, resolved: Resolved) -> tuple[str, str]:
    """What a person reads when the identity signs in to no account, and where to sign up."""
    label, email = provider.label, identity.email
    brand = provider.audience == BRANDS
    sign_up = "/portal/signup/brand" if brand else "/portal/signup"
    match resolved.outcome:
        case Outcome.EMAIL_NOT_VERIFIED if email is None:
            return (
                f"{label} does not share an e-mail address with us, so we cannot tell which "
                "NEXUS account is yours. Sign in with your e-mail and password, then connect "
                f"{label} on your account page: from then on it signs you in.",
                "",
            )
        case Outcome.EMAIL_NOT_VERIFIED:
            return (
                f"{label} has not verified the e-mail address {email}, so we cannot link it to a "
                f"NEXUS account. Verify it at {label}, or sign in with your e-mail and password.",
                "",
            )
        case Outcome.ACCOUNT_NOT_VERIFIED:
            return (
                f"Your NEXUS account's e-mail address {email} is not verified yet. Open the link "
                f"we e-mailed you when you signed up, then continue with {label} again.",
                "",
            )
        case Outcome.NO_ACCOUNT:
            who = "your brand" if brand else "your creator account"
            return (
                f"No NEXUS account uses {email}. Sign up {who} with this address first; once "
                f"it is verified, continue with {label} signs you in.",
                sign_up,
            )
        case Outcome.WRONG_KIND:
            whose = "brands and agencies" if brand else "creators"
            return (
                f"Signing in with {label} is for {whose}, and the account of {email} is not "
                "one. Sign in with your e-mail and password.",
                "",
            )
        case _:
            return ("This account is suspended: contact support.", "")


async def callback(
    request: Request,
    provider: str,
    settings: SettingsDep,
    db: DatabaseDep,
    principal: Principal | None,
    code: Annotated[str, Query(max_length=2000)] = "",
    state: Annotated[str, Query(max_length=200)] = "",
    error: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    found = _provider(settings, provider)
    if found is None:
        return _refused(
            request, "this provider", "Signing in this way is not available here. Sign in "
            "with your e-mail and password instead.", 404,
        )  # fmt: skip
    label = found.label
    if error:
        words = (
            f"You did not allow NEXUS at {label}, so you are not signed in. Nothing was changed."
            if error == "access_denied"
            else _FAILURES[Failure.PROVIDER_ERROR].format(label=label)
        )
        return _refused(request, label, words)
    ours = request.cookies.get(STATE_COOKIE, "")
    if not state or not ours or state != ours:
        return _refused(
            request, label, "This sign-in was not started in this browser, so we stopped it. "
            + _START_AGAIN, forget_state=False,
        )  # fmt: skip
    pending: PendingSignIn | None = await db.run(social.spend_sign_in, _hash(state), found.name)
    if pending is None:
        return _refused(
            request, label, "This sign-in was finished already or has expired. " + _START_AGAIN
        )
    if not code:
        return _refused(request, label, _FAILURES[Failure.PROVIDER_ERROR].format(label=label))
    try:
        identity = await _client(settings, found).identity(
            code, pending.code_verifier, pending.nonce
        )
    except SignInFailed as exc:
        log.warning("%s sign-in refused: %s", found.name, exc)
        return _refused(request, label, _FAILURES[exc.failure].format(label=label))

    if pending.link_user_id is not None:
        return await _connected(request, found, identity, pending.link_user_id, principal, db)

    def link(session: Session) -> Resolved:
        return social.resolve(
            session, provider=found.name, subject=identity.subject, email=identity.email,
            email_verified=identity.email_verified, kinds=found.audience,
        )  # fmt: skip

    resolved = await db.run(link)
    if resolved.user_id is None:
        message, sign_up = _outcome_words(found, identity, resolved)
        status = 403 if resolved.outcome == Outcome.SUSPENDED else 400
        return _refused(request, label, message, status, sign_up=sign_up)
    user_id = resolved.user_id
    options = await db.run(auth_api.memberships, user_id)
    # The workspace of the provider's audience (a brand's for Google, a creator's for TikTok).
    fitting = next((m for m in options if str(m.kind) in found.audience), None)
    token = auth_api.token_for(
        settings, user_id, options, fitting.workspace_id if fitting else None
    )
    token = await auth_api.with_refresh(settings, db, user_id, token)
    response = RedirectResponse(pending.next_path or "/portal", status_code=303)
    set_session_cookies(
        response, request, token.access_token, token.expires_in, token.refresh_token
    )
    response.delete_cookie(STATE_COOKIE, path=_COOKIE_PATH)
    return response


# -- connecting a provider to the signed-in account (the account page) ---------------------------


@dataclass(frozen=True)
class Connection:
    provider: Provider
    identity: SocialIdentity | None


async def connections(
    settings: Settings, principal: Principal, db: DatabaseDep
) -> list[Connection]:
    """The configured providers for this person's kind of workspace, each with the identity
    linked to their account, if any."""
    assert principal.user_id is not None
    audience = BRANDS if principal.role in BRAND_ROLES else CREATORS
    fitting = [p for p in configured(settings.social) if p.audience == audience]
    if not fitting:
        return []
    linked = {i.provider: i for i in await db.run(social.identities_of, principal.user_id)}
    return [Connection(p, linked.get(p.name)) for p in fitting]


def connect_csp(page_csp: str, found: list[Connection]) -> str:
    """The account page's CSP: its connect buttons are forms whose answer redirects to the
    provider's sign-in page, which the browser allows only where form-action names it."""
    origins = []
    for connection in found:
        url = urlsplit(connection.provider.authorize_url or connection.provider.discovery_url or "")
        if url.scheme in ("http", "https") and url.netloc:
            origins.append(f"{url.scheme}://{url.netloc}")
    if not origins:
        return page_csp
    allowed = " ".join(dict.fromkeys(origins))
    return page_csp.replace("form-action 'self'", f"form-action 'self' {allowed}")


_NOT_CONNECTED = {
    Outcome.TAKEN: (
        409,
        "This {label} account is connected to another NEXUS account already. Sign in to that "
        "account and disconnect it there first.",
    ),
    Outcome.WRONG_KIND: (403, "{label} cannot be connected to this kind of account."),
    Outcome.SUSPENDED: (403, "This account is suspended: contact support."),
}


async def _connected(
    request: Request,
    found: Provider,
    identity: Identity,
    user_id: uuid.UUID,
    principal: Principal | None,
    db: DatabaseDep,
) -> Response:
    """The callback of a connection asked for on the account page."""
    label = found.label
    if principal is None or principal.user_id != user_id:
        return _refused(
            request, label, f"You are no longer signed in to the account that asked to connect "
            f"{label}, so nothing was connected. Sign in and connect it again from your account "
            "page.",
        )  # fmt: skip

    def link(session: Session) -> Resolved:
        return social.link(
            session, user_id, provider=found.name, subject=identity.subject,
            email=identity.email, kinds=found.audience,
        )  # fmt: skip

    resolved = await db.run(link)
    if resolved.outcome != Outcome.LINKED:
        status, message = _NOT_CONNECTED.get(resolved.outcome, _NOT_CONNECTED[Outcome.SUSPENDED])
        return _refused(request, label, message.format(label=label), status, back="/portal/account")
    response = RedirectResponse(f"/portal/account?connected={found.name}", status_code=303)
    response.delete_cookie(STATE_COOKIE, path=_COOKIE_PATH)
    return response


@router.post("/account/connections/{provider}", response_model=None, dependencies=[Csrf])
async def connect(
    request: Request,
    provider: Annotated[str, Path(max_length=32)],
    principal: SignedIn,
    settings: SettingsDep,
    db: DatabaseDep,
) -> Response:
    """Off to the provider, to connect it to this account: from then on it signs them in."""
    offered = {c.provider.name for c in await connections(settings, principal, db)}
    if provider not in offered:
        return _refused(
            request, "this provider", "This provider cannot be connected to your account here.",
            404, back="/portal/account",
        )  # fmt: skip
    return await start(request, provider, settings, db, "/portal/account", principal.user_id)


@router.post("/account/connections/{provider}/removal", response_model=None, dependencies=[Csrf])
async def disconnect(
    provider: Annotated[str, Path(max_length=32)], principal: SignedIn, db: DatabaseDep
) -> Response:
    """Forget the account's identity at the provider: it signs no one in any more."""
    assert principal.user_id is not None
    await db.run(social.unlink, principal.user_id, provider)
    return RedirectResponse(f"/portal/account?disconnected={provider}", status_code=303)


# One pair of routes per provider of the table, whether or not it is configured (an
# unconfigured one answers that signing in this way is not available).
def _routes(name: str) -> None:
    async def start_page(
        request: Request,
        settings: SettingsDep,
        db: DatabaseDep,
        next: Annotated[str, Query(max_length=2000)] = "",
    ) -> Response:
        return await start(request, name, settings, db, next)

    async def callback_page(
        request: Request,
        settings: SettingsDep,
        db: DatabaseDep,
        principal: MaybeSignedIn,
        code: Annotated[str, Query(max_length=2000)] = "",
        state: Annotated[str, Query(max_length=200)] = "",
        error: Annotated[str, Query(max_length=200)] = "",
    ) -> Response:
        return await callback(request, name, settings, db, principal, code, state, error)

    router.add_api_route(f"/auth/{name}/start", start_page, methods=["GET"], response_model=None)
    router.add_api_route(
        f"/auth/{name}/callback", callback_page, methods=["GET"], response_model=None
    )


for _name in PROVIDERS:
    _routes(_name)
