"""A draft's caption is held to the disclosure rules of the brief's target markets and posting
platform, in the language the brief or the creator's profile declares: the delivery process
carries them from the brief to its checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from tests.activities.test_photo import phone_photo
from tests.api.delivery_support import Started, started_delivery
from tests.api.test_portal import csrf_from, sign_in
from tests.e2e.support import ok, until, upload
from tests.e2e.test_photo_moderation import PHOTO
from tests.media import sponsored_clip
from tests.support import campaign_body, login, make_creator, make_tenant

# A clear disclosure in the US; in the UK the ASA wants "Ad" or "#ad" up front.
CAPTION = "Sponsored by Glow: my morning routine with Glow serum 30 ml"


async def checked_draft(
    http: httpx.AsyncClient, s: Started, key: str, caption: str
) -> dict[str, Any]:
    """The delivery once the draft of the upload at `key` with `caption` has been checked."""
    body = {"media_key": key, "caption": caption}
    ok(await http.post(f"/deliveries/{s.delivery_id}/drafts", json=body, headers=s.c))

    async def checked() -> dict[str, Any]:
        current = await s.read(http)
        return current if current["stage"] in {"fixing", "in_review"} else {}

    return dict(await until(checked, timeout_s=60))


@pytest.mark.parametrize(("market", "findings"), [("GB", ["caption_disclosure_insufficient"]),
                                                  ("US", [])])  # fmt: skip
async def test_the_briefs_market_chooses_the_disclosure_rules(
    http: httpx.AsyncClient, engine: Engine, market: str, findings: list[str]
) -> None:
    rights = {"platforms": ["tiktok"], "territories": [market]}
    s = await started_delivery(
        http, engine, country=market, target_countries=[market], usage_rights=rights
    )
    found = await checked_draft(http, s, await upload(http, s.c, sponsored_clip()), CAPTION)
    assert [f["code"] for f in found["live"]["findings"]] == findings, found["live"]["findings"]
    assert found["stage"] == ("fixing" if findings else "in_review")


# A Spanish disclosure in a caption too short for the language identifier to tell its language:
# what the brief or the creator's profile declares decides which language it must be in.
SPANISH = "#publicidad Mi Glow serum 30 ml"


@pytest.mark.parametrize(
    ("brief_language", "creator_languages", "findings"),
    [
        ("es", [], []),  # the brief's language
        (None, ["es", "en"], []),  # none in the brief: the one the creator usually posts in
        (None, [], ["caption_disclosure_missing"]),  # nothing declared: read as English
        ("en", ["es"], ["caption_disclosure_missing"]),  # the brief's language comes first
    ],
)
async def test_the_declared_language_is_the_one_the_disclosure_must_be_in(
    http: httpx.AsyncClient,
    engine: Engine,
    tmp_path: Path,
    brief_language: str | None,
    creator_languages: list[str],
    findings: list[str],
) -> None:
    s = await started_delivery(
        http, engine, languages=creator_languages, deliverable=PHOTO, language=brief_language
    )
    key = await upload(http, s.c, phone_photo(tmp_path / "photo.jpg"), "image/jpeg")
    found = await checked_draft(http, s, key, SPANISH)
    assert [f["code"] for f in found["live"]["findings"]] == findings, found["live"]["findings"]

    # The portal's live check as the creator types says the same.
    http.cookies.clear()
    await sign_in(http, s.creator.tenant)
    page = await http.get(f"/portal/deliveries/{s.delivery_id}")
    live = await http.post(
        f"/portal/deliveries/{s.delivery_id}/caption-check",
        data={"caption": SPANISH, "csrf_token": csrf_from(page)},
    )
    assert ("The ad disclosure looks right." in live.text) == (not findings), live.text


async def test_an_unknown_language_is_refused_where_it_is_declared(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    b = await login(http, brand)
    body = campaign_body(brand.brand_id)
    body["brief"]["language"] = "klingon"
    refused = await http.post("/campaigns", json=body, headers=b)
    assert refused.status_code == 422
    [problem] = refused.json()["errors"]
    assert problem["field"] == "body.brief.language"
    assert "not one of the supported languages: en, es, fr" in problem["reason"]
    body["brief"]["language"] = "pt-BR"
    created = ok(await http.post("/campaigns", json=body, headers=b), 201)
    assert created["brief"]["language"] == "pt"

    c = await login(http, make_creator(engine).tenant)
    profile = {"display_name": "Ana", "country": "ES", "languages": ["es", "xx", "es"]}
    refused = await http.put("/creator/profile", json=profile, headers=c)
    assert refused.status_code == 422
    assert [p["field"] for p in refused.json()["errors"]] == ["body.languages.1"]
    profile["languages"] = ["es", "EN", "es"]
    assert ok(await http.put("/creator/profile", json=profile, headers=c))["languages"] == [
        "es",
        "en",
    ]
