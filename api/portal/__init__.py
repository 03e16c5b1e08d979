"""Server-rendered portal (Jinja2 + htmx): brand, creator and ops pages over the same
endpoint functions the JSON API serves."""

from __future__ import annotations

from fastapi import APIRouter

from api.portal import auth, brand, creator, media, ops

router = APIRouter(include_in_schema=False)
for _pages in (auth.router, brand.router, creator.router, media.router, ops.router):
    router.include_router(_pages, prefix="/portal")
