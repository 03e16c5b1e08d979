"""The portal's password pages over HTTP: "Forgot your password?" through the e-mailed link to
signed in with the new password, bad links explained, the account page's password change and
"sign out everywhere", and the session renewing itself while the person keeps using it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, update
from sqlmodel import col
from temporalio.client import Client

from api.app import close_app, create_app
from api.portal.web import REFRESH_COOKIE, SESSION_COOKIE
from domain.passwords import COMMON
from models.base import utcnow
from models.db import session_scope
from models.workspaces import AccountToken
from nexus.settings import Settings
from tests.api.test_inbox import client_for, running_catcher, with_mail
from tests.api.test_passwords import NEW_PASSWORD, reset_link_for
from tests.api.test_portal import csrf_from, sign_in
from tests.support import PASSWORD, free_port, make_tenant


@pytest.fixture
async def app(settings: Settings, engine: Engine, client: Client) -> AsyncIterator[FastAPI]:
    """The app with e-mail through the real mail catcher and access tokens that last 4 s, so
    that renewal shows without waiting minutes (the settings allow no less than 30 s: this
    test's copy skips that check); no worker."""
    port = free_port()
    auth = settings.auth.model_copy(update={"access_token_ttl_s": 4})
    configured = with_mail(settings, port).model_copy(update={"auth": auth})
    async with running_catcher(settings, port):
        app = create_app(configured, engine=engine, temporal=client)
        yield app
        await close_app(app)


async def signed_in_page(http: httpx.AsyncClient, path: str) -> httpx.Response:
    page = await http.get(path)
    assert page.status_code == 200, (page.status_code, page.headers.get("location"))
    return page


async def test_a_forgotten_password_through_the_e_mailed_link_to_signed_in(
    app: FastAPI, engine: Engine
) -> None:
    me = make_tenant(engine)
    async with client_for(app) as elsewhere:
        assert (await sign_in(elsewhere, me)).status_code == 303
        async with client_for(app) as http:
            login = await http.get("/portal/login")
            assert 'href="/portal/password/forgot">Forgot your password?' in login.text
            form = await http.get("/portal/password/forgot")
            known = await http.post(
                "/portal/password/forgot",
                data={"email": me.email, "csrf_token": csrf_from(form)},
            )
            unknown = await http.post(
                "/portal/password/forgot",
                data={"email": "nobody-here@example.com", "csrf_token": csrf_from(form)},
            )
            assert known.status_code == unknown.status_code == 200
            assert "Check your inbox" in known.text and "for 30 minutes" in known.text
            assert known.text.replace(me.email, "X") == unknown.text.replace(
                "nobody-here@example.com", "X"
            )

            link = await reset_link_for(engine, me.email)
            page = await http.get(link)
            assert page.status_code == 200 and "Choose a new password" in page.text
            csrf = csrf_from(page)
            differ = await http.post(
                link,
                data={"password": NEW_PASSWORD, "password_again": "else", "csrf_token": csrf},
            )
            assert differ.status_code == 400 and "The two passwords differ" in differ.text
            weak = await http.post(
                link,
                data={"password": "Password1234", "password_again": "Password1234",
                      "csrf_token": csrf},
            )  # fmt: skip
            assert weak.status_code == 400
            assert re.search(r'id="password-error" class="error">[^<]*commonly used', weak.text)

            done = await http.post(
                link,
                data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD,
                      "csrf_token": csrf},
            )  # fmt: skip
            assert done.status_code == 303 and done.headers["location"] == "/portal"
            assert http.cookies.get(SESSION_COOKIE) and http.cookies.get(REFRESH_COOKIE)
            assert (await signed_in_page(http, "/portal/account")).text.count("Your account")

            used = await http.get(link)
            assert used.status_code == 409 and "was used already" in used.text
        # The session signed in before the reset has ended.
        gone = await elsewhere.get("/portal/account")
        assert gone.status_code == 303 and gone.headers["location"].startswith("/portal/login")
    assert COMMON.startswith("This is a commonly used password")


