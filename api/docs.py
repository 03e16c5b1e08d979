"""The interactive API docs, Swagger UI at /docs and ReDoc at /redoc, with their scripts and
styles served by the platform itself (installed by `npm ci` from package.json), so the docs
work without reaching a CDN."""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI = "/static/vendor/swagger-ui"
REDOC = "/static/vendor/redoc"


def install(app: FastAPI, assets_dir: Path) -> None:
    """Mount the installed dist folders and add the docs pages. Call before the app's own
    /static mount, which would otherwise answer these paths with 404s."""
    swagger_dir = assets_dir / "swagger-ui-dist"
    redoc_dir = assets_dir / "redoc" / "bundles"
    installed = (swagger_dir / "swagger-ui-bundle.js").is_file() and (
        redoc_dir / "redoc.standalone.js"
    ).is_file()
    if installed:
        app.mount(SWAGGER_UI, StaticFiles(directory=swagger_dir), name="vendor-swagger-ui")
        app.mount(REDOC, StaticFiles(directory=redoc_dir), name="vendor-redoc")
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url
    favicon = f"{SWAGGER_UI}/favicon-32x32.png"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        if not installed:
            return _not_installed(assets_dir)
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=oauth2_redirect_url,
            swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url=favicon,
        )

    if oauth2_redirect_url:

        @app.get(oauth2_redirect_url, include_in_schema=False)
        async def swagger_ui_redirect() -> HTMLResponse:
            return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        if not installed:
            return _not_installed(assets_dir)
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{REDOC}/redoc.standalone.js",
            redoc_favicon_url=favicon,
            # Google Fonts is another origin: ReDoc falls back to the system's fonts.
            with_google_fonts=False,
        )


def _not_installed(assets_dir: Path) -> HTMLResponse:
    """Say what to run instead of a blank page, and that the JSON document still works."""
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>API docs not installed</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>API docs not installed</h1>
<p>Swagger UI and ReDoc are served by NEXUS itself and were not found in
<code>{escape(str(assets_dir))}</code>.</p>
<p>Install them with <code>make install</code> (it runs <code>npm ci --ignore-scripts</code>
from the repository's package-lock.json), or point <code>NEXUS_API__DOCS_ASSETS_DIR</code>
at an installed <code>node_modules</code>, then restart the API.</p>
<p>The OpenAPI document itself is at <a href="/openapi.json">/openapi.json</a>.</p>
</body></html>"""
    return HTMLResponse(body, status_code=503)
