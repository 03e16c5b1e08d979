"""POST /compliance/preflight: creators and partner keys check a caption before upload and get
each finding with the rule it cites; bad input gets a 422 naming the field."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import close_app, create_app
from nexus.settings import ApiSettings, Settings
from tests.api.delivery_support import started_delivery
from tests.api.test_portal import csrf_from, sign_in
from tests.support import login, make_creator, make_tenant

URL = "/compliance/preflight"


async def test_a_creator_gets_findings_with_their_rules(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    creator = make_creator(engine)
    headers = await login(http, creator.tenant)
    denied = await http.post(
        URL,
        json={"caption": "Not sponsored, I just love Glow", "brand": "Glow", "markets": ["US"]},
        headers=headers,
    )
    assert denied.status_code == 200, denied.text
    body = denied.json()
    assert body["passed"] is False
    [finding] = body["findings"]
    assert (finding["code"], finding["rule"], finding["severity"]) == (
        "disclosure_denied",
        "ftc-465-fake-review",
        "block",
    )
    assert finding["span"] == [0, 13]  # "Not sponsored"

    spanish = "Mi rutina de la mañana con el sérum de Glow, me deja la piel tranquila"
    wrong = (
        await http.post(URL, json={"caption": f"#ad {spanish}", "language": "es"}, headers=headers)
    ).json()
    assert [f["code"] for f in wrong["findings"]] == ["disclosure_wrong_language"]
    right = await http.post(
        URL, json={"caption": f"#publicidad {spanish}", "language": "es"}, headers=headers
    )
    assert right.json()["passed"] is True

    uk = await http.post(
        URL,
        json={"caption": "Loving the new Glow serum on my morning walk #ad", "markets": ["GB"]},
        headers=headers,
    )
    assert [(f["code"], f["rule"]) for f in uk.json()["findings"]] == [
        ("disclosure_not_upfront", "asa-cap-2.1-upfront")
    ]


async def test_a_partner_key_needs_the_deliveries_write_scope(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    headers = await login(http, admin)
    keys = {}
    for scope in ("deliveries:write", "deliveries:read"):
        made = await http.post(
            "/api-keys", headers=headers, json={"name": scope, "scopes": [scope]}
        )
        assert made.status_code == 201, made.text
        keys[scope] = made.json()["key"]
    body = {"caption": "#ad my morning routine with Glow", "brand": "Glow"}
    ok = await http.post(
        URL, json=body, headers={"Authorization": f"Bearer {keys['deliveries:write']}"}
    )
    assert (ok.status_code, ok.json()["passed"]) == (200, True)
    refused = await http.post(
        URL, json=body, headers={"Authorization": f"Bearer {keys['deliveries:read']}"}
    )
    assert refused.status_code == 403
    assert (await http.post(URL, json=body, headers=headers)).status_code == 403  # a brand user


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"caption": ""}, "body.caption"),
        ({"caption": "x" * 5001}, "body.caption"),
        ({"caption": "\x00\x01\x02binary"}, "body.caption"),
        ({"caption": "#ad hi", "language": "klingon"}, "body.language"),
        ({"caption": "#ad hi", "markets": ["US", "Atlantis"]}, "body.markets"),
        ({"caption": "#ad hi", "platform": "myspace"}, "body.platform"),
        (
            {"caption": "#ad hi", "transcript": [{"text": "ad", "start_s": -1, "end_s": 1}]},
            "body.transcript.0.start_s",
        ),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    http: httpx.AsyncClient, engine: Engine, body: dict[str, object], field: str
) -> None:
    creator = make_creator(engine)
    response = await http.post(URL, json=body, headers=await login(http, creator.tenant))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_a_100_kb_caption_is_a_422_naming_the_caption(
    settings: Settings, engine: Engine, client: Client
) -> None:
    """Under the API's default body limit (1 MiB) the caption is read and refused by its own
    limit; past the body limit (the tests' 64 KiB) it is refused before it is read."""
    creator = make_creator(engine)
    caption = {"caption": "#ad " * 25_000}
    for limit, status in ((ApiSettings().max_body_bytes, 422), (64 * 1024, 413)):
        api = settings.api.model_copy(update={"max_body_bytes": limit})
        app = create_app(settings.model_copy(update={"api": api}), engine=engine, temporal=client)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as http:
            headers = await login(http, creator.tenant)
            response = await http.post(URL, json=caption, headers=headers)
            assert response.status_code == status, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            if status == 422:
                [error] = response.json()["errors"]
                assert error["field"] == "body.caption"
                assert "at most" in error["reason"]
            # The worker is still there for the next caption.
            fine = await http.post(URL, json={"caption": "#ad fine"}, headers=headers)
            assert fine.status_code == 200
        await close_app(app)


async def test_the_portal_checks_the_caption_as_the_creator_types(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    s = await started_delivery(http, engine, target_countries=["US", "GB"])
    http.cookies.clear()
    await sign_in(http, s.creator.tenant)
    page = await http.get(f"/portal/deliveries/{s.delivery_id}")
    assert 'hx-post="/portal/deliveries/' in page.text and "caption-check" in page.text
    token = csrf_from(page)
    path = f"/portal/deliveries/{s.delivery_id}/caption-check"

    denied = await http.post(
        path, data={"caption": "Not sponsored, I just love it", "csrf_token": token}
    )
    assert denied.status_code == 200
    assert "Ad disclosure: the caption says it isn&#39;t an ad" in denied.text
    assert "disclosure_denied" not in denied.text  # words, never codes
    # The brief targets the UK too: "Sponsored" is not the ASA's "Ad".
    sponsored = await http.post(
        path, data={"caption": "Sponsored: my routine", "csrf_token": token}
    )
    assert "Marketing communications are obviously identifiable" in sponsored.text
    good = await http.post(path, data={"caption": "#ad my routine", "csrf_token": token})
    assert "The ad disclosure looks right." in good.text
    long = await http.post(path, data={"caption": "x" * 5000, "csrf_token": token})
    assert "Keep the caption under 4,400 characters." in long.text

    # Another creator's delivery is not theirs to check.
    http.cookies.clear()
    other = make_creator(engine)
    await sign_in(http, other.tenant)
    page = await http.get("/portal", follow_redirects=True)
    header = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
    assert header is not None
    refused = await http.post(path, data={"caption": "#ad"}, headers={"X-CSRF-Token": header[1]})
    assert refused.status_code == 404
