"""An agency's pages over HTTP: the client list, adding a client with messages next to the
fields, acting for a client through the workspace switcher ("Switch client"), the client's
name on every page acted for it, and a client's own people seeing neither the agency nor its
other clients."""

from __future__ import annotations

import html
import re

import httpx
from sqlalchemy import Engine

from domain.enums import Role
from tests.api.test_agency_tenancy import agency_with_clients, client_member, make_agency
from tests.api.test_portal import csrf_from, sign_in
from tests.api.test_portal_brand import error_of
from tests.support import add_member, make_tenant


def words(markup: str) -> str:
    return html.unescape(markup)


def acting_for(page: httpx.Response) -> str | None:
    """The client a page says it acts for, in words."""
    match = re.search(r'<p class="notes acting-for">(.*?)</p>', page.text)
    return None if match is None else html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))


async def add_client(http: httpx.AsyncClient, name: str, brand: str) -> httpx.Response:
    form = await http.get("/portal/agency/clients/new")
    assert form.status_code == 200, form.text
    return await http.post(
        "/portal/agency/clients",
        data={"csrf_token": csrf_from(form), "name": name, "brand_name": brand},
    )


async def switch_to(http: httpx.AsyncClient, name: str) -> httpx.Response:
    page = await http.get("/portal/workspaces")
    match = re.search(
        r'name="workspace_id" value="([^"]+)">\s*<button type="submit">Switch to '
        + re.escape(name)
        + "</button>",
        page.text,
    )
    assert match, page.text
    return await http.post(
        "/portal/workspaces", data={"csrf_token": csrf_from(page), "workspace_id": match[1]}
    )


async def test_an_agency_admin_adds_clients_and_acts_for_each(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_agency(engine)
    await sign_in(http, admin)
    home = await http.get("/portal/campaigns")
    assert '<a href="/portal/agency/clients">Clients</a>' in home.text
    assert acting_for(home) is None
    empty = await http.get("/portal/agency/clients")
    assert "Your agency has no clients yet." in empty.text

    blank = await add_client(http, "  ", "")
    assert blank.status_code == 422
    assert words(error_of(blank, "name")) == "Enter the client's name (up to 200 characters)."
    assert words(error_of(blank, "brand_name")).startswith("Enter the name of the client's")

    created = await add_client(http, "Northwind & Co", "Northwind Roast")
    assert created.status_code == 303
    listed = await http.get(created.headers["location"])
    assert "Client Northwind &amp; Co created." in listed.text
    assert "Brands: Northwind Roast" in listed.text
    assert (await add_client(http, "Fabrikam", "Fabrikam Run")).status_code == 303

    taken = await add_client(http, "NORTHWIND & CO", "Another")
    assert taken.status_code == 409
    assert (
        words(error_of(taken, "name")) == "Your agency has a client named NORTHWIND & CO already."
    )
    assert 'value="NORTHWIND &amp; CO"' in taken.text

    # The list's "Act for" button and the switcher's "Switch client" both lead in.
    listed = await http.get("/portal/agency/clients")
    assert listed.text.index("Fabrikam") < listed.text.index("Northwind")
    match = re.search(
        r'name="workspace_id" value="([^"]+)">\s*<button type="submit">Act for Fabrikam<',
        listed.text,
    )
    assert match, listed.text
    acted = await http.post(
        "/portal/workspaces", data={"csrf_token": csrf_from(listed), "workspace_id": match[1]}
    )
    assert acted.status_code == 303
    agency_name = f"Workspace {admin.email.split('-')[1].split('@')[0]}"
    campaigns = await http.get("/portal/campaigns")
    assert acting_for(campaigns) == f"Acting for client Fabrikam of {agency_name} · Switch client"
    brands = await http.get("/portal/brands")
    assert acting_for(brands) == f"Acting for client Fabrikam of {agency_name} · Switch client"
    assert "Fabrikam Run" in brands.text and "Northwind Roast" not in brands.text

    switcher = await http.get("/portal/workspaces")
    assert "<h2>Switch client</h2>" in switcher.text
    assert "Switch to Northwind &amp; Co" in switcher.text
    assert (await switch_to(http, "Northwind &amp; Co")).status_code == 303
    team = await http.get("/portal/team")
    assert acting_for(team) == f"Acting for client Northwind & Co of {agency_name} · Switch client"
    # A client's own list of clients does not exist: back to its start page.
    refused = await http.get("/portal/agency/clients")
    assert (refused.status_code, refused.headers["location"]) == (303, "/portal")

    assert (await switch_to(http, agency_name)).status_code == 303
    assert acting_for(await http.get("/portal/campaigns")) is None


async def test_members_see_clients_but_only_admins_add_them(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_agency(engine)
    await sign_in(http, admin)
    assert (await add_client(http, "Contoso", "Contoso Home")).status_code == 303
    http.cookies.clear()

    await sign_in(http, add_member(engine, admin, Role.BRAND_MEMBER))
    listed = await http.get("/portal/agency/clients")
    assert "Contoso" in listed.text
    assert "Add a client" not in listed.text
    assert (await http.get("/portal/agency/clients/new")).headers["location"] == "/portal"
    page = await http.get("/portal/workspaces")
    forged = await http.post(
        "/portal/agency/clients",
        data={"csrf_token": csrf_from(page), "name": "Sneaky", "brand_name": "Sneaky"},
    )
    assert (forged.status_code, forged.headers["location"]) == (303, "/portal")
    assert "Sneaky" not in (await http.get("/portal/agency/clients")).text

    # A brand workspace has no clients page and no Clients link.
    http.cookies.clear()
    await sign_in(http, make_tenant(engine))
    brand_home = await http.get("/portal/campaigns")
    assert "/portal/agency/clients" not in brand_home.text
    refused = await http.get("/portal/agency/clients")
    assert (refused.status_code, refused.headers["location"]) == (303, "/portal")


async def test_a_clients_own_people_see_neither_the_agency_nor_its_other_clients(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    agency = await agency_with_clients(http, engine)
    own = client_member(agency, engine, "Northwind Coffee", Role.BRAND_ADMIN)
    await sign_in(http, own)
    page = await http.get("/portal/workspaces")
    assert "Northwind Coffee" in page.text
    for hidden in ("Fabrikam", "Switch client", "Workspace "):
        assert hidden not in page.text, hidden
    campaigns = await http.get("/portal/campaigns")
    assert acting_for(campaigns) is None
    # The header names the workspace, as for any brand.
    assert '<span class="acting">Northwind Coffee ·</span>' in campaigns.text
    forged = await http.post(
        "/portal/workspaces",
        data={"csrf_token": csrf_from(page), "workspace_id": str(agency.admin.workspace_id)},
    )
    assert forged.status_code == 403
    assert "You are not a member of that workspace." in forged.text
    assert (await http.get("/portal/agency/clients")).headers["location"] == "/portal"
