from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import Engine

from domain.enums import Role
from models.db import session_scope
from models.workspaces import Membership
from tests.support import PASSWORD, Tenant, campaign_body, login, make_tenant


def csrf_from(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


async def sign_in(
    http: httpx.AsyncClient, tenant: Tenant, password: str = PASSWORD
) -> httpx.Response:
    page = await http.get("/portal/login")
    return await http.post(
        "/portal/login",
        data={"email": tenant.email, "password": password, "csrf_token": csrf_from(page)},
    )


async def test_signed_out_visitors_are_sent_to_sign_in(http: httpx.AsyncClient) -> None:
    response = await http.get("/portal")
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/login"
    assert (await http.get("/")).headers["location"] == "/portal"


async def test_signing_in_lands_on_the_page_asked_for(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    created = await http.post(
        "/campaigns", json=campaign_body(tenant.brand_id), headers=await login(http, tenant)
    )
    http.cookies.clear()
    wanted = f"/portal/campaigns/{created.json()['id']}?tab=brief"
    bounced = await http.get(wanted)
    assert bounced.status_code == 303
    assert bounced.headers["location"] == (f"/portal/login?next={quote(wanted, safe='')}")
    page = await http.get(bounced.headers["location"])
    assert f'name="next" value="{wanted}"' in page.text
    response = await http.post(
        "/portal/login",
        data={"email": tenant.email, "password": PASSWORD, "csrf_token": csrf_from(page),
              "next": wanted},
    )  # fmt: skip
    assert (response.status_code, response.headers["location"]) == (303, wanted)
    assert (await http.get(wanted)).status_code == 200

    # A mistyped password keeps where it was going for the next try.
    http.cookies.clear()
    page = await http.get(bounced.headers["location"])
    wrong = await http.post(
        "/portal/login",
        data={"email": tenant.email, "password": "nope", "csrf_token": csrf_from(page),
              "next": wanted},
    )  # fmt: skip
    assert wrong.status_code == 400
    assert f'name="next" value="{wanted}"' in wrong.text

    # Forms and the fragments htmx polls keep no page to come back to.
    http.cookies.clear()
    fragment = await http.get(wanted, headers={"HX-Request": "true"})
    assert fragment.headers["location"] == "/portal/login"


@pytest.mark.parametrize(
    "elsewhere",
    ["https://evil.example", "//evil.example", "/\\evil.example", "https:/evil.example",
     "/portal/../..//evil.example\\x", "javascript:alert(1)", "/portal\tx", " /portal"],
)  # fmt: skip
async def test_signing_in_never_leaves_the_site(
    http: httpx.AsyncClient, engine: Engine, elsewhere: str
) -> None:
    tenant = make_tenant(engine)
    page = await http.get("/portal/login", params={"next": elsewhere})
    assert 'name="next"' not in page.text
    response = await http.post(
        "/portal/login",
        data={"email": tenant.email, "password": PASSWORD, "csrf_token": csrf_from(page),
              "next": elsewhere},
    )  # fmt: skip
    assert (response.status_code, response.headers["location"]) == (303, "/portal")


async def test_sign_in_sets_an_httponly_session_and_lists_campaigns_escaped(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    headers = await login(http, tenant)
    title = "<script>alert('x')</script> Glow"
    created = await http.post(
        "/campaigns", json=campaign_body(tenant.brand_id, title=title), headers=headers
    )
    assert created.status_code == 201

    response = await sign_in(http, tenant)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "nexus_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie

    assert (await http.get("/portal")).headers["location"] == "/portal/campaigns"
    page = await http.get("/portal/campaigns")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Glow" in page.text
    assert "<script>alert" not in page.text
    assert "$5,000.00" in page.text

    detail = await http.get(f"/portal/campaigns/{created.json()['id']}")
    assert detail.status_code == 200
    assert 'class="stage stage-draft"' in detail.text
    assert "Glow serum 30 ml" in detail.text


async def test_wrong_password_is_shown_next_to_the_field(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    response = await sign_in(http, tenant, password="nope")
    assert response.status_code == 400
    assert 'id="password-error"' in response.text
    assert "e-mail or password is wrong" in response.text
    assert "nexus_session" not in response.headers.get("set-cookie", "")
    assert f'value="{tenant.email}"' in response.text  # what the user typed is kept


async def test_forms_without_the_csrf_token_are_refused(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    await http.get("/portal/login")
    response = await http.post(
        "/portal/login", data={"email": tenant.email, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert "session expired" in response.text
    assert "nexus_session" not in response.headers.get("set-cookie", "")


async def test_another_workspaces_campaign_is_not_found_in_the_portal(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    owner, other = make_tenant(engine), make_tenant(engine)
    created = await http.post(
        "/campaigns", json=campaign_body(owner.brand_id), headers=await login(http, owner)
    )
    await sign_in(http, other)
    page = await http.get(f"/portal/campaigns/{created.json()['id']}")
    assert page.status_code == 404
    assert "Spring glow launch" not in page.text
    assert "Spring glow launch" not in (await http.get("/portal/campaigns")).text


async def test_sign_out_ends_the_session(http: httpx.AsyncClient, engine: Engine) -> None:
    tenant = make_tenant(engine)
    await sign_in(http, tenant)
    page = await http.get("/portal/campaigns")
    copied = http.cookies["nexus_session"]
    response = await http.post("/portal/logout", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    assert (await http.get("/portal")).status_code == 303

    # A copy of the session cookie taken before sign-out is worth nothing after it.
    http.cookies.set("nexus_session", copied, domain="nexus.test")
    replayed = await http.get("/portal/campaigns")
    assert (replayed.status_code, replayed.headers["location"]) == (
        303, "/portal/login?next=%2Fportal%2Fcampaigns",
    )  # fmt: skip
    api = await http.get("/auth/me", headers={"Authorization": f"Bearer {copied}"})
    assert api.status_code == 401


async def test_the_workspace_switcher_moves_the_session_to_another_membership(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand, ops, stranger = make_tenant(engine), make_tenant(engine, Role.OPS), make_tenant(engine)
    with session_scope(engine) as session:
        session.add(Membership(user_id=brand.user_id, workspace_id=ops.workspace_id, role=Role.OPS))
    await sign_in(http, brand)
    page = await http.get("/portal/workspaces")
    assert page.text.count("<button") == 2  # sign out, and the one other workspace
    assert (await http.get("/portal")).headers["location"] == "/portal/campaigns"

    data = {"csrf_token": csrf_from(page), "workspace_id": str(ops.workspace_id)}
    assert (
        await http.post("/portal/workspaces", data={**data, "csrf_token": "x"})
    ).status_code == 403
    switched = await http.post("/portal/workspaces", data=data)
    assert switched.status_code == 303
    assert "HttpOnly" in switched.headers["set-cookie"]
    assert (await http.get("/portal")).headers["location"] == "/portal/ops"

    # A form from before the switch would act in the other workspace: its token has expired.
    foreign = {**data, "workspace_id": str(stranger.workspace_id)}
    assert (await http.post("/portal/workspaces", data=foreign)).status_code == 403
    foreign["csrf_token"] = csrf_from(await http.get("/portal/workspaces"))
    refused = await http.post("/portal/workspaces", data=foreign)
    assert refused.status_code == 403
    assert "not a member of that workspace" in refused.text
    assert (await http.get("/portal")).headers["location"] == "/portal/ops"


async def test_a_csrf_token_of_one_session_is_refused_with_another(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    attacker, victim = make_tenant(engine), make_tenant(engine)
    await sign_in(http, attacker)
    # A token the attacker got with their own session, in a browser whose CSRF cookie is the
    # one that token went with (as if planted in the victim's browser).
    attackers_token = csrf_from(await http.get("/portal/workspaces"))

    await sign_in(http, victim)
    victims_page = await http.get("/portal/workspaces")
    data = {"workspace_id": str(victim.workspace_id)}
    forged = await http.post("/portal/workspaces", data=data | {"csrf_token": attackers_token})
    assert forged.status_code == 403
    assert "This page expired" in forged.text

    genuine = await http.post(
        "/portal/workspaces", data=data | {"csrf_token": csrf_from(victims_page)}
    )
    assert genuine.status_code == 303
