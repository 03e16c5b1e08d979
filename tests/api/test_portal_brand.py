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
from tests.support import (
    CreatorAccount,
    Tenant,
    campaign_body,
    fund,
    login,
    make_creator,
    make_tenant,
)


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


def listed_in_table(page: str) -> str:
    """The campaign list's table, without the checklist and links above it."""
    return page[page.index("<table") :]


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
    assert error_of(page, "product") == "This can&#39;t be empty."
    assert error_of(page, "budget") == "Use at most 2 decimals."
    assert error_of(page, "currency") == "This isn&#39;t in the expected format."
    assert "Enter an amount" in error_of(page, "d0_price")
    assert "XX" in error_of(page, "territories")
    assert error_of(page, "term_days") == "Enter 1 or more."
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
    assert "2 \N{MULTIPLICATION SIGN} vertical video (9:16), 30 s, $1,000.00 each" in page.text
    assert "video_9x16" not in page.text
    listing = await http.get("/portal/campaigns")
    # Once in the list (the first-run checklist above it links to it too).
    assert listed_in_table(listing.text).count(location) == 1
    assert "$5,000.00" in listing.text
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
    listing = (await http.get("/portal/campaigns")).text
    assert listed_in_table(listing).count("/portal/campaigns/") == 1
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
    assert "$5,500.00" in page.text  # budget plus the 10 % platform fee
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
    assert "<td>funding</td><td>$5,000.00</td><td>$500.00</td>" in statement.text


