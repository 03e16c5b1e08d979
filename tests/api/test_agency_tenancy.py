"""Agencies and their clients over the JSON API: an agency's admins create clients, its
members act in each client with their agency role (a client's own membership, when they have
one, counts instead), and nobody else gets in: not the client's own people into the agency or
a sibling client, not another agency, not an agency member once removed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine, text

from domain.enums import Role
from tests.support import PASSWORD, Tenant, add_member, campaign_body, fund, login, make_tenant

PROBLEM = "application/problem+json"


def make_agency(engine: Engine) -> Tenant:
    """An agency workspace (with its own first brand, as sign-up makes it) and its admin."""
    admin = make_tenant(engine)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE workspaces SET kind = 'agency' WHERE id = :id"),
            {"id": admin.workspace_id},
        )
    return admin


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    return body


async def switch(http: httpx.AsyncClient, headers: dict[str, str], to: uuid.UUID) -> httpx.Response:
    return await http.post("/auth/switch", headers=headers, json={"workspace_id": str(to)})


def bearer(token: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['access_token']}"}


@dataclass(frozen=True)
class Agency:
    admin: Tenant
    admin_headers: dict[str, str]
    member: Tenant
    # Each client: its workspace id and its first brand's id.
    clients: dict[str, tuple[uuid.UUID, uuid.UUID]]


async def agency_with_clients(http: httpx.AsyncClient, engine: Engine) -> Agency:
    admin = make_agency(engine)
    member = add_member(engine, admin, Role.BRAND_MEMBER)
    headers = await login(http, admin)
    clients = {}
    for name in ("Northwind Coffee", "Fabrikam Shoes"):
        created = ok(
            await http.post(
                "/agency/clients", headers=headers, json={"name": name, "brand_name": f"{name} EU"}
            ),
            201,
        )
        client_id = uuid.UUID(created["workspace_id"])
        as_client = bearer(ok(await switch(http, headers, client_id)))
        [brand] = ok(await http.get("/brands", headers=as_client))
        clients[name] = (client_id, uuid.UUID(brand["id"]))
    return Agency(admin, headers, member, clients)


def client_member(agency: Agency, engine: Engine, name: str, role: Role) -> Tenant:
    """A person of the client itself, not of the agency."""
    workspace_id, brand_id = agency.clients[name]
    within = Tenant(workspace_id, brand_id, agency.admin.user_id, agency.admin.email, role)
    return add_member(engine, within, role)


async def test_an_agency_admin_creates_clients_and_sees_them_listed(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    agency = await agency_with_clients(http, engine)
    listed = ok(await http.get("/agency/clients", headers=agency.admin_headers))
    assert [(c["name"], c["brands"], c["members"]) for c in listed] == [
        ("Fabrikam Shoes", ["Fabrikam Shoes EU"], 0),
        ("Northwind Coffee", ["Northwind Coffee EU"], 0),
    ]

    # The same name again, whatever its case, is refused by field and changes nothing.
    again = await http.post(
        "/agency/clients",
        headers=agency.admin_headers,
        json={"name": "northwind coffee", "brand_name": "Other"},
    )
    problem = refused(again, 409)
    assert problem["type"] == "/problems/client-name-taken"
    assert problem["errors"][0]["field"] == "body.name"
    assert problem["detail"] == "Your agency has a client named northwind coffee already."
    blank = await http.post(
        "/agency/clients", headers=agency.admin_headers, json={"name": " ", "brand_name": "X"}
    )
    assert refused(blank, 422)["errors"][0]["field"] == "body.name"
    assert len(ok(await http.get("/agency/clients", headers=agency.admin_headers))) == 2

    # The agency's members see the clients but do not add any; a brand workspace has none.
    member = await login(http, agency.member)
    assert len(ok(await http.get("/agency/clients", headers=member))) == 2
    body = {"name": "Contoso", "brand_name": "Contoso"}
    refused(await http.post("/agency/clients", headers=member, json=body), 403)
    brand_admin = await login(http, make_tenant(engine))
    problem = refused(await http.get("/agency/clients", headers=brand_admin), 403)
    assert problem["type"] == "/problems/not-an-agency"
    refused(await http.post("/agency/clients", headers=brand_admin, json=body), 403)

    # Signing in and /auth/me offer the clients next to the agency, marked as its clients.
    me = ok(await http.get("/auth/me", headers=member))
    offered = {(m["name"], m["role"], m["managed_by"]) for m in me["memberships"]}
    agency_id = str(agency.admin.workspace_id)
    assert offered == {
        (me["memberships"][0]["name"], "brand_member", None),
        ("Northwind Coffee", "brand_member", agency_id),
        ("Fabrikam Shoes", "brand_member", agency_id),
    }


async def test_an_agency_member_reads_creates_and_funds_in_a_client(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    agency = await agency_with_clients(http, engine)
    client_id, brand_id = agency.clients["Northwind Coffee"]
    # Signing in straight into the client, as a member of the agency only.
    response = await http.post(
        "/auth/login",
        json={
            "email": agency.member.email,
            "password": PASSWORD,
            "workspace_id": str(client_id),
        },
    )
    token = ok(response)
    assert (token["workspace_id"], token["role"]) == (str(client_id), "brand_member")
    headers = bearer(token)

    campaign = ok(await http.post("/campaigns", headers=headers, json=campaign_body(brand_id)), 201)
    assert [c["id"] for c in ok(await http.get("/campaigns", headers=headers))["items"]] == [
        campaign["id"]
    ]
    ok(await http.get(f"/campaigns/{campaign['id']}", headers=headers))
    funded = await fund(http, engine, headers, campaign["id"])
    assert funded["status"] == "succeeded"
    fundings = ok(await http.get(f"/campaigns/{campaign['id']}/fundings", headers=headers))
    assert [f["status"] for f in fundings] == ["succeeded"]

    # The client's data stays in the client: the agency's own workspace does not see it.
    hidden = await http.get(f"/campaigns/{campaign['id']}", headers=agency.admin_headers)
    refused(hidden, 404)
    assert ok(await http.get("/campaigns", headers=agency.admin_headers))["items"] == []
    # And the client's token does not reach the agency's clients list.
    refused(await http.get("/agency/clients", headers=headers), 403)


async def test_a_clients_own_members_see_only_their_client(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    agency = await agency_with_clients(http, engine)
    own = client_member(agency, engine, "Northwind Coffee", Role.BRAND_ADMIN)
    own_headers = await login(http, own)
    sibling_id, sibling_brand = agency.clients["Fabrikam Shoes"]
    as_sibling = bearer(ok(await switch(http, agency.admin_headers, sibling_id)))
    sibling_campaign = ok(
        await http.post("/campaigns", headers=as_sibling, json=campaign_body(sibling_brand)), 201
    )
    agency_campaign = ok(
        await http.post(
            "/campaigns", headers=agency.admin_headers, json=campaign_body(agency.admin.brand_id)
        ),
        201,
    )

    me = ok(await http.get("/auth/me", headers=own_headers))
    assert [(m["name"], m["managed_by"]) for m in me["memberships"]] == [("Northwind Coffee", None)]
    refused(await switch(http, own_headers, agency.admin.workspace_id), 403)
    refused(await switch(http, own_headers, sibling_id), 403)
    for campaign in (sibling_campaign, agency_campaign):
        hidden = refused(await http.get(f"/campaigns/{campaign['id']}", headers=own_headers), 404)
        assert hidden["detail"] == "no such campaign in this workspace"
        cancel = await http.post(
            f"/campaigns/{campaign['id']}/cancel", headers=own_headers, json={"reason": "x"}
        )
        refused(cancel, 404)
    refused(await http.get("/agency/clients", headers=own_headers), 403)
    assert ok(await http.get("/campaigns", headers=own_headers))["items"] == []


async def test_another_agency_and_a_removed_member_are_refused(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    agency = await agency_with_clients(http, engine)
    client_id, brand_id = agency.clients["Northwind Coffee"]
    other = make_agency(engine)
    other_headers = await login(http, other)
    refused(await switch(http, other_headers, client_id), 403)
    assert ok(await http.get("/agency/clients", headers=other_headers)) == []

    as_client = ok(await switch(http, await login(http, agency.member), client_id))
    headers = bearer(as_client)
    campaign = ok(await http.post("/campaigns", headers=headers, json=campaign_body(brand_id)), 201)
    refused(await http.get(f"/campaigns/{campaign['id']}", headers=other_headers), 404)

    # Made an admin of the agency, they make a partner key in the client.
    path = f"/workspaces/current/members/{agency.member.user_id}"
    promoted = await http.patch(path, json={"role": "brand_admin"}, headers=agency.admin_headers)
    assert promoted.status_code == 200, promoted.text
    as_admin = ok(await switch(http, await login(http, agency.member), client_id))
    made = await http.post(
        "/api-keys",
        json={"name": "Shop sync", "scopes": ["campaigns:read"]},
        headers=bearer(as_admin),
    )
    key = {"Authorization": f"Bearer {ok(made, 201)['key']}"}
    assert (await http.get("/campaigns", headers=key)).status_code == 200

    # Removed from the agency by its admin: the client refuses the very next request, the
    # sign-in cannot be renewed into it, and the key they made there is revoked.
    removed = await http.delete(path, headers=agency.admin_headers)
    assert removed.status_code == 204, removed.text
    refused(await http.get(f"/campaigns/{campaign['id']}", headers=headers), 401)
    renewed = await http.post("/auth/refresh", json={"refresh_token": as_client["refresh_token"]})
    refused(renewed, 401)
    refused(await http.get("/campaigns", headers=key), 401)


async def test_a_clients_own_membership_counts_over_the_agency_role(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    agency = await agency_with_clients(http, engine)
    client_id, _ = agency.clients["Fabrikam Shoes"]
    member_headers = await login(http, agency.member)
    # A member of the agency acts as a member in its clients...
    assert ok(await switch(http, member_headers, client_id))["role"] == "brand_member"
    # ...and as an admin where the client made them one.
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO memberships (id, user_id, workspace_id, role, created_at)"
                " VALUES (:id, :u, :w, 'brand_admin', now())"
            ),
            {"id": uuid.uuid4(), "u": agency.member.user_id, "w": client_id},
        )
    token = ok(await switch(http, member_headers, client_id))
    assert token["role"] == "brand_admin"
    keys = await http.get("/api-keys", headers=bearer(token))
    assert keys.status_code == 200, keys.text
    # Listed once, with the client's own role.
    me = ok(await http.get("/auth/me", headers=member_headers))
    fabrikam = [m for m in me["memberships"] if m["name"] == "Fabrikam Shoes"]
    assert [m["role"] for m in fabrikam] == ["brand_admin"]


async def test_a_suspended_agency_stops_acting_for_its_clients(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    agency = await agency_with_clients(http, engine)
    client_id, _ = agency.clients["Northwind Coffee"]
    own = await login(http, client_member(agency, engine, "Northwind Coffee", Role.BRAND_MEMBER))
    as_client = bearer(ok(await switch(http, await login(http, agency.member), client_id)))
    ok(await http.get("/brands", headers=as_client))

    ops = await login(http, make_tenant(engine, Role.OPS))
    suspended = await http.post(
        f"/ops/workspaces/{agency.admin.workspace_id}/suspension",
        headers=ops,
        json={"reason": "unpaid invoices"},
    )
    assert suspended.status_code == 200, suspended.text
    problem = refused(await http.get("/brands", headers=as_client), 403)
    assert problem["type"] == "/problems/suspended"
    # The client itself is not suspended: its own people go on.
    ok(await http.get("/brands", headers=own))
