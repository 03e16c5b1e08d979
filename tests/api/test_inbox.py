"""The inbox every role has, over HTTP: unread counts, marking read, each notification opening
the page it is about for the reader's role, tenancy; the e-mail preferences the sender
respects; and the development mail catcher, which receives real SMTP and shows it in the
portal."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import close_app, create_app
from domain.enums import Role
from domain.words import ago
from integrations.notifications import Message, notifier_from_settings
from integrations.notifications.catcher import serve
from models.base import utcnow
from models.db import session_scope
from models.notifications import Notification
from nexus.settings import NotificationSettings, Settings
from tests.api.test_portal import csrf_from, sign_in
from tests.support import (
    Tenant,
    add_member,
    free_port,
    login,
    make_creator,
    make_delivered_asset,
    make_tenant,
)

PUBLIC_URL = "http://nexus.test"


@asynccontextmanager
async def running_catcher(settings: Settings, port: int) -> AsyncIterator[int]:
    """The real mail catcher on a loopback port, keeping mail in the settings' database."""
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, port, stop))
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            await asyncio.sleep(0.05)
    try:
        yield port
    finally:
        stop.set()
        await task


def with_mail(settings: Settings, port: int) -> Settings:
    """E-mail on, through the catcher at `port`, with links to the portal's public URL."""
    notifications = NotificationSettings(
        smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
        mail_catcher_port=port, portal_url=PUBLIC_URL,
    )  # fmt: skip
    api = settings.api.model_copy(update={"public_url": PUBLIC_URL})
    return settings.model_copy(update={"notifications": notifications, "api": api})


def client_for(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL)


@pytest.fixture
def catcher_port() -> int:
    return free_port()


@pytest.fixture
async def caught(settings: Settings, catcher_port: int) -> AsyncIterator[int]:
    async with running_catcher(settings, catcher_port) as port:
        yield port


@pytest.fixture
def mail_settings(settings: Settings, catcher_port: int) -> Settings:
    return with_mail(settings, catcher_port)


@pytest.fixture
async def app(mail_settings: Settings, engine: Engine, client: Client) -> AsyncIterator[FastAPI]:
    # No worker: every notification here is written directly or sent from a request.
    app = create_app(mail_settings, engine=engine, temporal=client)
    yield app
    await close_app(app)


