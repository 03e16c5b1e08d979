"""Licensing over HTTP on the real dev server: approval grants the brief's rights as a
license; the usage check, publications, certificates and the ledger API answer from it; bad
input (unknown territories, perpetual rights without consent, colliding exclusivity, changing
an ended license, other workspaces) gets a clear error and changes nothing."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pypdf
import pytest
from sqlalchemy import Engine

from activities.licensing.certificate import verify_certificate
from domain.enums import Role
from nexus import cli
from nexus.settings import Settings
from tests.e2e.support import Headers, draft_body, ok, until
from tests.support import (
    CreatorAccount,
    Tenant,
    campaign_body,
    fund,
    login,
    make_creator,
    make_tenant,
)

RIGHTS: dict[str, Any] = {
    "channels": ["organic_social", "paid_social"],
    "platforms": ["TikTok"],
    "territories": ["us", "CA"],
    "term_days": 90,
    "exclusivity_days": 30,
    "exclusivity_category": "Skin care",
}


@dataclass(frozen=True)
class Approved:
    brand: Tenant
    b: Headers
    creator: CreatorAccount
    c: Headers
    delivery_id: str
    license_id: str
    asset_id: str


async def _delivery_for(
    http: httpx.AsyncClient,
    engine: Engine,
    rights: dict[str, Any],
    creator: CreatorAccount | None = None,
) -> tuple[Tenant, Headers, CreatorAccount, Headers, str]:
    """A published campaign with these usage rights; the creator applies and is accepted."""
    brand = make_tenant(engine)
    creator = creator or make_creator(engine)
    b, c = await login(http, brand), await login(http, creator.tenant)
    body = campaign_body(brand.brand_id)
    body["brief"]["usage_rights"] = rights
    body["brief"]["application_deadline"] = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    body["deliverables"][0]["quantity"] = 1
    cid = ok(await http.post("/campaigns", json=body, headers=b), 201)["id"]
    await fund(http, engine, b, cid)
    ok(await http.post(f"/campaigns/{cid}/publish", headers=b))
    listing = ok(await http.get(f"/campaigns/{cid}", headers=b))
    deliverable_id = listing["deliverables"][0]["id"]
    ok(
        await http.post(
            f"/marketplace/campaigns/{cid}/applications",
            json={"deliverable_id": deliverable_id, "pitch": "Yes", "price_minor": 90_000},
            headers=c,
        ),
        201,
    )
    apps = ok(await http.get(f"/campaigns/{cid}/applications", headers=b))
    decided = ok(
        await http.post(
            f"/campaigns/{cid}/applications/{apps[0]['id']}/decision",
            json={"action": "accept"},
            headers=b,
        )
    )
    delivery_id = decided["delivery_id"]

    async def visible() -> bool:
        return (await http.get(f"/deliveries/{delivery_id}", headers=c)).status_code == 200

    await until(visible)
    return brand, b, creator, c, delivery_id


async def approve_one(
    http: httpx.AsyncClient, engine: Engine, rights: dict[str, Any], **accept: Any
) -> Approved:
    brand, b, creator, c, delivery_id = await _delivery_for(http, engine, rights)
    ok(await http.post(f"/deliveries/{delivery_id}/brief-acceptance", json=accept, headers=c))
    ok(
        await http.post(
            f"/deliveries/{delivery_id}/drafts",
            json=await draft_body(http, c),
            headers=c,
        )
    )

    async def in_review() -> bool:
        got = await http.get(f"/deliveries/{delivery_id}", headers=b)
        return bool(got.json()["stage"] == "in_review")

    await until(in_review)
    approved = ok(
        await http.post(
            f"/deliveries/{delivery_id}/review", json={"decision": "approve"}, headers=b
        )
    )
    license_id = approved["live"]["license_id"]
    draft = next(s for s in approved["submissions"] if s["review"] == "approved")

    async def granted() -> bool:
        return (await http.get(f"/licenses/{license_id}", headers=b)).status_code == 200

    await until(granted)
    return Approved(brand, b, creator, c, delivery_id, license_id, draft["id"])


def _check(a: Approved, **query: str) -> dict[str, str]:
    return {"asset_id": a.asset_id, "channel": "paid_social", "territory": "US"} | query


async def test_approval_grants_the_briefs_rights_and_the_usage_check_answers(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    a = await approve_one(http, engine, RIGHTS)
    lic = ok(await http.get(f"/licenses/{a.license_id}", headers=a.b))
    terms = lic["terms"]
    assert (lic["status"], lic["days_left"], lic["asset_id"]) == ("active", 90, a.asset_id)
    assert terms["channels"] == ["organic_social", "paid_social"]
    assert (terms["platforms"], terms["territories"]) == (["tiktok"], ["CA", "US"])
    starts = datetime.fromisoformat(terms["starts_at"])
    ends = datetime.fromisoformat(terms["ends_at"])
    assert ends - starts == timedelta(days=90)
    assert terms["exclusivity"]["category"] == "Skin care"
    assert lic["live"]["status"] == "active"
    assert ok(await http.get(f"/licenses/{a.license_id}", headers=a.c))["id"] == a.license_id
    mine = ok(await http.get(f"/licenses?delivery_id={a.delivery_id}", headers=a.b))
    assert [x["id"] for x in mine] == [a.license_id]

    async def usage(**query: str) -> dict[str, Any]:
        return ok(await http.get("/usage-check", params=_check(a, **query), headers=a.b))  # type: ignore[no-any-return]

    yes = await usage(platform="tiktok")
    assert (yes["allowed"], yes["license_id"], yes["reason"]) == (True, a.license_id, "licensed")
    assert (await usage(channel="broadcast_ooh"))["reason"] == (
        "the license does not grant the broadcast_ooh channel"
    )
    assert (await usage(territory="de"))["reason"] == "the license does not cover territory DE"
    assert (await usage(territory="WW"))["allowed"] is False
    assert (await usage(platform="instagram"))["reason"] == (
        "the license does not grant the instagram platform"
    )
    # The same instant in another zone: one second before and after the end.
    kolkata = timezone(timedelta(hours=5, minutes=30))
    before_end = (ends - timedelta(seconds=1)).astimezone(kolkata).isoformat()
    at_end = ends.astimezone(kolkata).isoformat()
    assert (await usage(at=before_end))["allowed"] is True
    assert (await usage(at=at_end))["reason"].startswith("the license ended at")

    key = ok(
        await http.post(
            "/api-keys", json={"name": "Ad server", "scopes": ["licenses:read"]}, headers=a.b
        ),
        201,
    )
    partner = {"Authorization": f"Bearer {key['key']}"}
    by_key = ok(await http.get("/usage-check", params=_check(a), headers=partner))
    assert by_key["allowed"] is True
    unscoped = await http.post(
        f"/licenses/{a.license_id}/termination", json={"reason": "x"}, headers=partner
    )
    assert unscoped.status_code == 403

    naive = await http.get("/usage-check", params=_check(a, at="2027-01-01T00:00:00"), headers=a.b)
    assert naive.status_code == 422
    unknown = await http.get("/usage-check", params=_check(a, territory="XX"), headers=a.b)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "territories"
    stranger = await login(http, make_tenant(engine))
    foreign = await http.get("/usage-check", params=_check(a), headers=stranger)
    assert foreign.status_code == 404
    assert foreign.headers["content-type"] == "application/problem+json"
    assert (await http.get(f"/licenses/{a.license_id}", headers=stranger)).status_code == 404

    published = ok(
        await http.post(
            f"/assets/{a.asset_id}/publications",
            json={
                "channel": "paid_social",
                "platform": "tiktok",
                "territory": "US",
                "target": "spark-ad-42",
            },
            headers=a.b,
        ),
        201,
    )
    assert (published["status"], published["license_id"]) == ("live", a.license_id)
    outside = await http.post(
        f"/assets/{a.asset_id}/publications",
        json={"channel": "paid_social", "territory": "DE", "target": "meta-ad-7"},
        headers=a.b,
    )
    assert outside.status_code == 409
    assert "does not cover territory DE" in outside.json()["detail"]
    assert ok(await http.get(f"/assets/{a.asset_id}/rights", headers=a.b))["in_rights"] is True
    listed = ok(await http.get(f"/assets/{a.asset_id}/publications", headers=a.b))
    assert [p["target"] for p in listed] == ["spark-ad-42"]


async def test_history_certificate_and_ledger_verify(
    http: httpx.AsyncClient,
    engine: Engine,
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The command line trusts the deployment's own key, as an operator's shell would have it.
    monkeypatch.setenv(
        "NEXUS_LICENSING__LEDGER_SIGNING_KEY",
        settings.licensing.ledger_signing_key.get_secret_value(),
    )
    a = await approve_one(http, engine, RIGHTS)
    history = ok(await http.get(f"/licenses/{a.license_id}/history", headers=a.c))
    assert history["sound"] is True
    assert [e["kind"] for e in history["entries"]] == ["grant"]
    seq = history["entries"][0]["seq"]
    entry = ok(await http.get(f"/ledger/entries/{seq}", headers=a.b))
    assert entry["hash"] == history["entries"][0]["hash"] and entry["problem"] is None
    stranger = await login(http, make_tenant(engine))
    assert (await http.get(f"/ledger/entries/{seq}", headers=stranger)).status_code == 404

    key = ok(await http.get("/ledger/public-key"))
    document = ok(await http.get(f"/licenses/{a.license_id}/certificate.json", headers=a.b))
    assert verify_certificate(document, trusted_public_key=bytes.fromhex(key["public_key"])) == []
    forged = json.loads(json.dumps(document))
    forged["license"]["terms"]["territories"] = ["WW"]
    assert verify_certificate(forged) == [
        "the certificate's signature does not verify (altered or forged)",
        "the license terms differ from its latest ledger entry",
    ]
    assert verify_certificate(document, trusted_public_key=bytes(32)) == [
        "signed with a key other than the trusted ledger key"
    ]
    saved, tampered = tmp_path / "genuine.json", tmp_path / "forged.json"
    saved.write_text(json.dumps(document))
    tampered.write_text(json.dumps(forged))
    assert cli.main(["ledger", "verify-certificate", str(saved)]) == 0
    assert json.loads(capsys.readouterr().out)["problems"] == []
    assert cli.main(["ledger", "verify-certificate", str(tampered)]) == 1
    assert json.loads(capsys.readouterr().out)["ok"] is False

    pdf = await http.get(f"/licenses/{a.license_id}/certificate.pdf", headers=a.c)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(pdf.content))
    assert a.license_id in reader.pages[0].extract_text()
    [(name, [attached])] = reader.attachments.items()
    assert name == f"license-{a.license_id}.json"
    embedded = json.loads(attached)
    assert embedded["entries"] == document["entries"] and verify_certificate(embedded) == []

    assert (await http.get("/ledger/verify", headers=a.b)).status_code == 403
    ops = await login(http, make_tenant(engine, Role.OPS))
    verdict = ok(await http.get("/ledger/verify", headers=ops))
    assert verdict["ok"] is True and verdict["checked"] >= 1


async def test_changes_need_both_parties_and_an_ended_license_changes_no_more(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    a = await approve_one(http, engine, RIGHTS)
    lic = ok(await http.get(f"/licenses/{a.license_id}", headers=a.b))
    ends = datetime.fromisoformat(lic["terms"]["ends_at"])
    before_start = await http.post(
        f"/licenses/{a.license_id}/changes",
        json={"ends_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()},
        headers=a.b,
    )
    assert before_start.status_code == 409
    assert before_start.json()["detail"] == "the new end must be in the future"
    bad_territory = await http.post(
        f"/licenses/{a.license_id}/changes", json={"territories": ["ZZ"]}, headers=a.b
    )
    assert bad_territory.status_code == 422
    renewal = {"ends_at": (ends + timedelta(days=365)).isoformat(), "fee_minor": 40_000}
    proposed = ok(await http.post(f"/licenses/{a.license_id}/changes", json=renewal, headers=a.b))
    assert proposed["live"]["pending_change"]["by"] == "brand"
    own = await http.post(
        f"/licenses/{a.license_id}/changes/answer", json={"accept": True}, headers=a.b
    )
    assert own.status_code == 409
    accepted = ok(
        await http.post(
            f"/licenses/{a.license_id}/changes/answer", json={"accept": True}, headers=a.c
        )
    )
    assert accepted["version"] == 2 and accepted["days_left"] == 90 + 365
    assert accepted["live"]["fees"][0]["amount_minor"] == 40_000

    creator_cannot = await http.post(
        f"/licenses/{a.license_id}/termination", json={"reason": "no"}, headers=a.c
    )
    assert creator_cannot.status_code == 403
    ended = ok(
        await http.post(
            f"/licenses/{a.license_id}/termination", json={"reason": "Pulled"}, headers=a.b
        )
    )
    assert ended["status"] == "terminated" and ended["days_left"] == 0
    out = ok(await http.get(f"/assets/{a.asset_id}/rights", headers=a.b))
    assert out["in_rights"] is False and [x["status"] for x in out["licenses"]] == ["terminated"]
    again = await http.post(f"/licenses/{a.license_id}/changes", json=renewal, headers=a.b)
    assert again.status_code == 409
    assert again.json()["detail"] == "the license is terminated: nothing about it can change"
    kinds = [
        e["kind"]
        for e in ok(await http.get(f"/licenses/{a.license_id}/history", headers=a.b))["entries"]
    ]
    assert kinds == ["grant", "renewal", "termination"]


async def test_perpetual_rights_need_the_creators_explicit_consent(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    perpetual = {"channels": ["website_email"], "term_days": None, "perpetual": True}
    _, _, _, c, delivery_id = await _delivery_for(http, engine, perpetual)
    refused = await http.post(f"/deliveries/{delivery_id}/brief-acceptance", headers=c)
    assert refused.status_code == 409
    assert "perpetual usage rights" in refused.json()["detail"]
    still = ok(await http.get(f"/deliveries/{delivery_id}", headers=c))
    assert still["live"]["next_task"] == "accept_brief"

    a = await approve_one(http, engine, perpetual, accept_perpetual_rights=True)
    lic = ok(await http.get(f"/licenses/{a.license_id}", headers=a.b))
    assert lic["terms"]["ends_at"] is None and lic["terms"]["perpetual_consent"] is True
    assert lic["days_left"] is None and lic["live"]["next_reminder_at"] is None


async def test_an_overlapping_exclusivity_in_the_same_category_is_refused(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    a = await approve_one(http, engine, RIGHTS)
    rival = RIGHTS | {"exclusivity_category": "skin  CARE", "exclusivity_days": 10}
    _, _, _, c, delivery_id = await _delivery_for(http, engine, rival, creator=a.creator)
    refused = await http.post(f"/deliveries/{delivery_id}/brief-acceptance", headers=c)
    assert refused.status_code == 409
    assert "exclusive to another brand in 'skin  CARE'" in refused.json()["detail"]
    assert ok(await http.get(f"/deliveries/{delivery_id}", headers=c))["stage"] == (
        "awaiting_brief_acceptance"
    )
    other = RIGHTS | {"exclusivity_category": "Haircare"}
    _, _, _, c2, fine = await _delivery_for(http, engine, other, creator=a.creator)
    ok(await http.post(f"/deliveries/{fine}/brief-acceptance", headers=c2))


async def test_unknown_territories_and_half_given_exclusivity_are_refused_up_front(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    b = await login(http, brand)
    for rights, field in (
        ({"territories": ["US", "XX"]}, "territories"),
        ({"exclusivity_days": 30}, "usage_rights"),
    ):
        body = campaign_body(brand.brand_id)
        body["brief"]["usage_rights"] = rights
        refused = await http.post("/campaigns", json=body, headers=b)
        assert refused.status_code == 422, refused.text
        assert field in refused.json()["errors"][0]["field"]
    assert ok(await http.get("/campaigns", headers=b))["items"] == []
