"""Creator and ops pages of the portal over HTTP: sign-up and application forms with their
messages, uploads through the session, the check report's timestamps, CSRF and tenancy."""

from __future__ import annotations

import html
import re
import uuid

import httpx
import pytest
from sqlalchemy import Engine

from domain.enums import Role
from models.brands import Brand
from models.db import session_scope
from models.deliveries import Submission
from models.moderation import open_escalation
from nexus.settings import Settings
from tests.api.test_auth import bearer
from tests.api.test_portal import csrf_from, sign_in
from tests.api.test_portal_brand import error_of
from tests.e2e.support import ok, until
from tests.support import (
    CreatorAccount,
    Tenant,
    campaign_body,
    count_rows,
    fund,
    login,
    make_creator,
    make_delivered_asset,
    make_tenant,
)

# Passes the password rules (domain/passwords.py): long, uncommon, not the e-mail.
SIGN_UP_PASSWORD = "quiet river lantern 7"
# The origin the test client's pages come from, as a browser's come from the public URL.
PUBLIC_URL = "http://nexus.test"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    api = settings.api.model_copy(update={"public_url": PUBLIC_URL})
    return settings.model_copy(update={"api": api})


async def test_sign_up_checks_each_field_then_sends_the_creator_to_sign_in(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    taken = make_creator(engine)
    csrf = csrf_from(await http.get("/portal/signup"))
    form = {
        "csrf_token": csrf, "name": "<Ana>", "email": "not-an-email", "password": "short",
        "handle": "Ana Makes!", "country": "USA", "niches": "Beauty, skincare",
        "platforms": "tiktok",
    }  # fmt: skip
    page = await http.post("/portal/signup", data=form)
    assert page.status_code == 400
    assert "name@example.com" in error_of(page, "email")
    assert "at least 12 characters" in error_of(page, "password")
    assert "lowercase letters" in error_of(page, "handle")
    assert "Two capital letters" in error_of(page, "country")
    assert 'value="&lt;Ana&gt;"' in page.text
    assert "short" not in page.text  # a password is never echoed
    page = await http.post("/portal/signup", data=form | {"name": "Ana\x00", "email": "a\x00@b.co"})
    assert page.status_code == 400
    assert "control characters" in error_of(page, "name")
    assert "name@example.com" in error_of(page, "email")

    taken_handle = "creator" + taken.email.split("@")[0].removeprefix("creator-")
    form |= {"email": f"ana-{uuid.uuid4().hex[:6]}@example.com", "password": SIGN_UP_PASSWORD,
             "handle": taken_handle, "country": "us"}  # fmt: skip
    page = await http.post("/portal/signup", data=form)
    assert error_of(page, "handle") == "This handle is taken already."

    form["handle"] = "ana.makes"
    done = await http.post("/portal/signup", data=form)
    assert done.status_code == 200
    assert "Check your inbox" in done.text
    assert "nexus_session" not in done.headers.get("set-cookie", "")
    me = await http.post("/auth/login", json={"email": form["email"], "password": SIGN_UP_PASSWORD})
    assert me.json()["role"] == "creator"
    inbox = (await http.get("/notifications", headers=bearer(me.json()["access_token"]))).json()
    assert [n["title"] for n in inbox] == ["Welcome to NEXUS"]


async def test_sign_up_answers_the_same_whether_the_email_has_an_account(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    known = make_creator(engine)
    csrf = csrf_from(await http.get("/portal/signup"))
    form = {"csrf_token": csrf, "name": "Ana", "password": SIGN_UP_PASSWORD, "country": "US",
            "niches": "beauty", "platforms": "tiktok"}  # fmt: skip

    new = await http.post(
        "/portal/signup",
        data=form | {"email": f"new-{uuid.uuid4().hex[:6]}@example.com", "handle": "ana.new"},
    )
    existing = await http.post(
        "/portal/signup", data=form | {"email": known.tenant.email.upper(), "handle": "ana.known"}
    )

    assert (existing.status_code, existing.text) == (new.status_code, new.text)
    assert "taken" not in existing.text
    # The account holder hears of it; their account and password are as they were.
    holder = await login(http, known.tenant)
    inbox = (await http.get("/notifications", headers=holder)).json()
    assert [n["title"] for n in inbox] == ["Someone tried to sign up with your e-mail"]
    refused = await http.post(
        "/auth/login", json={"email": known.tenant.email, "password": SIGN_UP_PASSWORD}
    )
    assert refused.status_code == 401
    # The handle of the refused sign-up stays free.
    again = await http.post(
        "/portal/signup",
        data=form | {"email": f"other-{uuid.uuid4().hex[:6]}@example.com", "handle": "ana.known"},
    )
    assert again.status_code == 200


async def test_sign_up_refuses_control_characters_in_niches_and_platforms(
    http: httpx.AsyncClient,
) -> None:
    # A NUL in a niche used to reach PostgreSQL and answer 500.
    csrf = csrf_from(await http.get("/portal/signup"))
    form = {"csrf_token": csrf, "name": "Ana", "password": SIGN_UP_PASSWORD, "country": "US",
            "email": f"nul-{uuid.uuid4().hex[:6]}@example.com", "handle": "ana.nul"}  # fmt: skip
    for hostile in ({"niches": "be\x00auty", "platforms": "tiktok"},
                    {"niches": "beauty", "platforms": "tik\x1btok"}):  # fmt: skip
        refused = await http.post("/portal/signup", data=form | hostile)
        assert refused.status_code == 400, refused.text
        assert "control characters" in refused.text
    accepted = await http.post("/portal/signup", data=form | {"niches": "beauty", "platforms": "x"})
    assert accepted.status_code == 200


async def test_applying_countering_and_accepting_the_offer_through_the_forms(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    creator = make_creator(engine, niches=["beauty"])
    headers = await login(http, brand)
    body = campaign_body(brand.brand_id)
    body["brief"] |= {"application_deadline": "2099-01-01T00:00:00Z"}
    cid = (await http.post("/campaigns", json=body, headers=headers)).json()["id"]
    await fund(http, engine, headers, cid)
    assert (await http.post(f"/campaigns/{cid}/publish", headers=headers)).status_code == 200

    await sign_in(http, creator.tenant)
    page = await http.get("/portal/marketplace")
    assert "Spring glow launch" in page.text
    page = await http.get(f"/portal/marketplace/{cid}")
    deliverable = page.text.split('name="deliverable_id" value="')[1].split('"')[0]
    data = {"csrf_token": csrf_from(page), "deliverable_id": deliverable, "pitch": " ",
            "price": "9.999"}  # fmt: skip
    bad = await http.post(f"/portal/marketplace/{cid}/applications", data=data)
    assert bad.status_code == 422
    assert "decimals" in error_of(bad, "price")
    assert error_of(bad, "pitch") == "Tell the brand in a few words why you are a good fit."
    data |= {"price": "900", "pitch": "<b>I love serums</b>"}
    done = await http.post(f"/portal/marketplace/{cid}/applications", data=data)
    assert done.status_code == 303
    listing = await http.get("/portal/applications")
    assert "Waiting for the brand's answer" in visible(listing)
    assert "$900.00" in listing.text
    # Applied for its only deliverable: the campaign is no longer offered to this creator.
    assert "Spring glow launch" not in (await http.get("/portal/marketplace")).text
    again = await http.post(f"/portal/marketplace/{cid}/applications", data=data)
    assert again.status_code == 422
    assert "You have already applied for this deliverable" in again.text

    await sign_in(http, brand)
    campaign_page = await http.get(f"/portal/campaigns/{cid}")
    assert "&lt;b&gt;I love serums&lt;/b&gt;" in campaign_page.text
    [application] = ok(await http.get(f"/campaigns/{cid}/applications", headers=headers))
    decide = f"/portal/campaigns/{cid}/applications/{application['id']}/decision"
    counter = {"csrf_token": csrf_from(campaign_page), "action": "counter", "counter_price": ""}
    missing = await http.post(decide, data=counter)
    assert missing.status_code == 400
    assert "Enter the price you offer instead." in missing.text
    countered = await http.post(decide, data={**counter, "counter_price": "850"})
    assert countered.status_code == 303

    await sign_in(http, creator.tenant)
    offers = await http.get("/portal/applications")
    assert "The brand offers $850.00" in visible(offers)
    assert "The brand offers another price: accept or decline" in visible(offers)
    answer = f"/portal/applications/{application['id']}/response"
    accepted = await http.post(answer, data={"csrf_token": csrf_from(offers), "accept": "yes"})
    assert accepted.status_code == 303
    mine = ok(await http.get("/creator/applications", headers=await login(http, creator.tenant)))
    assert (mine[0]["status"], mine[0]["counter_price_minor"]) == ("accepted", 85_000)


async def test_uploads_go_through_the_session_with_csrf_and_stay_in_the_workspace(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    creator = make_creator(engine)
    await sign_in(http, creator.tenant)
    csrf = csrf_from(await http.get("/portal/work"))
    ticket_body = {"filename": "../my clip.mp4", "content_type": "video/mp4", "size_bytes": 5}
    refused = await http.post("/portal/uploads", json=ticket_body)
    assert refused.status_code == 403
    # Built from the configured public URL, whatever Host the request names.
    spoofed = {"X-CSRF-Token": csrf, "Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    ticket = await http.post("/portal/uploads", json=ticket_body, headers=spoofed)
    assert ticket.status_code == 201, ticket.text
    key, [url] = ticket.json()["key"], ticket.json()["urls"]
    assert key.startswith(f"uploads/{creator.workspace_id}/")
    assert url == f"{PUBLIC_URL}/portal/uploads/content/{key}"
    assert (await http.put(url, content=b"video")).status_code == 403  # no token
    put = await http.put(url, content=b"video", headers={"X-CSRF-Token": csrf})
    assert put.status_code == 201, put.text
    assert put.json() == {"key": key, "size_bytes": 5}

    other = make_creator(engine)
    await sign_in(http, other.tenant)
    csrf = csrf_from(await http.get("/portal/work"))
    foreign = await http.put(url, content=b"overwrite", headers={"X-CSRF-Token": csrf})
    assert foreign.status_code == 404
    bad = await http.post(
        "/portal/uploads", json={**ticket_body, "content_type": "text/html"},
        headers={"X-CSRF-Token": csrf},
    )  # fmt: skip
    assert bad.status_code == 422


async def test_a_form_encoded_upload_request_is_a_problem_not_a_crash(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    await sign_in(http, make_creator(engine).tenant)
    csrf = csrf_from(await http.get("/portal/work"))
    fields = {"filename": "clip.mp4", "content_type": "video/mp4", "size_bytes": "5"}
    # The token in the form (as a plain HTML form sends it), or in the header.
    for data, headers in (({**fields, "csrf_token": csrf}, {}), (fields, {"X-CSRF-Token": csrf})):
        refused = await http.post("/portal/uploads", data=data, headers=headers)
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert "JSON" in refused.json()["detail"]
    as_text = {"X-CSRF-Token": csrf, "Content-Type": "text/plain"}
    assert (await http.post("/portal/uploads", content=b"{}", headers=as_text)).status_code == 422
    as_json = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
    broken = await http.post("/portal/uploads", content=b"{", headers=as_json)
    assert broken.status_code == 422
    assert broken.headers["content-type"] == "application/problem+json"


async def test_the_check_report_links_findings_to_their_moment_and_escapes_them(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    creator = make_creator(engine)
    asset = make_delivered_asset(engine, brand, creator)
    finding = {"code": "garm_arms", "severity": "warn",
               "message": '"gun" at 1:07 touches the <b>arms</b> category'}  # fmt: skip
    with session_scope(engine) as session:
        row = session.get(Submission, asset.asset_id)
        assert row is not None
        row.findings, row.text = [finding], "<script>x</script>"
        session.add(row)

    await sign_in(http, brand)
    page = await http.get(f"/portal/deliveries/{asset.delivery_id}")
    assert page.status_code == 200
    assert 'data-seek="67"' in page.text
    assert "Play from 1:07" in page.text
    assert "&lt;b&gt;arms&lt;/b&gt;" in page.text
    assert "<script>x" not in page.text
    assert f'src="/portal/media/{asset.delivery_id}/{asset.asset_id}"' in page.text

    outsider = make_tenant(engine)
    await sign_in(http, outsider)
    assert (await http.get(f"/portal/deliveries/{asset.delivery_id}")).status_code == 404
    media = await http.get(f"/portal/media/{asset.delivery_id}/{asset.asset_id}")
    assert media.status_code == 404
    await sign_in(http, make_creator(engine).tenant)
    assert (await http.get(f"/portal/deliveries/{asset.delivery_id}")).status_code == 404


async def test_creator_steps_refuse_forged_tokens_and_foreign_uploads(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    creator = make_creator(engine)
    asset = make_delivered_asset(engine, brand, creator)
    await sign_in(http, creator.tenant)
    page = await http.get(f"/portal/deliveries/{asset.delivery_id}")
    assert page.status_code == 200
    path = f"/portal/deliveries/{asset.delivery_id}/submissions"
    forged = await http.post(path, data={"csrf_token": "x", "media_key": "k", "kind": "final"})
    assert forged.status_code == 403
    foreign_key = f"uploads/{brand.workspace_id}/clip.mp4"
    response = await http.post(
        path, data={"csrf_token": csrf_from(page), "media_key": foreign_key, "kind": "final"}
    )
    assert response.status_code == 422
    assert 'id="video-error"' in response.text


async def test_ops_console_validates_the_decision_and_keeps_others_out(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    escalated = uuid.uuid4()
    with session_scope(engine) as session:
        open_escalation(session, escalated, "review_overdue", "No decision in 4 h: <gun>")
    await sign_in(http, make_tenant(engine, Role.OPS))
    page = await http.get("/portal/ops")
    assert page.status_code == 200
    assert "No video waits for a human decision." in page.text
    assert "review overdue</strong> · a video uploaded directly · " in page.text
    assert f'href="/portal/ops/moderation/{escalated}">open the case</a>' in page.text
    assert "No decision in 4 h: &lt;gun&gt;" in page.text
    assert f'href="http://127.0.0.1:8233/namespaces/default/workflows/moderation-{escalated}"' in (
        page.text
    )
    asset_id = uuid.uuid4()
    path = f"/portal/ops/moderation/{asset_id}/review"
    assert (await http.post(path, data={"decision": "pass", "reason": "ok"})).status_code == 403
    bad = await http.post(path, data={"csrf_token": csrf_from(page), "decision": "maybe"})
    assert bad.status_code == 422
    assert "Choose approve or reject." in bad.text
    gone = await http.post(
        path, data={"csrf_token": csrf_from(page), "decision": "pass", "reason": "fine"}
    )
    assert gone.status_code == 409
    assert "already finished" in gone.text

    await sign_in(http, make_tenant(engine))
    assert (await http.get("/portal/ops")).headers["location"] == "/portal"


# --- the brief, before applying and when accepting it --------------------------------------

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FULL_BRIEF = {
    "product": "Glow serum 30 ml",
    "objective": "Awareness among 18-34 skincare buyers",
    "target_audience": "Busy commuters who want skincare in two minutes",
    "hooks": ["My 2-minute morning glow"],
    "dos": ["Show the texture on skin"],
    "donts": ["Film in a bathroom mirror"],
    "mandatory_mentions": ["Glow serum"],
    "banned_claims": ["cures acne"],
    "disclosure_required": True,
    "revision_rounds": 3,
    "review_window_days": 5,
    "ships_product": True,
    "script_required": True,
    "usage_rights": {
        "channels": ["organic_social", "paid_social"],
        "platforms": ["tiktok", "instagram"],
        "territories": ["US", "DE"],
        "term_days": None,
        "perpetual": True,
        "exclusivity_days": 90,
        "exclusivity_category": "skincare",
        "modification": "derivative",
        "fee_minor": 20_000,
    },
}


ACCEPT_BUTTON = '<button type="submit">Accept the brief and its usage rights</button>'


def name_of(engine: Engine, tenant: Tenant) -> str:
    with session_scope(engine) as session:
        brand = session.get(Brand, tenant.brand_id)
        assert brand is not None
        return brand.name


def visible(page: httpx.Response | str) -> str:
    """What a person reads on the page: its text without tags and attributes."""
    text = page if isinstance(page, str) else page.text
    body = text.split("<main", 1)[1].split(">", 1)[1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


async def open_campaign(
    http: httpx.AsyncClient,
    engine: Engine,
    brand: Tenant,
    *,
    quantity: int = 1,
    square: bool = False,
) -> tuple[str, dict[str, str], dict[str, str]]:
    """A funded, published campaign with the full brief: `quantity` vertical videos (and one
    square video); its id, its deliverables' ids by format and the brand's headers."""
    headers = await login(http, brand)
    body = campaign_body(brand.brand_id)
    body["brief"] = FULL_BRIEF | {
        "application_deadline": "2099-01-01T00:00:00Z",
        "delivery_deadline": "2099-03-15T12:00:00Z",
    }
    body["deliverables"][0]["quantity"] = quantity
    if square:
        body["deliverables"].append({"format": "video_1x1", "price_minor": 60_000})
    campaign = ok(await http.post("/campaigns", json=body, headers=headers), 201)
    await fund(http, engine, headers, campaign["id"])
    ok(await http.post(f"/campaigns/{campaign['id']}/publish", headers=headers))
    ids = {d["format"]: d["id"] for d in campaign["deliverables"]}
    return campaign["id"], ids, headers


async def apply_in_portal(
    http: httpx.AsyncClient, cid: str, deliverable: str, price: str = "900"
) -> httpx.Response:
    page = await http.get(f"/portal/marketplace/{cid}")
    data = {"csrf_token": csrf_from(page), "deliverable_id": deliverable,
            "pitch": "Morning routines are my thing", "price": price}  # fmt: skip
    return await http.post(f"/portal/marketplace/{cid}/applications", data=data)


async def test_the_marketplace_card_names_the_brand_and_its_terms_and_full_campaigns_go(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    alice, bob, carol = make_creator(engine), make_creator(engine), make_creator(engine)
    cid, ids, headers = await open_campaign(http, engine, brand, square=True)
    vertical, square = ids["video_9x16"], ids["video_1x1"]
    brand_name = name_of(engine, brand)

    await sign_in(http, bob.tenant)
    page = await http.get("/portal/marketplace")
    card = visible(page).split("Spring glow launch", 1)[1]
    assert brand_name in visible(page)
    for words in (
        "1 \N{MULTIPLICATION SIGN} vertical video (9:16), 30 s, $1,000.00 (1 place open)",
        "1 \N{MULTIPLICATION SIGN} square video (1:1), $600.00 (1 place open)",
        "organic social posts and paid social ads", "Instagram and TikTok",
        "Germany and the United States", "perpetual: forever",
        "90 days in skincare", "may be edited and made into new ads",
        "$200.00 on top of the price", "Apply by 1 January 2099", "Delivery due 15 March 2099",
        "Product shipped yes", "Script first yes",
    ):  # fmt: skip
        assert words in card, words
    assert not UUID.search(visible(page))
    assert "video_9x16" not in page.text

    b = await login(http, bob.tenant)
    [listed] = [
        c for c in ok(await http.get("/marketplace/campaigns", headers=b)) if c["id"] == cid
    ]
    assert listed["brand_name"] == brand_name
    summaries = {d["id"]: (d["summary"], d["open_slots"]) for d in listed["deliverables"]}
    assert summaries[vertical] == (
        "1 \N{MULTIPLICATION SIGN} vertical video (9:16), 30 s, $1,000.00",
        1,
    )
    rights = {line["key"]: line["text"] for line in listed["usage_rights_summary"]}
    assert rights["territories"] == "Germany and the United States"
    assert rights["exclusivity"].startswith("90 days in skincare")

    async def accept(creator: CreatorAccount, deliverable: str) -> None:
        await sign_in(http, creator.tenant)
        assert (await apply_in_portal(http, cid, deliverable)).status_code == 303
        apps = ok(await http.get(f"/campaigns/{cid}/applications", headers=headers))
        [app] = [a for a in apps if a["creator_id"] == str(creator.creator_id)]
        ok(await http.post(f"/campaigns/{cid}/applications/{app['id']}/decision",
                           json={"action": "accept"}, headers=headers))  # fmt: skip

    # Alice takes the vertical video's only slot: Bob is offered the square one only.
    await accept(alice, vertical)
    await sign_in(http, bob.tenant)
    card = visible(await http.get("/portal/marketplace")).split("Spring glow launch", 1)[1]
    assert "30 s, $1,000.00 (all places taken)" in card
    brief_page = await http.get(f"/portal/marketplace/{cid}")
    assert f'name="deliverable_id" value="{square}"' in brief_page.text
    assert f'name="deliverable_id" value="{vertical}"' not in brief_page.text
    refused = await http.post(
        f"/marketplace/campaigns/{cid}/applications",
        json={"deliverable_id": vertical, "pitch": "Me too", "price_minor": 50_000},
        headers=b,
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "Every creator slot for this deliverable is taken; choose another deliverable."
    )
    in_portal = await apply_in_portal(http, cid, vertical)
    assert in_portal.status_code == 422
    assert "Every creator slot for this deliverable is taken" in in_portal.text

    # Bob takes the square video's slot: the campaign is full, and offered to nobody.
    await accept(bob, square)
    await sign_in(http, carol.tenant)
    assert "Spring glow launch" not in (await http.get("/portal/marketplace")).text
    c = await login(http, carol.tenant)
    assert cid not in {c["id"] for c in ok(await http.get("/marketplace/campaigns", headers=c))}
    # A link kept from before shows the brief, says why, and offers no form.
    brief_page = await http.get(f"/portal/marketplace/{cid}")
    assert "every creator slot is taken" in brief_page.text
    assert 'name="pitch"' not in brief_page.text
    late = await http.post(
        f"/marketplace/campaigns/{cid}/applications",
        json={"deliverable_id": square, "pitch": "Me too", "price_minor": 50_000},
        headers=c,
    )
    assert late.status_code == 409
    assert late.json()["detail"] == (
        "This campaign is not taking applications any more: every creator slot is taken."
    )
    assert count_rows(engine, "applications") == 2


async def test_the_brief_page_shows_every_term_and_takes_the_application(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    creator = make_creator(engine)
    cid, ids, headers = await open_campaign(http, engine, brand, quantity=2)
    deliverable = ids["video_9x16"]
    brand_name = name_of(engine, brand)
    await sign_in(http, creator.tenant)

    page = await http.get(f"/portal/marketplace/{cid}")
    assert page.status_code == 200
    text = visible(page)
    for words in (
        brand_name, "Glow serum 30 ml", "Awareness among 18-34 skincare buyers",
        "Busy commuters who want skincare in two minutes", "My 2-minute morning glow",
        "Show the texture on skin", "Film in a bathroom mirror", "Must mention Glow serum",
        "Never claim or say cures acne", "Paid-partnership disclosure Required",
        "The brand ships the product to you", "The brand approves a script before you film",
        "Up to 3 rounds of changes", "Within 5 days of each draft",
        "Applications close 1 January 2099, 00:00 UTC", "Delivery due 15 March 2099, 12:00 UTC",
        "2 \N{MULTIPLICATION SIGN} vertical video (9:16), 30 s, $1,000.00 each",
        "Countries Germany and the United States", "perpetual: forever",
        "Exclusivity 90 days in skincare", "Paid usage fee $200.00 on top of the price",
    ):  # fmt: skip
        assert words in text, words
    assert not UUID.search(text)
    assert f'name="deliverable_id" value="{deliverable}" checked' in page.text

    data = {"csrf_token": csrf_from(page), "deliverable_id": "", "pitch": "", "price": ""}
    bad = await http.post(f"/portal/marketplace/{cid}/applications", data=data)
    assert bad.status_code == 422
    assert error_of(bad, "deliverable_id") == "Choose the deliverable you apply for."
    assert error_of(bad, "price") == "Enter the price you ask, for example 750 or 750.50."
    assert "Glow serum 30 ml" in bad.text  # the brief stays on the page
    unknown = await http.post(
        f"/portal/marketplace/{cid}/applications",
        data=data | {"deliverable_id": str(uuid.uuid4()), "pitch": "Hi", "price": "800"},
    )
    assert error_of(unknown, "deliverable_id") == "Choose one of the deliverables listed above."
    assert count_rows(engine, "applications") == 0

    assert (await apply_in_portal(http, cid, deliverable, "950.50")).status_code == 303
    mine = await http.get("/portal/applications")
    text = visible(mine)
    for words in (brand_name, "Spring glow launch", "Applied for vertical video (9:16), 30 s",
                  "You asked $950.50", "Waiting for the brand's answer"):  # fmt: skip
        assert words in text, words
    assert not UUID.search(text)
    assert "pending" not in text

    # An invitation-only campaign has no public brief page.
    body = campaign_body(brand.brand_id, visibility="invite_only")
    private = ok(await http.post("/campaigns", json=body, headers=headers), 201)
    assert (await http.get(f"/portal/marketplace/{private['id']}")).status_code == 404


async def test_accepting_the_brief_shows_it_and_perpetual_rights_need_the_box(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    creator = make_creator(engine)
    cid, ids, headers = await open_campaign(http, engine, brand)
    deliverable = ids["video_9x16"]
    await sign_in(http, creator.tenant)
    assert (await apply_in_portal(http, cid, deliverable)).status_code == 303
    [application] = ok(await http.get(f"/campaigns/{cid}/applications", headers=headers))
    accepted = ok(
        await http.post(f"/campaigns/{cid}/applications/{application['id']}/decision",
                        json={"action": "accept"}, headers=headers)
    )  # fmt: skip
    delivery = f"/portal/deliveries/{accepted['delivery_id']}"

    async def waiting() -> bool:
        return ACCEPT_BUTTON in (await http.get(delivery)).text

    await until(waiting)
    page = await http.get(delivery)
    text = visible(page)
    before_button = visible(page.text.split(ACCEPT_BUTTON)[0])
    for words in (f"Brand {name_of(engine, brand)}", "Glow serum 30 ml",
                  "Deliverables vertical video (9:16), 30 s, $900.00 agreed",
                  "Never claim or say cures acne",
                  "Countries Germany and the United States", "perpetual: forever",
                  "Exclusivity 90 days in skincare"):  # fmt: skip
        assert words in before_button, words
    assert "I grant these usage rights forever (perpetual)" in text

    path = f"{delivery}/brief-acceptance"
    refused = await http.post(path, data={"csrf_token": csrf_from(page)})
    assert refused.status_code == 422
    assert error_of(refused, "accept_perpetual_rights").startswith("Tick the box")
    assert "awaiting brief acceptance" in refused.text
    done = await http.post(
        path, data={"csrf_token": csrf_from(page), "accept_perpetual_rights": "yes"}
    )
    assert done.status_code == 303
    after = await http.get(delivery)
    assert ACCEPT_BUTTON not in after.text
    assert "Never claim or say" not in after.text  # the brief shows while it awaits acceptance