async def test_forged_and_expired_links_say_so_and_offer_a_new_one(
    app: FastAPI, engine: Engine
) -> None:
    me = make_tenant(engine)
    async with client_for(app) as http:
        forged = await http.get("/portal/password/reset/not-a-real-token")
        assert forged.status_code == 404 and "not valid" in forged.text
        assert 'href="/portal/password/forgot"' in forged.text
        form = await http.get("/portal/password/forgot")
        await http.post(
            "/portal/password/forgot", data={"email": me.email, "csrf_token": csrf_from(form)}
        )
        link = await reset_link_for(engine, me.email)
        with session_scope(engine) as session:
            session.execute(
                update(AccountToken)
                .where(col(AccountToken.user_id) == me.user_id)
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        expired = await http.get(link)
        assert expired.status_code == 410 and "has expired" in expired.text
        posted = await http.post(
            link,
            data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD,
                  "csrf_token": csrf_from(form)},
        )  # fmt: skip
        assert posted.status_code == 410
        assert (await sign_in(http, me)).status_code == 303  # the old password still works


async def test_the_account_page_changes_the_password_and_signs_out_everywhere(
    app: FastAPI, engine: Engine
) -> None:
    me = make_tenant(engine)
    async with client_for(app) as phone, client_for(app) as http:
        await sign_in(phone, me)
        await sign_in(http, me)
        page = await signed_in_page(http, "/portal/account")
        wrong = await http.post(
            "/portal/account/password",
            data={"current_password": "not it", "password": NEW_PASSWORD,
                  "password_again": NEW_PASSWORD, "csrf_token": csrf_from(page)},
        )  # fmt: skip
        assert wrong.status_code == 400
        assert 'id="current_password-error" class="error">This is not your current' in wrong.text

        changed = await http.post(
            "/portal/account/password",
            data={"current_password": PASSWORD, "password": NEW_PASSWORD,
                  "password_again": NEW_PASSWORD, "csrf_token": csrf_from(page)},
        )  # fmt: skip
        assert changed.headers["location"] == "/portal/account?changed=1"
        shown = await signed_in_page(http, changed.headers["location"])
        assert "Your password is changed" in shown.text
        assert (await phone.get("/portal/account")).status_code == 303

        ended = await http.post(
            "/portal/account/sign-out-everywhere", data={"csrf_token": csrf_from(shown)}
        )
        assert ended.status_code == 200 and "Signed out everywhere" in ended.text
        assert not http.cookies.get(SESSION_COOKIE)
        assert (await http.get("/portal/account")).status_code == 303
        # Signing in again with the new password works.
        assert (await sign_in(http, me, NEW_PASSWORD)).status_code == 303
        assert (await http.get("/portal/account")).status_code == 200


async def test_the_session_renews_itself_while_in_use(app: FastAPI, engine: Engine) -> None:
    me = make_tenant(engine)
    async with client_for(app) as http:
        await sign_in(http, me)
        first_access, first_refresh = http.cookies[SESSION_COOKIE], http.cookies[REFRESH_COOKIE]
        page = await signed_in_page(http, "/portal/account")
        assert http.cookies[SESSION_COOKIE] == first_access  # fresh: nothing renewed

        await asyncio.sleep(2.1)  # past half the access token's life
        # A poll htmx makes by itself does not keep the session alive.
        await http.get("/portal/notifications/badge", headers={"HX-Request": "true"})
        assert http.cookies[SESSION_COOKIE] == first_access
        again = await signed_in_page(http, "/portal/account")
        assert http.cookies[SESSION_COOKIE] != first_access
        assert http.cookies[REFRESH_COOKIE] != first_refresh
        # A form rendered before the renewal still goes through after it.
        assert csrf_from(again) == csrf_from(page)

        await asyncio.sleep(4.1)  # the access token has expired: renewed all the same
        await signed_in_page(http, "/portal/account")
        changed = await http.post(
            "/portal/account/password",
            data={"current_password": PASSWORD, "password": NEW_PASSWORD,
                  "password_again": "a typo", "csrf_token": csrf_from(page)},
        )  # fmt: skip
        # Refused for its own reason, not as a stale form.
        assert changed.status_code == 400 and "The two passwords differ" in changed.text

        # The refresh token a renewal replaced, presented again, ends the sign-in: the next
        # renewal is refused and the refresh cookie dropped (the access token lasts its
        # remaining seconds).
        async with client_for(app) as thief:
            thief.cookies.set(REFRESH_COOKIE, first_refresh, path="/portal")
            assert (await thief.get("/portal/account")).status_code == 303
        await asyncio.sleep(2.1)
        await http.get("/portal/account")
        assert REFRESH_COOKIE not in http.cookies
