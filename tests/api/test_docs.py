"""The interactive API docs are served by the platform: /docs (Swagger UI) and /redoc load
only same-origin assets, which answer with their types; without the installed assets the
pages say how to install them instead of staying blank."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import close_app, create_app
from nexus.settings import Settings

ASSET = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)\"""")
TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


async def _client(
    settings: Settings, engine: Engine, client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, engine=engine, temporal=client)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as http:
        yield http
    await close_app(app)


@pytest.fixture
async def docs_http(
    settings: Settings, engine: Engine, client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _client(settings, engine, client):
        yield http


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_load_only_their_own_assets(docs_http: httpx.AsyncClient, page: str) -> None:
    response = await docs_http.get(page)
    assert response.status_code == 200
    assets = ASSET.findall(response.text)
    assert len(assets) >= 2, assets  # the page's script and favicon at least
    for url in assets:
        assert url.startswith("/static/vendor/"), url
        served = await docs_http.get(url)
        assert served.status_code == 200, url
        assert TYPES[Path(url).suffix] in served.headers["content-type"], url
        assert served.content, url
    # The policy the browser enforces allows no other origin.
    policy = response.headers["content-security-policy"]
    assert "http" not in policy and "*" not in policy, policy


async def test_swagger_ui_starts_against_the_openapi_document(
    docs_http: httpx.AsyncClient,
) -> None:
    page = (await docs_http.get("/docs")).text
    assert "SwaggerUIBundle(" in page and "url: '/openapi.json'" in page
    assert "/campaigns" in (await docs_http.get("/openapi.json")).json()["paths"]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_without_installed_assets_say_how_to_install_them(
    settings: Settings, engine: Engine, client: Client, tmp_path: Path, page: str
) -> None:
    api = settings.api.model_copy(update={"docs_assets_dir": tmp_path / "node_modules"})
    async for http in _client(settings.model_copy(update={"api": api}), engine, client):
        response = await http.get(page)
        assert response.status_code == 503
        assert "text/html" in response.headers["content-type"]
        assert "API docs not installed" in response.text
        assert "make install" in response.text and "npm ci" in response.text
        assert "<script" not in response.text
