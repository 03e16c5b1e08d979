"""The Team page and the invitation page over HTTP: inline messages, the link shown once,
revoking, CSRF, joining as a new person, and clear pages for used or expired invitations."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import select

from domain.enums import Role
from models.base import utcnow
from models.db import session_scope
from models.invitations import Invitation
from tests.api.test_portal import csrf_from, sign_in
from tests.api.test_portal_brand import error_of
from tests.support import PASSWORD, add_member, make_tenant


def _link(page: httpx.Response) -> str:
    match = re.search(r'id="invitation-link" type="text" readonly value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1).removeprefix("http://nexus.test")


async def test_an_admin_invites_with_inline_messages_and_revokes(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    await sign_in(http, admin)
    page = await http.get("/portal/team")
    assert page.status_code == 200
    assert admin.email in page.text
    csrf = csrf_from(page)

    bad = await http.post(
        "/portal/team/invitations",
        data={"csrf_token": csrf, "email": "<b>nope", "role": "owner"},
    )
    assert bad.status_code == 422
    assert error_of(bad, "email") == "Enter an e-mail address like name@example.com."
    assert error_of(bad, "role") == "Choose member or admin."
    assert 'value="&lt;b&gt;nope"' in bad.text

    email = f"inv-{uuid.uuid4().hex[:6]}@example.com"
    sent = await http.post(
        "/portal/team/invitations", data={"csrf_token": csrf, "email": email, "role": "brand_admin"}
    )
    assert sent.status_code == 200
    assert _link(sent).startswith("/portal/invitations/")
    assert email in sent.text

    again = await http.post(
        "/portal/team/invitations", data={"csrf_token": csrf, "email": email, "role": "brand_admin"}
    )
    assert again.status_code == 409
    assert error_of(again, "email") == "An invitation to this e-mail is pending."

    forged = await http.post(
        "/portal/team/invitations", data={"csrf_token": "forged", "email": "z@example.com"}
    )
    assert forged.status_code == 403

    with session_scope(engine) as session:
        row = session.exec(select(Invitation).where(Invitation.email == email)).one()
    revoked = await http.post(
        f"/portal/team/invitations/{row.id}/revocation", data={"csrf_token": csrf}
    )
    assert revoked.status_code == 303
    assert email not in (await http.get("/portal/team")).text


async def test_members_do_not_get_the_team_page(http: httpx.AsyncClient, engine: Engine) -> None:
    member = add_member(engine, make_tenant(engine), Role.BRAND_MEMBER)
    await sign_in(http, member)
    assert (await http.get("/portal/team")).headers["location"] == "/portal"
    assert 'href="/portal/team"' not in (await http.get("/portal/campaigns")).text


async def test_a_new_person_joins_through_the_link_once(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    await sign_in(http, admin)
    csrf = csrf_from(await http.get("/portal/team"))
    email = f"join-{uuid.uuid4().hex[:6]}@example.com"
    sent = await http.post(
        "/portal/team/invitations",
        data={"csrf_token": csrf, "email": email, "role": "brand_member"},
    )
    link = _link(sent)
    http.cookies.clear()

    page = await http.get(link)
    assert page.status_code == 200
    assert "Join Workspace" in page.text
    csrf = csrf_from(page)
    short = await http.post(link, data={"csrf_token": csrf, "name": "", "password": "short"})
    assert short.status_code == 422
    assert "at least 12 characters" in error_of(short, "password")
    empty = await http.post(link, data={"csrf_token": csrf, "name": "", "password": ""})
    assert error_of(empty, "name") == "Enter your name."

    weak = await http.post(link, data={"csrf_token": csrf, "name": "Noor", "password": "p" * 12})
    assert weak.status_code == 422
    assert error_of(weak, "password").startswith("This repeats one character")
    joined = await http.post(
        link,
        data={"csrf_token": csrf, "name": "Noor <Admin>", "password": "lanterns over the harbour"},
    )
    assert joined.status_code == 303
    assert "HttpOnly" in joined.headers["set-cookie"]
    assert (await http.get("/portal")).headers["location"] == "/portal/campaigns"

    used = await http.get(link)
    assert used.status_code == 409
    assert "used already" in used.text


async def test_expired_and_unknown_links_get_a_clear_page(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    await sign_in(http, admin)
    csrf = csrf_from(await http.get("/portal/team"))
    email = f"late-{uuid.uuid4().hex[:6]}@example.com"
    link = _link(
        await http.post(
            "/portal/team/invitations",
            data={"csrf_token": csrf, "email": email, "role": "brand_member"},
        )
    )
    with session_scope(engine) as session:
        row = session.exec(select(Invitation).where(Invitation.email == email)).one()
        row.expires_at = utcnow() - timedelta(minutes=1)
        session.add(row)
    expired = await http.get(link)
    assert expired.status_code == 410
    assert "has expired" in expired.text
    unknown = await http.get("/portal/invitations/%3Cscript%3E")
    assert unknown.status_code == 404
    assert "<script>" not in unknown.text


async def test_an_existing_user_signs_in_first_then_joins(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin, elsewhere = make_tenant(engine), make_tenant(engine)
    await sign_in(http, admin)
    csrf = csrf_from(await http.get("/portal/team"))
    link = _link(
        await http.post(
            "/portal/team/invitations",
            data={"csrf_token": csrf, "email": elsewhere.email, "role": "brand_member"},
        )
    )
    http.cookies.clear()
    page = await http.get(link)
    assert "has an account already" in page.text
    assert 'name="password"' not in page.text

    # Signing in from there comes back to the invitation.
    sign_in_link = re.search(r'href="(/portal/login\?next=[^"]+)"', page.text)
    assert sign_in_link, page.text
    login_page = await http.get(html.unescape(sign_in_link[1]))
    signed_in = await http.post(
        "/portal/login",
        data={"email": elsewhere.email, "password": PASSWORD,
              "csrf_token": csrf_from(login_page), "next": link},
    )  # fmt: skip
    assert signed_in.headers["location"] == link
    assert f'name="next" value="{link}"' in login_page.text
    page = await http.get(link)
    assert 'name="password"' not in page.text
    joined = await http.post(link, data={"csrf_token": csrf_from(page)})
    assert joined.status_code == 303
    me = await http.get("/portal/workspaces")
    assert me.text.count("Switch to") == 1  # acting in the new workspace, one other to switch to
