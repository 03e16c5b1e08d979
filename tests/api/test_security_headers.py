"""Every answer carries the security headers: API answers, portal pages, static files,
problems, 404s, 413s and 500s; pages get a CSP that allows exactly what they load."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Response
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import close_app, create_app
from api.middleware import API_CSP, portal_csp
from nexus.settings import Settings

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "templates"
COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def client_for(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://nexus.test")


@pytest.fixture
async def app(settings: Settings, engine: Engine, client: Client) -> AsyncIterator[FastAPI]:
    app = create_app(settings, engine=engine, temporal=client)

    async def boom() -> None:
        raise RuntimeError("a bug")

    async def own_policy() -> Response:
        return Response(b"x", headers={"Content-Security-Policy": "sandbox; default-src 'none'"})

    app.add_api_route("/test-boom", boom)
    app.add_api_route("/test-own-policy", own_policy)
    yield app
    await close_app(app)


def csp(response: httpx.Response) -> dict[str, str]:
    directives = (
        d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";")
    )
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives if d[0]}


def assert_secured(response: httpx.Response) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (response.url, name)
    assert "camera=()" in response.headers["permissions-policy"]
    assert csp(response)["frame-ancestors"] == "'none'"
    # Plain http: no HSTS (a browser would pin https for a host that has none).
    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/campaigns", 401),
        ("GET", "/no-such-route", 404),
        ("GET", "/static/portal.js", 200),
        ("GET", "/static/no-such-file.js", 404),
        ("GET", "/portal/login", 200),
        ("GET", "/portal/campaigns", 303),
        ("GET", "/openapi.json", 200),
        ("GET", "/test-boom", 500),
        ("POST", "/auth/login", 422),
    ],
)
async def test_every_kind_of_answer_carries_the_headers(
    app: FastAPI, method: str, path: str, status: int
) -> None:
    async with client_for(app) as http:
        response = await http.request(method, path)

    assert response.status_code == status
    assert_secured(response)
    page = response.headers.get("content-type", "").startswith("text/html")
    if not page:
        assert response.headers["content-security-policy"] == API_CSP


async def test_a_refused_body_carries_the_headers(app: FastAPI, settings: Settings) -> None:
    async with client_for(app) as http:
        response = await http.post("/auth/login", content=b"{" * (settings.api.max_body_bytes + 1))

    assert response.status_code == 413
    assert_secured(response)


async def test_the_portal_cannot_be_framed_and_runs_only_its_own_scripts(app: FastAPI) -> None:
    async with client_for(app) as http:
        page = await http.get("/portal/login")

    policy = csp(page)
    assert policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-src"] == "'none'"
    assert "js.stripe.com" not in page.headers["content-security-policy"]
    # What the page loads is what the policy allows: its own files only.
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/static/") for s in sources), sources


async def test_a_route_that_sets_its_own_policy_keeps_it(app: FastAPI) -> None:
    async with client_for(app) as http:
        response = await http.get("/test-own-policy")

    assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_https_deployments_get_hsts(
    settings: Settings, engine: Engine, client: Client
) -> None:
    api = settings.api.model_copy(update={"public_url": "https://nexus.example"})
    app = create_app(settings.model_copy(update={"api": api}), engine=engine, temporal=client)
    async with client_for(app) as http:
        response = await http.get("/healthz")
    await close_app(app)

    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


def test_stripe_and_the_object_store_are_allowed_only_where_configured() -> None:
    plain = portal_csp(stripe=False, storage_origin=None)
    cards = portal_csp(stripe=True, storage_origin="https://media.example")

    assert "stripe" not in plain and "media.example" not in plain
    directives = dict(d.strip().split(" ", 1) for d in cards.split(";"))
    assert directives["script-src"] == "'self' https://js.stripe.com"
    assert "https://js.stripe.com" in directives["frame-src"]
    assert "https://media.example" in directives["connect-src"]  # presigned uploads
    assert "https://media.example" in directives["media-src"]  # presigned playback


def test_templates_hold_nothing_a_strict_policy_would_block() -> None:
    """No inline scripts, inline styles or event-handler attributes; only Stripe.js comes
    from elsewhere."""
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert not re.search(r"<style\b|\sstyle=", text), template
        assert not re.search(r"\son[a-z]+=", text), template
        assert not re.search(r"\bhx-on", text), template
        for source in re.findall(r'<script[^>]+src="([^"]+)"', text):
            assert source.startswith("/static/") or source == "https://js.stripe.com/v3/"
