"""Brand pages of the portal over HTTP: the brief builder's inline validation, escaping,
CSRF on every form, and tenancy."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine

from domain.enums import Role
from tests.api.test_portal import csrf_from, sign_in
from tests.support import Tenant, campaign_body, login, make_tenant


def brief_form(tenant: Tenant, csrf: str, **overrides: str) -> dict[str, Any]:
    soon = datetime.now(UTC) + timedelta(days=2)
    form: dict[str, Any] = {
        "csrf_token": csrf, "idempotency_key": "k-" + csrf[:10], "brand_id": str(tenant.brand_id),
        "title": "Glow <b>launch</b>", "visibility": "open", "budget": "5,000.00",
        "currency": "USD", "product": "Glow serum 30 ml", "objective": "Awareness",
        "mandatory_mentions": "Glow serum\n", "disclosure_required": "on",
        "revision_rounds": "1", "review_window_days": "3", "target_niches": "Beauty",
        "channels": ["organic_social", "paid_social"], "territories": "US, GB",
        "term_days": "90", "modification": "edit",
        "application_deadline": soon.strftime("%Y-%m-%dT%H:%M"),
        "delivery_deadline": (soon + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
        "d0_format": "video_9x16", "d0_duration": "30", "d0_quantity": "2", "d0_price": "1000",
    }  # fmt: skip
    form.update(overrides)
    return form


def error_of(page: httpx.Response, field: str) -> str:
    match = re.search(rf'<p id="{field}-error" class="error">([^<]*)</p>', page.text)
    assert match, f"no error shown for {field}"
    return match.group(1)


async def test_the_brief_builder_shows_each_problem_next_to_its_field(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    await sign_in(http, tenant)
    csrf = csrf_from(await http.get("/portal/campaigns/new"))
    bad = brief_form(
        tenant, csrf, product="", budget="12.345", currency="usd", d0_price="abc",
        territories="XX", term_days="0",
    )  # fmt: skip
    page = await http.post("/portal/campaigns", data=bad)
    assert page.status_code == 422
    assert "at least 1 character" in error_of(page, "product")
    assert error_of(page, "budget") == "Use at most 2 decimals."
    assert "pattern" in error_of(page, "currency")
    assert "Enter an amount" in error_of(page, "d0_price")
    assert "XX" in error_of(page, "territories")
    assert "greater than or equal to 1" in error_of(page, "term_days")
    # What the brand typed stays, escaped.
    assert 'value="Glow &lt;b&gt;launch&lt;/b&gt;"' in page.text
    assert "<b>launch</b>" not in page.text
    assert 'aria-invalid="true" aria-describedby="product-error"' in page.text


async def test_rules_the_api_checks_come_back_to_the_form(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    await sign_in(http, tenant)
    csrf = csrf_from(await http.get("/portal/campaigns/new"))
    over_budget = brief_form(tenant, csrf, budget="100", perpetual="on")
    page = await http.post("/portal/campaigns", data=over_budget)
    assert page.status_code == 422
    assert "over the budget" in error_of(page, "d0")
    past = brief_form(tenant, csrf, application_deadline="2020-01-01T10:00")
    page = await http.post("/portal/campaigns", data=past)
    assert page.status_code == 422
    assert error_of(page, "application_deadline") == "must be in the future"


async def test_a_valid_brief_creates_the_campaign_once_and_lists_it_escaped(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    await sign_in(http, tenant)
    csrf = csrf_from(await http.get("/portal/campaigns/new"))
    form = brief_form(tenant, csrf)
    created = await http.post("/portal/campaigns", data=form)
    assert created.status_code == 303, created.text
    location = created.headers["location"]
    # The same form sent twice (a double click) is the same campaign.
    again = await http.post("/portal/campaigns", data=form)
    assert again.headers["location"] == location

    page = await http.get(location)
    assert "Glow &lt;b&gt;launch&lt;/b&gt;" in page.text
    assert "video_9x16, 30 s at 1,000.00 USD" in page.text
    listing = await http.get("/portal/campaigns")
    assert listing.text.count(location) == 1
    assert "5,000.00 USD" in listing.text
    campaign = await http.get(location.replace("/portal", ""), headers=await login(http, tenant))
    brief = campaign.json()["brief"]
    assert brief["usage_rights"]["territories"] == ["GB", "US"]
    assert brief["target_niches"] == ["beauty"]
    assert brief["mandatory_mentions"] == ["Glow serum"]


async def test_every_brand_form_refuses_a_missing_or_forged_csrf_token(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    headers = await login(http, tenant)
    created = await http.post("/campaigns", json=campaign_body(tenant.brand_id), headers=headers)
    cid = created.json()["id"]
    await sign_in(http, tenant)
    csrf = csrf_from(await http.get("/portal/campaigns/new"))
    for path, data in [
        ("/portal/campaigns", brief_form(tenant, csrf)),
        (f"/portal/campaigns/{cid}/fundings", {"method": "bank_transfer"}),
        (f"/portal/campaigns/{cid}/publish", {}),
    ]:
        for token in ("", "forged"):
            response = await http.post(path, data={**data, "csrf_token": token})
            assert response.status_code == 403, path
            assert "Nothing was changed." in response.text
    assert (await http.get("/portal/campaigns")).text.count("/portal/campaigns/") == 2  # new + 1
    assert (await http.get(f"/campaigns/{cid}/fundings", headers=headers)).json() == []


async def test_funding_by_invoice_from_the_campaign_page(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    headers = await login(http, tenant)
    created = await http.post("/campaigns", json=campaign_body(tenant.brand_id), headers=headers)
    cid = created.json()["id"]
    await sign_in(http, tenant)
    page = await http.get(f"/portal/campaigns/{cid}")
    assert 'value="bank_transfer" checked' in page.text
    assert 'value="card"' not in page.text  # no card form without Stripe
    assert "js.stripe.com" not in page.text  # nor any script from outside the portal
    funded = await http.post(
        f"/portal/campaigns/{cid}/fundings",
        data={"csrf_token": csrf_from(page), "method": "bank_transfer"},
    )
    assert funded.status_code == 303
    page = await http.get(f"/portal/campaigns/{cid}")
    assert "5,500.00 USD" in page.text  # budget plus the 10 % platform fee
    assert "awaiting transfer" in page.text
    card = await http.post(
        f"/portal/campaigns/{cid}/fundings",
        data={"csrf_token": csrf_from(page), "method": "card", "payment_method": "pm_card_visa"},
    )
    assert card.status_code == 422
    assert "card payments are not enabled" in card.text

    [funding] = (await http.get(f"/campaigns/{cid}/fundings", headers=headers)).json()
    ops = await login(http, make_tenant(engine, Role.OPS))
    assert (await http.post(f"/ops/fundings/{funding['id']}/confirm", headers=ops)).is_success
    statement = await http.get(f"/portal/campaigns/{cid}/statement")
    assert "<td>funding</td><td>5,000.00 USD</td><td>500.00 USD</td>" in statement.text


async def test_another_workspace_cannot_see_or_act_on_a_campaign(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    owner, other = make_tenant(engine), make_tenant(engine)
    created = await http.post(
        "/campaigns", json=campaign_body(owner.brand_id), headers=await login(http, owner)
    )
    cid = created.json()["id"]
    await sign_in(http, other)
    csrf = csrf_from(await http.get("/portal/campaigns"))
    for path in (f"/portal/campaigns/{cid}", f"/portal/campaigns/{cid}/statement"):
        page = await http.get(path)
        assert page.status_code == 404
        assert "Spring glow launch" not in page.text
    publish = await http.post(f"/portal/campaigns/{cid}/publish", data={"csrf_token": csrf})
    assert publish.status_code == 404
    fund = await http.post(
        f"/portal/campaigns/{cid}/fundings", data={"csrf_token": csrf, "method": "bank_transfer"}
    )
    assert fund.status_code == 404
    owner_view = await http.get(f"/campaigns/{cid}", headers=await login(http, owner))
    assert owner_view.json()["stage"] == "draft"


async def test_creators_are_kept_out_of_brand_pages(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    creator = make_tenant(engine, Role.CREATOR)
    await sign_in(http, creator)
    for path in ("/portal/campaigns", "/portal/reviews", "/portal/licenses"):
        response = await http.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/portal"


async def test_the_renewal_form_checks_its_fields_and_the_license(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    await sign_in(http, make_tenant(engine))
    page = await http.get("/portal/licenses")
    assert "No licenses yet" in page.text
    path = f"/portal/licenses/{uuid.uuid4()}/renewal"
    data = {"csrf_token": csrf_from(page), "ends_on": "2030-01-01", "fee": "10"}
    assert (await http.post(path, data={**data, "csrf_token": ""})).status_code == 403
    for form, status, message in [
        ({**data, "ends_on": ""}, 422, "Choose the new end date."),
        ({**data, "fee": "ten"}, 422, "Enter an amount like 1250 or 1250.50."),
        (data, 404, "no such license"),
    ]:
        response = await http.post(path, data=form)
        assert response.status_code == status
        assert message in response.text