@pytest.fixture
async def web(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as http:
        yield http


def notify(
    engine: Engine, user: Tenant, title: str, *, kind: str = "draft_ready", link: str = "",
    body: str = "", age: timedelta = timedelta(0), read: bool = False,
) -> uuid.UUID:  # fmt: skip
    with session_scope(engine) as session:
        row = Notification(
            event_key=f"test:{uuid.uuid4()}", user_id=user.user_id, kind=kind, title=title,
            body=body, link=link, created_at=utcnow() - age, read_at=utcnow() if read else None,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def test_times_read_as_people_say_them() -> None:
    now = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    said = {
        timedelta(seconds=10): "just now",
        timedelta(minutes=1): "1 minute ago",
        timedelta(minutes=5): "5 minutes ago",
        timedelta(hours=1): "1 hour ago",
        timedelta(hours=14): "14 hours ago",
        timedelta(hours=30): "yesterday",
        timedelta(days=3): "3 days ago",
        timedelta(days=20): "18 February",
        timedelta(days=400): "3 February 2025",
    }
    assert {age: ago(now - age, now) for age in said} == said


# -- the API ---------------------------------------------------------------------------------


async def test_unread_count_mark_read_and_read_all_through_the_api(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    me = make_tenant(engine)
    other = make_tenant(engine)
    first = notify(engine, me, "A draft is ready", age=timedelta(hours=2))
    notify(engine, me, "New application", kind="application", age=timedelta(minutes=5))
    notify(engine, me, "Old news", read=True, age=timedelta(days=3))
    theirs = notify(engine, other, "Not yours")
    headers = await login(web, me)

    listed = (await web.get("/notifications", headers=headers)).json()
    assert [n["title"] for n in listed] == ["New application", "A draft is ready", "Old news"]
    assert (await web.get("/notifications/unread-count", headers=headers)).json() == {"unread": 2}

    assert (await web.post(f"/notifications/{first}/read", headers=headers)).status_code == 204
    assert (await web.get("/notifications/unread-count", headers=headers)).json()["unread"] == 1
    unread = (await web.get("/notifications?unread=true", headers=headers)).json()
    assert [n["title"] for n in unread] == ["New application"]

    # Another user's notification does not exist for me, and stays unread for them.
    refused = await web.post(f"/notifications/{theirs}/read", headers=headers)
    assert refused.status_code == 404
    assert (await web.post("/notifications/read-all", headers=headers)).json() == {"marked": 1}
    assert (await web.get("/notifications/unread-count", headers=headers)).json()["unread"] == 0
    their_headers = await login(web, other)
    assert [n["read_at"] for n in (await web.get("/notifications", headers=their_headers)).json()]
    assert (await web.get("/notifications/unread-count", headers=their_headers)).json() == {
        "unread": 1
    }


async def test_preferences_through_the_api_refuse_an_unknown_group(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    me = make_tenant(engine)
    headers = await login(web, me)
    everything = {g: True for g in ("applications", "deliveries", "money", "licenses", "messages")}
    assert (await web.get("/notifications/preferences", headers=headers)).json() == {
        "email": everything
    }
    saved = await web.put(
        "/notifications/preferences", json={"email": {"money": False}}, headers=headers
    )
    assert saved.status_code == 200, saved.text
    assert (await web.get("/notifications/preferences", headers=headers)).json() == {
        "email": everything | {"money": False}
    }
    wrong = await web.put(
        "/notifications/preferences", json={"email": {"newsletters": False}}, headers=headers
    )
    assert wrong.status_code == 422
    assert wrong.headers["content-type"] == "application/problem+json"
    assert "newsletters" in wrong.text


# -- the portal ------------------------------------------------------------------------------


async def test_the_inbox_page_links_each_notification_to_the_readers_page(
    app: FastAPI, engine: Engine
) -> None:
    brand = make_tenant(engine)
    creator = make_creator(engine)
    asset = make_delivered_asset(engine, brand, creator)
    license_id = uuid.uuid4()
    delivery = f"/deliveries/{asset.delivery_id}"
    notify(engine, brand, "A draft is ready for your review", link=delivery,
           body="Approve it or request a revision.", age=timedelta(minutes=5))  # fmt: skip
    notify(engine, brand, "License granted", kind="license_granted",
           link=f"/licenses/{license_id}", age=timedelta(hours=3), read=True)  # fmt: skip
    to_creator = notify(engine, creator.tenant, "License granted", kind="license_granted",
                        link=f"/licenses/{license_id}")  # fmt: skip

    async with client_for(app) as http:
        await sign_in(http, brand)
        page = await http.get("/portal/notifications")
        assert page.status_code == 200
        text = page.text
        assert "A draft is ready for your review" in text
        assert "Approve it or request a revision." in text
        assert "5 minutes ago" in text and "3 hours ago" in text
        assert text.count('class="note note-unread"') == 1
        assert "Unread (1)" in text
        unread_id = re.search(r'href="/portal/notifications/([0-9a-f-]{36})/open"', text)
        assert unread_id is not None

        badge = await http.get("/portal/notifications/badge")
        assert '<span class="badge">1</span>' in badge.text
        # Opening it marks it read and goes to the brand's page of the delivery.
        opened = await http.get(f"/portal/notifications/{unread_id[1]}/open")
        assert opened.status_code == 303
        assert opened.headers["location"] == f"/portal{delivery}"
        assert "badge" not in (await http.get("/portal/notifications/badge")).text
        # A license: the brand's licenses page; the creator's own notification is not mine.
        assert (await http.get(f"/portal/open/licenses/{license_id}")).headers[
            "location"
        ] == "/portal/licenses"
        assert (await http.get(f"/portal/notifications/{to_creator}/open")).status_code == 404
        mark = await http.post(
            f"/portal/notifications/{to_creator}/read", data={"csrf_token": csrf_from(page)}
        )
        assert mark.status_code == 404

    async with client_for(app) as http:
        await sign_in(http, creator.tenant)
        page = await http.get("/portal/notifications")
        assert "A draft is ready" not in page.text  # the brand's, not the creator's
        opened = await http.get(f"/portal/notifications/{to_creator}/open")
        assert opened.headers["location"] == "/portal/my-licenses"
        # From an e-mail: the creator's page of the delivery.
        assert (await http.get(f"/portal/open{delivery}")).headers[
            "location"
        ] == f"/portal{delivery}"


async def test_mark_one_and_all_read_in_the_portal_and_the_badge_on_every_page(
    app: FastAPI, engine: Engine
) -> None:
    creator = make_creator(engine)
    ids = [notify(engine, creator.tenant, f"Reminder {n}", kind="reminder") for n in range(3)]
    async with client_for(app) as http:
        await sign_in(http, creator.tenant)
        work = await http.get("/portal/work")
        assert 'hx-get="/portal/notifications/badge"' in work.text  # in the navigation
        assert (
            '<span class="badge">3</span>' in (await http.get("/portal/notifications/badge")).text
        )

        page = await http.get("/portal/notifications")
        csrf = csrf_from(page)
        done = await http.post(f"/portal/notifications/{ids[0]}/read", data={"csrf_token": csrf})
        assert done.status_code == 303
        assert (
            '<span class="badge">2</span>' in (await http.get("/portal/notifications/badge")).text
        )
        assert (await http.post(f"/portal/notifications/{ids[1]}/read")).status_code == 403

        await http.post("/portal/notifications/read-all", data={"csrf_token": csrf})
        page = await http.get("/portal/notifications?unread=true")
        assert "You have read everything" in page.text
        assert (await http.get("/portal/notifications/badge")).text.strip() == ""
    async with client_for(app) as http:
        # Signed out, the badge stops polling (htmx's 286) instead of showing the sign-in page.
        assert (await http.get("/portal/notifications/badge")).status_code == 286


# -- preferences and e-mail ------------------------------------------------------------------


async def test_a_muted_kind_is_not_emailed_but_still_reaches_the_inbox(
    app: FastAPI, engine: Engine, caught: int
) -> None:
    brand = make_tenant(engine)
    member = add_member(engine, brand, Role.BRAND_MEMBER)
    async with client_for(app) as http:
        await sign_in(http, member)
        page = await http.get("/portal/notifications/preferences")
        assert "Money" in page.text and "Deliveries and reviews" in page.text
        form = {"csrf_token": csrf_from(page), "applications": "on", "deliveries": "on",
                "licenses": "on", "messages": "on"}  # fmt: skip
        saved = await http.post("/portal/notifications/preferences", data=form)
        assert saved.headers["location"] == "/portal/notifications/preferences?saved=true"
        page = await http.get(saved.headers["location"])
        assert "Saved" in page.text
        assert re.search(r'id="money" name="money" type="checkbox"\s*>', page.text)
        assert re.search(r'id="deliveries" name="deliveries" type="checkbox" checked', page.text)

    notifier = notifier_from_settings(engine, app.state.settings.notifications)
    for user in (brand, member):
        # The sender blocks on SMTP: off the event loop the catcher runs on.
        await asyncio.to_thread(notifier.deliver, [
            Message(event_key=f"funding-{uuid.uuid4()}", user_id=user.user_id, email=user.email,
                    kind="funding_confirmed", title="Your funding arrived", body="In escrow.",
                    link="", name="Maya Lopez"),
        ])  # fmt: skip

    async with client_for(app) as http:
        ops = make_tenant(engine, Role.OPS)
        await sign_in(http, ops)
        mail = await http.get("/portal/mail")
    assert mail.status_code == 200
    assert brand.email in mail.text  # the admin wants money e-mail
    assert member.email not in mail.text  # the member turned it off
    async with client_for(app) as http:
        headers = await login(http, member)
        titles = [n["title"] for n in (await http.get("/notifications", headers=headers)).json()]
    assert titles == ["Your funding arrived"]  # in the inbox all the same


async def test_the_mail_catcher_keeps_a_real_email_and_the_portal_shows_it(
    app: FastAPI, engine: Engine, caught: int
) -> None:
    creator = make_creator(engine)
    brand = make_tenant(engine)
    asset = make_delivered_asset(engine, brand, creator)
    notifier = notifier_from_settings(engine, app.state.settings.notifications)
    message = Message(
        event_key=f"delivery-{asset.delivery_id}:3:approved", user_id=creator.user_id,
        email=creator.email, kind="approved", title="Your draft was approved <b>now</b>",
        body="Deliver the final files to complete the delivery.",
        link=f"/deliveries/{asset.delivery_id}", name="Ana Makes",
    )  # fmt: skip
    await asyncio.to_thread(notifier.deliver, [message])
    await asyncio.to_thread(notifier.deliver, [message])  # a retry: one e-mail

    async with client_for(app) as http:
        ops = make_tenant(engine, Role.OPS)
        await sign_in(http, ops)
        page = await http.get("/portal/mail")
    assert page.status_code == 200
    assert page.text.count("Your draft was approved &lt;b&gt;now&lt;/b&gt;</span>") == 1
    assert "Hi Ana Makes," in page.text
    link = f"{PUBLIC_URL}/portal/open/deliveries/{asset.delivery_id}"
    assert f'<a href="{link}" rel="noopener noreferrer">{link}</a>' in page.text
    assert f"{PUBLIC_URL}/portal/notifications/preferences" in page.text
    assert creator.email in page.text

    # Outside development, nobody but ops reads caught mail.
    async with client_for(app) as http:
        await sign_in(http, creator.tenant)
        assert (await http.get("/portal/mail")).headers["location"] == "/portal"


async def test_in_development_a_person_reads_the_mail_sent_to_their_own_address(
    mail_settings: Settings, engine: Engine, client: Client, caught: int
) -> None:
    development = mail_settings.model_copy(update={"env": "development"})
    app = create_app(development, engine=engine, temporal=client)
    creator = make_creator(engine)
    someone = make_creator(engine)
    notifier = notifier_from_settings(engine, development.notifications)
    for who, title in ((creator, "For the creator"), (someone, "For someone else")):
        await asyncio.to_thread(notifier.deliver, [
            Message(event_key=f"k-{uuid.uuid4()}", user_id=who.user_id, email=who.email,
                    kind="reminder", title=title, body="", link=""),
        ])  # fmt: skip
    async with client_for(app) as http:
        await sign_in(http, creator.tenant)
        inbox = await http.get("/portal/notifications")
        assert 'href="/portal/mail"' in inbox.text
        page = await http.get("/portal/mail")
    await close_app(app)
    assert "For the creator" in page.text
    assert "For someone else" not in page.text
