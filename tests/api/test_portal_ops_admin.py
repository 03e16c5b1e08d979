"""The ops administration pages over HTTP: finding workspaces and accounts by name or e-mail,
a workspace's members and state, suspending it with a reason (a missing reason is said next
to its field and changes nothing), the suspended brand's own pages saying so, reactivating,
an account suspended and reactivated, the admin log on the console and the pages, and nobody
but ops getting them."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import close_app, create_app
from domain.enums import Role
from models.db import session_scope
from models.workspaces import User, Workspace
from nexus.settings import Settings
from tests.api.test_portal import csrf_from, sign_in
from tests.api.test_portal_brand import error_of
from tests.api.test_portal_team_members import browser
from tests.support import add_member, make_tenant


@pytest.fixture
async def app(settings: Settings, engine: Engine, client: Client) -> AsyncIterator[FastAPI]:
    app = create_app(settings, engine=engine, temporal=client)
    yield app
    await close_app(app)


def names(engine: Engine, workspace_id: uuid.UUID, user_id: uuid.UUID) -> tuple[str, str]:
    with session_scope(engine) as session:
        workspace, user = session.get(Workspace, workspace_id), session.get(User, user_id)
        assert workspace is not None and user is not None
        return workspace.name, user.name


def suspended_at(engine: Engine, workspace_id: uuid.UUID) -> object:
    with session_scope(engine) as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        return workspace.suspended_at


async def test_ops_find_a_workspace_suspend_it_with_a_reason_and_reactivate_it(
    app: FastAPI, engine: Engine
) -> None:
    ops = make_tenant(engine, Role.OPS)
    brand = make_tenant(engine)
    colleague = add_member(engine, brand, Role.BRAND_MEMBER)
    workspace_name, admin_name = names(engine, brand.workspace_id, brand.user_id)
    async with browser(app) as web, browser(app) as theirs:
        await sign_in(web, ops)
        await sign_in(theirs, brand)
        console = await web.get("/portal/ops")
        assert 'href="/portal/ops/admin"' in console.text

        found = await web.get("/portal/ops/admin", params={"q": workspace_name.upper()})
        assert found.status_code == 200
        link = f'<a href="/portal/ops/admin/workspaces/{brand.workspace_id}">{workspace_name}</a>'
        assert link in found.text
        accounts = await web.get(
            "/portal/ops/admin", params={"q": colleague.email, "kind": "users"}
        )
        assert f'href="/portal/ops/admin/users/{colleague.user_id}"' in accounts.text

        path = f"/portal/ops/admin/workspaces/{brand.workspace_id}"
        page = await web.get(path)
        assert f"<h1>{workspace_name}</h1>" in page.text
        assert admin_name in page.text and colleague.email in page.text
        assert "Brand admin" in page.text or "brand admin" in page.text.lower()
        csrf = csrf_from(page)

        missing = await web.post(f"{path}/suspension", data={"csrf_token": csrf, "reason": " "})
        assert missing.status_code == 422
        assert "Say why in a few words" in error_of(missing, "reason")
        assert suspended_at(engine, brand.workspace_id) is None

        done = await web.post(
            f"{path}/suspension", data={"csrf_token": csrf, "reason": "Card testing fraud"}
        )
        assert done.status_code == 303
        shown = await web.get(done.headers["location"])
        assert "Suspended. Its sessions and API keys are refused from now on." in shown.text
        assert "Card testing fraud" in shown.text
        assert f"Reactivate {workspace_name}" in shown.text
        assert suspended_at(engine, brand.workspace_id) is not None

        # The brand's own session is told why, not asked to sign in.
        refused = await theirs.get("/portal/campaigns")
        assert refused.status_code == 403
        assert "This workspace is suspended: contact support." in refused.text

        # Who did it and why, on the console and the administration page.
        ops_name = names(engine, ops.workspace_id, ops.user_id)[1]
        for url in ("/portal/ops", "/portal/ops/admin", path):
            logged = await web.get(url)
            row = re.search(
                r'<tr><td>[^<]*</td><td><span class="cell-label">By </span>([^<]*)</td>\s*'
                r"<td>Suspended <a[^>]*>([^<]*)</a></td>\s*"
                r'<td><span class="cell-label">Why: </span>([^<]*)</td>',
                logged.text,
            )
            assert row, url
            assert row.groups() == (ops_name, workspace_name, "Card testing fraud")

        back = await web.post(
            f"{path}/reactivation", data={"csrf_token": csrf, "reason": "Cleared"}
        )
        assert back.status_code == 303
        assert "Reactivated." in (await web.get(back.headers["location"])).text
        assert (await theirs.get("/portal/campaigns")).status_code == 200


async def test_ops_suspend_and_reactivate_an_account(app: FastAPI, engine: Engine) -> None:
    ops = make_tenant(engine, Role.OPS)
    brand = make_tenant(engine)
    async with browser(app) as web, browser(app) as theirs:
        await sign_in(web, ops)
        await sign_in(theirs, brand)
        path = f"/portal/ops/admin/users/{brand.user_id}"
        page = await web.get(path)
        assert brand.email in page.text and "e-mail verified" in page.text
        # A verified account is offered no new verification link.
        assert "Send a new verification link" not in page.text
        csrf = csrf_from(page)

        short = await web.post(f"{path}/suspension", data={"csrf_token": csrf, "reason": "no"})
        assert short.status_code == 422
        assert "Say why in a few words" in error_of(short, "reason-suspend")

        done = await web.post(
            f"{path}/suspension", data={"csrf_token": csrf, "reason": "Stolen login"}
        )
        assert done.status_code == 303
        refused = await theirs.get("/portal/campaigns")
        assert "This account is suspended: contact support." in refused.text
        # Signing in again, with the right password, is answered with why it cannot go on.
        async with browser(app) as again:
            signing_in = await sign_in(again, brand)
            assert signing_in.status_code == 403
            assert "This account is suspended: contact support." in signing_in.text
            assert "nexus_session" not in signing_in.headers.get("set-cookie", "")

        own = await web.post(
            f"/portal/ops/admin/users/{ops.user_id}/suspension",
            data={"csrf_token": csrf, "reason": "testing myself"},
        )
        assert own.status_code == 409
        assert "You cannot suspend your own account." in own.text

        await web.post(f"{path}/reactivation", data={"csrf_token": csrf, "reason": "Owner is back"})
        assert (await theirs.get("/portal/campaigns")).status_code == 200


async def test_only_ops_get_the_administration_pages(app: FastAPI, engine: Engine) -> None:
    brand = make_tenant(engine)
    async with browser(app) as web:
        await sign_in(web, brand)
        for url in ("/portal/ops/admin", f"/portal/ops/admin/workspaces/{brand.workspace_id}"):
            answer = await web.get(url)
            assert answer.status_code == 303 and answer.headers["location"] == "/portal"
        csrf = csrf_from(await web.get("/portal/team"))
        tried = await web.post(
            f"/portal/ops/admin/workspaces/{brand.workspace_id}/suspension",
            data={"csrf_token": csrf, "reason": "take over"},
        )
        assert tried.status_code == 303 and tried.headers["location"] == "/portal"
        assert (await web.get("/portal/campaigns")).status_code == 200
