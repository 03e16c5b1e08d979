"""Social sign-in over HTTP against a real OpenID Connect provider (tests/integrations/
oidc_provider.py): an identity links to an account only through an e-mail the provider says is
verified; a callback from another browser (state mismatch), a forged or mis-bound ID token
(signature, nonce), a replayed callback and a refusal at the provider each get a page in words
and change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.client import Client

from api.app import close_app, create_app
from api.portal.web import SESSION_COOKIE
from domain.enums import Role
from models.base import utcnow
from models.db import session_scope
from models.social import SocialIdentity, SocialSignIn
from nexus.settings import Settings, SocialLoginSettings, SocialProviderSettings
from tests.api.test_portal import csrf_from, sign_in
from tests.integrations.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    Person,
    Provider,
    running_provider,
)
from tests.support import make_creator, make_tenant


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    async with running_provider() as found:
        yield found


def social_settings(provider: Provider) -> SocialLoginSettings:
    google = SocialProviderSettings(
        enabled=True, client_id=CLIENT_ID, client_secret=SecretStr(CLIENT_SECRET),
        discovery_url=f"{provider.issuer}/.well-known/openid-configuration",
    )  # fmt: skip
    # Instagram: OAuth 2.0 with its user information, no ID token and no e-mail.
    instagram = google.model_copy(
        update={
            "discovery_url": None,
            "authorize_url": f"{provider.issuer}/authorize",
            "token_url": f"{provider.issuer}/token",
            "userinfo_url": f"{provider.issuer}/userinfo",
        }
    )
    return SocialLoginSettings(google=google, youtube=google, instagram=instagram)


@pytest.fixture
async def portal(
    settings: Settings, engine: Engine, client: Client, provider: Provider
) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings.model_copy(update={"social": social_settings(provider)})
    app = create_app(configured, engine=engine, temporal=client)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as http:
        yield http
    await close_app(app)


async def at_provider(
    portal: httpx.AsyncClient,
    answer: str = "allow",
    provider: str = "google",
    start: httpx.Response | None = None,
) -> str:
    """Start a sign-in (or follow `start`, a connection's) and answer the provider's consent
    page: the callback's path."""
    start = start or await portal.get(f"/portal/auth/{provider}/start")
    assert start.status_code == 303, start.text
    async with httpx.AsyncClient() as person:
        consent = await person.get(start.headers["location"])
        assert consent.status_code == 200 and "Allow" in consent.text
        query = dict(httpx.URL(start.headers["location"]).params)
        back = await person.post(str(consent.url).split("?")[0], data={**query, "answer": answer})
    assert back.status_code == 303
    url = urlsplit(back.headers["location"])
    return f"{url.path}?{url.query}"


def identities(engine: Engine) -> list[tuple[str, str]]:
    with session_scope(engine) as session:
        return [(i.provider, i.subject) for i in session.exec(select(SocialIdentity)).all()]


async def test_a_verified_e_mail_links_the_identity_and_signs_in(
    portal: httpx.AsyncClient, provider: Provider, engine: Engine
) -> None:
    brand = make_tenant(engine)
    provider.person = Person("google-sub-1", brand.email.upper(), email_verified=True)
    signed_in = await portal.get(await at_provider(portal))
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/portal"
    assert portal.cookies.get(SESSION_COOKIE)
    me = await portal.get("/portal/campaigns")
    assert me.status_code == 200
    assert ("google", "google-sub-1") in identities(engine)

    # Linked now: the same identity signs in even when the provider's e-mail changed.
    portal.cookies.clear()
    provider.person = Person("google-sub-1", "someone-else@example.com", email_verified=False)
    again = await portal.get(await at_provider(portal))
    assert again.status_code == 303
    assert (await portal.get("/portal/campaigns")).status_code == 200


async def test_an_unverified_e_mail_is_never_linked(
    portal: httpx.AsyncClient, provider: Provider, engine: Engine
) -> None:
    brand = make_tenant(engine)
    provider.person = Person("google-sub-2", brand.email, email_verified=False)
    page = await portal.get(await at_provider(portal))
    assert page.status_code == 400
    assert "has not verified the e-mail address" in page.text
    assert not portal.cookies.get(SESSION_COOKIE)
    assert ("google", "google-sub-2") not in identities(engine)


async def test_no_account_and_the_wrong_kind_of_account_are_sent_elsewhere(
    portal: httpx.AsyncClient, provider: Provider, engine: Engine
) -> None:
    provider.person = Person("google-sub-3", "nobody-here@example.com", email_verified=True)
    page = await portal.get(await at_provider(portal))
    assert page.status_code == 400
    assert "No NEXUS account uses nobody-here@example.com" in page.text
    assert 'href="/portal/signup/brand"' in page.text
    creator = make_tenant(engine, Role.CREATOR)
    provider.person = Person("google-sub-4", creator.email, email_verified=True)
    page = await portal.get(await at_provider(portal))
    assert page.status_code == 400 and "is for brands and agencies" in page.text
    assert not {("google", "google-sub-3"), ("google", "google-sub-4")} & set(identities(engine))


@pytest.mark.parametrize("attack", ["forged signature", "other nonce", "expired"])
async def test_a_forged_or_mis_bound_id_token_is_refused(
    portal: httpx.AsyncClient, provider: Provider, engine: Engine, attack: str
) -> None:
    brand = make_tenant(engine)
    provider.person = Person("google-sub-5", brand.email, email_verified=True)
    provider.forge = attack == "forged signature"
    provider.nonce_override = "another-nonce" if attack == "other nonce" else None
    provider.id_token_ttl = -600 if attack == "expired" else 300
    page = await portal.get(await at_provider(portal))
    assert page.status_code == 400
    assert "could not be verified as genuine" in page.text
    assert not portal.cookies.get(SESSION_COOKIE)
    assert ("google", "google-sub-5") not in identities(engine)


async def test_a_callback_from_another_browser_or_replayed_is_refused(
    portal: httpx.AsyncClient, provider: Provider, engine: Engine
) -> None:
    brand = make_tenant(engine)
    provider.person = Person("google-sub-6", brand.email, email_verified=True)
    callback = await at_provider(portal)
    # Another browser (no state cookie), and this one with a state that is not its own.
    async with httpx.AsyncClient(
        transport=portal._transport, base_url="http://nexus.test"
    ) as stranger:
        page = await stranger.get(callback)
    assert page.status_code == 400 and "not started in this browser" in page.text
    forged = callback.replace("state=", "state=x")
    page = await portal.get(forged)
    assert page.status_code == 400 and "not started in this browser" in page.text
    assert ("google", "google-sub-6") not in identities(engine)

    # The genuine callback signs in once; the same callback again is refused.
    state = portal.cookies.get("nexus_social_state")
    assert (await portal.get(callback)).status_code == 303
    portal.cookies.clear()
    assert state is not None
    portal.cookies.set("nexus_social_state", state, domain="nexus.test", path="/portal/auth")
    replayed = await portal.get(callback)
    assert replayed.status_code == 400 and "finished already" in replayed.text
    assert not portal.cookies.get(SESSION_COOKIE)


async def test_a_refusal_at_the_provider_changes_nothing(
    portal: httpx.AsyncClient, provider: Provider, engine: Engine
) -> None:
    brand = make_tenant(engine)
    provider.person = Person("google-sub-7", brand.email, email_verified=True)
    page = await portal.get(await at_provider(portal, answer="deny"))
    assert page.status_code == 400 and "You did not allow NEXUS at Google" in page.text
    assert ("google", "google-sub-7") not in identities(engine)


async def test_the_sign_in_page_offers_the_configured_providers(
    portal: httpx.AsyncClient,
) -> None:
    page = await portal.get("/portal/login")
    assert "Continue with Google" in page.text and "Continue with YouTube" in page.text
    assert "Continue with Instagram" in page.text
    assert "Continue with TikTok" not in page.text  # not configured
    missing = await portal.get("/portal/auth/tiktok/start")
    assert missing.status_code == 404 and "not available" in missing.text


async def test_an_oauth_provider_without_an_e_mail_links_no_one(
    portal: httpx.AsyncClient, provider: Provider, engine: Engine
) -> None:
    """Instagram (OAuth 2.0 and its user information) names the person but gives no e-mail:
    nothing tells which account is theirs."""
    creator = make_tenant(engine, Role.CREATOR)
    provider.person = Person("ig-1", creator.email, email_verified=True)
    page = await portal.get(await at_provider(portal, provider="instagram"))
    assert page.status_code == 400
    assert "Instagram does not share an e-mail address with us" in page.text
    assert ("instagram", "ig-1") not in identities(engine)


async def connect(portal: httpx.AsyncClient, provider: str) -> httpx.Response:
    """Press "Connect <provider>" on the account page."""
    page = await portal.get("/portal/account")
    assert page.status_code == 200, page.text
    return await portal.post(
        f"/portal/account/connections/{provider}", data={"csrf_token": csrf_from(page)}
    )


async def test_a_creator_connects_instagram_from_the_account_page_and_signs_in_with_it(
    portal: httpx.AsyncClient, provider: Provider, engine: Engine
) -> None:
    """Instagram gives no e-mail, so only a signed-in account can connect it; from then on it
    signs that account in. It connects to one account only, and is disconnected at will."""
    creator, other = make_creator(engine).tenant, make_creator(engine).tenant
    await sign_in(portal, creator)
    page = await portal.get("/portal/account")
    # A creator is offered the creators' providers that are configured, not Google.
    assert "Connect Instagram" in page.text and "Connect YouTube" in page.text
    assert "Connect Google" not in page.text
    # The connect forms answer with a redirect to the provider: the page's CSP allows it.
    issuer = httpx.URL(provider.issuer)
    origin = f"{issuer.scheme}://{issuer.netloc.decode()}"
    assert f"form-action 'self' {origin};" in page.headers["content-security-policy"]
    provider.person = Person("ig-7", None, email_verified=False)
    linked = await portal.get(await at_provider(portal, start=await connect(portal, "instagram")))
    assert linked.status_code == 303, linked.text
    assert linked.headers["location"] == "/portal/account?connected=instagram"
    page = await portal.get(linked.headers["location"])
    assert "Instagram is connected: from now on it signs you in here." in page.text
    assert "Disconnect Instagram" in page.text
    assert ("instagram", "ig-7") in identities(engine)

    portal.cookies.clear()
    signed_in = await portal.get(await at_provider(portal, provider="instagram"))
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/portal"
    assert (await portal.get("/portal/work")).status_code == 200

    # Another creator cannot take it over; nothing changes.
    portal.cookies.clear()
    await sign_in(portal, other)
    taken = await portal.get(await at_provider(portal, start=await connect(portal, "instagram")))
    assert taken.status_code == 409
    assert "connected to another NEXUS account already" in taken.text
    assert 'href="/portal/account"' in taken.text
    with session_scope(engine) as session:
        owner = session.exec(
            select(SocialIdentity.user_id).where(SocialIdentity.subject == "ig-7")
        ).one()
    assert owner == creator.user_id

    # Disconnected, it signs no one in (Instagram tells no e-mail to find the account by).
    portal.cookies.clear()
    await sign_in(portal, creator)
    page = await portal.get("/portal/account")
    gone = await portal.post(
        "/portal/account/connections/instagram/removal", data={"csrf_token": csrf_from(page)}
    )
    assert gone.status_code == 303
    assert "Instagram is disconnected" in (await portal.get(gone.headers["location"])).text
    assert ("instagram", "ig-7") not in identities(engine)
    portal.cookies.clear()
    refused = await portal.get(await at_provider(portal, provider="instagram"))
    assert refused.status_code == 400


async def test_a_connection_finished_by_someone_no_longer_signed_in_links_nothing(
    portal: httpx.AsyncClient, provider: Provider, engine: Engine
) -> None:
    creator = make_tenant(engine, Role.CREATOR)
    await sign_in(portal, creator)
    provider.person = Person("yt-9", creator.email, email_verified=True)
    started = await connect(portal, "youtube")
    # Signed out (in another tab) before the provider sent the browser back.
    page = await portal.get("/portal/account")
    out = await portal.post("/portal/logout", data={"csrf_token": csrf_from(page)})
    assert out.status_code == 303 and not portal.cookies.get(SESSION_COOKIE)
    page = await portal.get(await at_provider(portal, start=started))
    assert page.status_code == 400
    assert "no longer signed in to the account that asked to connect YouTube" in page.text
    assert ("youtube", "yt-9") not in identities(engine)
    # A provider that is not for creators is not connected to a creator's account.
    await sign_in(portal, creator)
    wrong = await connect(portal, "google")
    assert wrong.status_code == 404 and "cannot be connected to your account" in wrong.text


def test_an_enabled_provider_without_its_client_is_refused_at_startup() -> None:
    with pytest.raises(ValidationError, match="needs its client_id and client_secret"):
        SocialProviderSettings(enabled=True, client_id="only-an-id")


async def test_sign_ins_that_never_came_back_are_forgotten(
    portal: httpx.AsyncClient, engine: Engine
) -> None:
    with session_scope(engine) as session:
        session.add(
            SocialSignIn(
                state_hash="a" * 64, provider="google", nonce="n", code_verifier="v",
                expires_at=utcnow() - timedelta(days=2),
            )
        )  # fmt: skip
    assert (await portal.get("/portal/auth/google/start")).status_code == 303
    with session_scope(engine) as session:
        assert session.get(SocialSignIn, "a" * 64) is None
        assert len(session.exec(select(SocialSignIn)).all()) == 1  # the new one