async def test_a_funded_draft_is_topped_up_from_its_page_after_its_budget_grows(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    headers, campaign = await api_campaign(http, tenant)
    cid = campaign["id"]
    await sign_in(http, tenant)
    page = await http.get(f"/portal/campaigns/{cid}")
    assert "Pay the budget into escrow" in page.text
    data = {"csrf_token": csrf_from(page), "method": "bank_transfer"}
    assert (await http.post(f"/portal/campaigns/{cid}/fundings", data=data)).status_code == 303
    [first] = (await http.get(f"/campaigns/{cid}/fundings", headers=headers)).json()
    ops = await login(http, make_tenant(engine, Role.OPS))
    assert (await http.post(f"/ops/fundings/{first['id']}/confirm", headers=ops)).is_success
    page = await http.get(f"/portal/campaigns/{cid}")
    assert 'id="funding-form"' not in page.text  # the budget is in escrow

    grown = {"budget": {"amount_minor": 600_000, "currency": "USD"}}
    assert (await http.patch(f"/campaigns/{cid}", json=grown, headers=headers)).is_success
    page = await http.get(f"/portal/campaigns/{cid}")
    legend = page.text.split('id="funding-form"', 1)[1].split("</legend>", 1)[0]
    assert "Top up the budget: " in legend and "1,000.00" in legend and "6,000.00" in legend
    assert ">Top up the budget</button>" in page.text
    data = {"csrf_token": csrf_from(page), "method": "bank_transfer"}
    assert (await http.post(f"/portal/campaigns/{cid}/fundings", data=data)).status_code == 303
    fundings = (await http.get(f"/campaigns/{cid}/fundings", headers=headers)).json()
    assert [(f["budget_minor"], f["status"]) for f in fundings] == [
        (500_000, "succeeded"), (100_000, "awaiting_transfer"),
    ]  # fmt: skip
    page = await http.get(f"/portal/campaigns/{cid}")
    assert 'id="funding-form"' not in page.text  # the rest is on its way


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


# --- editing, closing, cancelling and inviting from the campaign page ------------------------


async def api_campaign(
    http: httpx.AsyncClient, tenant: Tenant, **brief: Any
) -> tuple[dict[str, str], dict[str, Any]]:
    headers = await login(http, tenant)
    body = campaign_body(tenant.brand_id)
    body["brief"] |= brief
    created = await http.post("/campaigns", json=body, headers=headers)
    assert created.status_code == 201, created.text
    campaign: dict[str, Any] = created.json()
    return headers, campaign


async def live_campaign(
    http: httpx.AsyncClient, engine: Engine, tenant: Tenant
) -> tuple[dict[str, str], dict[str, Any]]:
    """A funded, published campaign: two places of a 30 s vertical video at 1,000 USD."""
    soon = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    headers, campaign = await api_campaign(http, tenant, application_deadline=soon)
    await fund(http, engine, headers, campaign["id"])
    published = await http.post(f"/campaigns/{campaign['id']}/publish", headers=headers)
    assert published.status_code == 200, published.text
    return headers, campaign


async def apply_as(
    http: httpx.AsyncClient, creator: CreatorAccount, campaign: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post(
        f"/marketplace/campaigns/{campaign['id']}/applications",
        json={"deliverable_id": campaign["deliverables"][0]["id"], "pitch": "Morning routine",
              "price_minor": 90_000},
        headers=await login(http, creator.tenant),
    )  # fmt: skip
    assert response.status_code == 201, response.text
    application: dict[str, Any] = response.json()
    return application


async def test_a_draft_is_edited_in_the_brief_builder_it_was_written_in(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    headers, campaign = await api_campaign(http, tenant, banned_claims=["cures acne"])
    cid = campaign["id"]
    await sign_in(http, tenant)
    page = await http.get(f"/portal/campaigns/{cid}")
    assert f'href="/portal/campaigns/{cid}/edit"' in page.text

    form_page = await http.get(f"/portal/campaigns/{cid}/edit")
    assert form_page.status_code == 200
    for filled in ('value="Spring glow launch"', 'value="5000.00"', 'value="1000.00"',
                   'value="Glow serum 30 ml"', ">cures acne</textarea>"):  # fmt: skip
        assert filled in form_page.text, filled
    assert "Save changes" in form_page.text and 'name="brand_id"' not in form_page.text
    field = r'<input id="[^"]+" name="([^"]+)" type="(?:text|number)" value="([^"]*)"'
    form: dict[str, Any] = dict(re.findall(field, form_page.text))
    form |= {"csrf_token": csrf_from(form_page), "visibility": "open", "d0_format": "video_9x16",
             "modification": "edit", "channels": ["organic_social"], "objective": "Awareness",
             "mandatory_mentions": "Glow serum", "banned_claims": "cures acne",
             "brand_safety_sensitivity": "high"}  # fmt: skip

    refused = await http.post(f"/portal/campaigns/{cid}/edit", data=form | {"budget": "1,500"})
    assert refused.status_code == 422
    assert "over the budget of $1,500.00" in error_of(refused, "d0")
    assert 'value="1,500"' in refused.text  # what was typed stays

    saved = await http.post(
        f"/portal/campaigns/{cid}/edit", data=form | {"title": "Summer glow", "d0_quantity": "3"}
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/portal/campaigns/{cid}"
    page = await http.get(f"/portal/campaigns/{cid}")
    assert "<h1>Summer glow</h1>" in page.text
    assert "3 \N{MULTIPLICATION SIGN} vertical video (9:16), 30 s, $1,000.00 each" in page.text
    read = (await http.get(f"/campaigns/{cid}", headers=headers)).json()
    assert read["deliverables"][0]["quantity"] == 3
    assert read["brief"]["banned_claims"] == ["cures acne"]
    assert read["brief"]["brand_safety_sensitivity"] == "high"


async def test_only_a_draft_has_an_edit_form(http: httpx.AsyncClient, engine: Engine) -> None:
    tenant = make_tenant(engine)
    _, campaign = await live_campaign(http, engine, tenant)
    await sign_in(http, tenant)
    page = await http.get(f"/portal/campaigns/{campaign['id']}")
    assert "/edit" not in page.text
    edit = await http.get(f"/portal/campaigns/{campaign['id']}/edit")
    assert edit.status_code == 409
    assert "Only a draft can be edited; this campaign is published." in edit.text


async def test_applications_are_closed_early_from_the_campaign_page_after_a_confirmation(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    headers, campaign = await live_campaign(http, engine, tenant)
    cid = campaign["id"]
    chosen, waiting = make_creator(engine), make_creator(engine)
    accepted = await apply_as(http, chosen, campaign)
    decided = await http.post(
        f"/campaigns/{cid}/applications/{accepted['id']}/decision",
        json={"action": "accept"}, headers=headers,
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
    pending = await apply_as(http, waiting, campaign)
    await sign_in(http, tenant)
    page = await http.get(f"/portal/campaigns/{cid}")
    assert f'href="/portal/campaigns/{cid}/close-applications"' in page.text
    assert "1 of 2 open" in page.text

    confirm = await http.get(f"/portal/campaigns/{cid}/close-applications")
    assert "Close applications now?" in confirm.text
    assert "1 application or invitation that is still waiting will close" in confirm.text
    assert "Production starts with the 1 creator accepted so far" in confirm.text
    closed = await http.post(
        f"/portal/campaigns/{cid}/close-applications", data={"csrf_token": csrf_from(confirm)}
    )
    assert closed.status_code == 303, closed.text

    page = await http.get(f"/portal/campaigns/{cid}")
    assert '<span class="stage stage-in_production">in production</span>' in page.text
    assert "/close-applications" not in page.text
    # Names, not IDs: the creators, what they applied for, the delivery under way.
    profiles = {c: f"Creator {c.email.split('-')[1].split('@')[0]}" for c in (chosen, waiting)}
    assert profiles[chosen] in page.text and profiles[waiting] in page.text
    assert "Applied for vertical video (9:16), 30 s" in page.text
    assert f"{profiles[chosen]}: vertical video (9:16), 30 s</a>" in page.text
    assert "Delivery " + accepted["id"][:8] not in page.text
    apps = (await http.get(f"/campaigns/{cid}/applications", headers=headers)).json()
    assert {a["id"]: a["status"] for a in apps} == {
        accepted["id"]: "accepted",
        pending["id"]: "expired",
    }


async def test_a_campaign_is_cancelled_from_its_page_with_a_reason(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    headers, campaign = await live_campaign(http, engine, tenant)
    cid = campaign["id"]
    await sign_in(http, tenant)
    confirm = await http.get(f"/portal/campaigns/{cid}/cancel")
    assert "Cancel “Spring glow launch”?" in confirm.text
    assert "This cannot be undone." in confirm.text
    csrf = csrf_from(confirm)
    assert (
        await http.post(f"/portal/campaigns/{cid}/cancel", data={"reason": "x"})
    ).status_code == 403

    no_reason = await http.post(
        f"/portal/campaigns/{cid}/cancel", data={"csrf_token": csrf, "reason": " "}
    )
    assert no_reason.status_code == 422
    assert error_of(no_reason, "reason") == "Tell the creators why the campaign is cancelled."
    assert (await http.get(f"/campaigns/{cid}", headers=headers)).json()["stage"] == "published"

    cancelled = await http.post(
        f"/portal/campaigns/{cid}/cancel",
        data={"csrf_token": csrf, "reason": "Launch moved to autumn"},
    )
    assert cancelled.status_code == 303, cancelled.text
    page = await http.get(f"/portal/campaigns/{cid}")
    assert "Cancelled: Launch moved to autumn" in page.text
    assert f"/portal/campaigns/{cid}/cancel" not in page.text
    again = await http.get(f"/portal/campaigns/{cid}/cancel")
    assert "there is nothing left to cancel" in again.text
    read = (await http.get(f"/campaigns/{cid}", headers=headers)).json()
    assert (read["stage"], read["live"]["cancel_reason"]) == ("cancelled", "Launch moved to autumn")


async def test_a_creator_from_the_directory_is_invited_from_the_campaign_page(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    headers, campaign = await live_campaign(http, engine, tenant)
    cid, slot = campaign["id"], campaign["deliverables"][0]["id"]
    guest = make_creator(engine, niches=["skincare"], country="GB")
    name = f"Creator {guest.email.split('-')[1].split('@')[0]}"
    await sign_in(http, tenant)
    page = await http.get(f"/portal/campaigns/{cid}", params={"niche": "skincare"})
    assert "Invite a creator" in page.text
    assert f'<option value="{guest.creator_id}" >{name} (@' in page.text
    assert 'value="1000.00"' in page.text  # the deliverable's price, offered by default
    csrf = csrf_from(page)
    invite = {"csrf_token": csrf, "creator_id": str(guest.creator_id), "deliverable_id": slot,
              "price": "850", "message": "We loved your <b>routine</b> videos"}  # fmt: skip

    bad = await http.post(f"/portal/campaigns/{cid}/invitations", data=invite | {"price": "abc"})
    assert bad.status_code == 422
    assert error_of(bad, "price") == "Enter an amount like 1250 or 1250.50."
    assert "We loved your &lt;b&gt;routine&lt;/b&gt; videos</textarea>" in bad.text

    sent = await http.post(f"/portal/campaigns/{cid}/invitations", data=invite)
    assert sent.status_code == 303, sent.text
    page = await http.get(f"/portal/campaigns/{cid}")
    assert f">{name}</a></strong> <small>@" in page.text
    assert "Invited for vertical video (9:16), 30 s" in page.text
    assert "You offered $850.00" in page.text
    [application] = (await http.get(f"/campaigns/{cid}/applications", headers=headers)).json()
    assert (application["origin"], application["status"], application["price_minor"]) == (
        "invitation",
        "pending",
        85_000,
    )
    inbox = (await http.get("/notifications", headers=await login(http, guest.tenant))).json()
    items = inbox["items"] if isinstance(inbox, dict) else inbox
    assert any(n["kind"] == "invitation" for n in items)

    twice = await http.post(f"/portal/campaigns/{cid}/invitations", data=invite)
    assert twice.status_code == 409
    assert "this creator already has an invitation for it" in twice.text


async def test_a_portal_address_that_names_nothing_answers_a_page_and_the_api_answers_json(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    owner, other = make_tenant(engine), make_tenant(engine)
    _, campaign = await api_campaign(http, owner)
    anonymous = await http.get("/portal/no-such-page")
    assert anonymous.status_code == 404
    assert anonymous.headers["content-type"].startswith("text/html")
    assert "Page not found" in anonymous.text and 'href="/portal"' in anonymous.text
    await sign_in(http, other)
    for path in ("/portal/no-such-page", "/portal/campaigns/not-an-id",
                 f"/portal/campaigns/{uuid.uuid4()}",
                 f"/portal/campaigns/{campaign['id']}", f"/portal/campaigns/{campaign['id']}/edit",
                 f"/portal/campaigns/{campaign['id']}/cancel",
                 f"/portal/campaigns/{campaign['id']}/publish"):  # fmt: skip
        page = await http.get(path)
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert "Page not found" in page.text and "Spring glow launch" not in page.text
        assert 'href="/portal/campaigns">Your campaigns</a>' in page.text
    for path in ("/no-such-resource", f"/campaigns/{uuid.uuid4()}"):
        api = await http.get(path, headers=await login(http, other))
        assert api.status_code == 404
        assert api.headers["content-type"] == "application/problem+json"
