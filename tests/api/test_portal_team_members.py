"""The Team page's members over HTTP: each member by name with a role select and a remove
button behind a confirmation; changing a role and removing a member take effect on the
member's own portal session at once; the last admin is refused next to their name."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import close_app, create_app
from domain.enums import Role
from nexus.settings import Settings
from tests.api.test_portal import csrf_from, sign_in
from tests.support import add_member, make_tenant


@pytest.fixture
async def app(settings: Settings, engine: Engine, client: Client) -> AsyncIterator[FastAPI]:
    app = create_app(settings, engine=engine, temporal=client)
    yield app
    await close_app(app)


def browser(app: FastAPI) -> httpx.AsyncClient:
    """One person's browser: its own cookies."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://nexus.test")


def member_card(page: httpx.Response, user_id: object) -> str:
    found = re.search(rf'<li class="card member" id="member-{user_id}">(.*?)</li>', page.text, re.S)
    assert found, page.text
    return found.group(1)


async def test_an_admin_changes_a_role_and_removes_a_member_whose_session_ends(
    app: FastAPI, engine: Engine
) -> None:
    admin = make_tenant(engine)
    member = add_member(engine, admin, Role.BRAND_MEMBER)
    async with browser(app) as web, browser(app) as theirs:
        await sign_in(web, admin)
        await sign_in(theirs, member)
        assert (await theirs.get("/portal/team")).headers["location"] == "/portal"

        page = await web.get("/portal/team")
        card = member_card(page, member.user_id)
        name = f"User {member.email.split('-')[1].split('@')[0]}"
        assert name in card and str(member.user_id) not in re.sub(
            r'(id|for|action|aria-describedby)="[^"]*"', "", card
        )
        assert f'<label for="role-{member.user_id}">Role of {name}</label>' in card
        assert '<option value="brand_member" selected>' in card.replace("  ", " ")
        assert f"Yes, remove {name}" in card and "<details>" in card
        csrf = csrf_from(page)

        promoted = await web.post(
            f"/portal/team/members/{member.user_id}/role",
            data={"csrf_token": csrf, "role": "brand_admin"},
        )
        assert promoted.status_code == 303
        done = await web.get(promoted.headers["location"])
        assert "Role changed. It applies to their sessions at once." in done.text
        assert "Admin" in member_card(done, member.user_id)
        # Their own session is an admin's now.
        assert (await theirs.get("/portal/team")).status_code == 200

        removed = await web.post(
            f"/portal/team/members/{member.user_id}/removal", data={"csrf_token": csrf}
        )
        assert removed.status_code == 303
        done = await web.get(removed.headers["location"])
        assert "Member removed." in done.text
        assert f'id="member-{member.user_id}"' not in done.text
        # Signed out of this workspace at once.
        after = await theirs.get("/portal/team")
        assert after.status_code == 303 and after.headers["location"].startswith("/portal/login")


async def test_the_last_admin_is_refused_next_to_their_name_and_bad_roles_too(
    app: FastAPI, engine: Engine
) -> None:
    admin = make_tenant(engine)
    member = add_member(engine, admin, Role.BRAND_MEMBER)
    async with browser(app) as web:
        await sign_in(web, admin)
        csrf = csrf_from(await web.get("/portal/team"))

        demoted = await web.post(
            f"/portal/team/members/{admin.user_id}/role",
            data={"csrf_token": csrf, "role": "brand_member"},
        )
        assert demoted.status_code == 409
        card = member_card(demoted, admin.user_id)
        assert "This is the workspace&#39;s last admin. Make someone else an admin first." in card
        removed = await web.post(
            f"/portal/team/members/{admin.user_id}/removal", data={"csrf_token": csrf}
        )
        assert removed.status_code == 409
        assert "last admin" in member_card(removed, admin.user_id)

        bad = await web.post(
            f"/portal/team/members/{member.user_id}/role",
            data={"csrf_token": csrf, "role": "ops"},
        )
        assert bad.status_code == 422
        assert "Choose member or admin." in member_card(bad, member.user_id)
        forged = await web.post(
            f"/portal/team/members/{member.user_id}/removal", data={"csrf_token": "forged"}
        )
        assert forged.status_code == 403
        # Nothing changed.
        page = await web.get("/portal/team")
        assert f'id="member-{member.user_id}"' in page.text
        assert (await web.get("/portal/team")).status_code == 200


async def test_another_workspaces_member_is_not_found_from_the_team_page(
    app: FastAPI, engine: Engine
) -> None:
    brand = make_tenant(engine)
    victim = add_member(engine, brand, Role.BRAND_MEMBER)
    intruder = make_tenant(engine)
    async with browser(app) as web:
        await sign_in(web, intruder)
        csrf = csrf_from(await web.get("/portal/team"))
        removed = await web.post(
            f"/portal/team/members/{victim.user_id}/removal", data={"csrf_token": csrf}
        )
        assert removed.status_code == 404
        assert "This person is no longer a member." in removed.text
    async with browser(app) as web:
        await sign_in(web, brand)
        assert f'id="member-{victim.user_id}"' in (await web.get("/portal/team")).text
