"""A creator's profile and portfolio page, and the page a brand sees of a creator who
applied to or was invited to its campaigns."""

from __future__ import annotations

import contextlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import DatabaseDep, Principal
from api.portal.creator import as_creator
from api.portal.web import BrandUser, CreatorId, CreatorUser, Csrf, field_errors, render
from api.routers import creator_profile as profile_api
from api.routers import creators as creators_api
from api.routers.creator_profile import PortfolioLinkCreate, ProfileUpdate
from domain.words import country_name
from nexus.errors import AppError, NotFound

router = APIRouter()

PROFILE_FIELDS = {
    n: n for n in ("display_name", "bio", "country", "niches", "platforms", "languages")
}
LINK_FIELDS = {"url": "url", "title": "title"}
MESSAGES = {
    "country": "Choose a country by its two-letter code, e.g. US, GB or BR.",
    "niches": "Up to 20, each at most 50 characters.",
    "platforms": "Up to 20, each at most 50 characters.",
    "url": "Enter an address starting with https://.",
}


def _words(text: str) -> list[str]:
    return [w.strip() for w in text.split(",") if w.strip()]


async def _page(
    request: Request,
    principal: Principal,
    creator_id: uuid.UUID,
    db: DatabaseDep,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    link_form: dict[str, str] | None = None,
    link_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    creator = as_creator(principal, creator_id)
    profile = await profile_api.get_profile(creator, db)
    portfolio = await profile_api.get_portfolio(creator, db)
    shown = form or {
        "display_name": profile.display_name, "bio": profile.bio, "country": profile.country,
        "niches": ", ".join(profile.niches), "platforms": ", ".join(profile.platforms),
        "languages": ", ".join(profile.languages),
    }  # fmt: skip
    context: dict[str, Any] = {
        "principal": principal, "profile": profile, "portfolio": portfolio, "form": shown,
        "errors": errors or {}, "link_form": link_form or {}, "link_errors": link_errors or {},
        "saved": request.query_params.get("saved") == "1", "max_links": profile_api.MAX_LINKS,
    }  # fmt: skip
    return render(request, "portal/profile.html", context, status_code)


@router.get("/profile")
async def profile_page(
    request: Request, principal: CreatorUser, creator_id: CreatorId, db: DatabaseDep
) -> HTMLResponse:
    return await _page(request, principal, creator_id, db)


@router.post("/profile", response_model=None, dependencies=[Csrf])
async def save_profile(
    request: Request,
    principal: CreatorUser,
    creator_id: CreatorId,
    db: DatabaseDep,
    display_name: Annotated[str, Form(max_length=300)] = "",
    bio: Annotated[str, Form(max_length=3000)] = "",
    country: Annotated[str, Form(max_length=10)] = "",
    niches: Annotated[str, Form(max_length=2000)] = "",
    platforms: Annotated[str, Form(max_length=2000)] = "",
    languages: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    form = {"display_name": display_name, "bio": bio, "country": country, "niches": niches,
            "platforms": platforms, "languages": languages}  # fmt: skip
    try:
        body = ProfileUpdate.model_validate(
            {"display_name": display_name, "bio": bio, "country": country,
             "niches": _words(niches), "platforms": _words(platforms),
             "languages": _words(languages)}
        )  # fmt: skip
    except ValidationError as exc:
        found = field_errors(exc, PROFILE_FIELDS)
        errors = {k: MESSAGES.get(k, v) for k, v in found.items()}
        return await _page(request, principal, creator_id, db, form=form, errors=errors,
                           status_code=422)  # fmt: skip
    await profile_api.update_profile(body, as_creator(principal, creator_id), db)
    return RedirectResponse("/portal/profile?saved=1", status_code=303)


@router.post("/profile/links", response_model=None, dependencies=[Csrf])
async def add_link(
    request: Request,
    principal: CreatorUser,
    creator_id: CreatorId,
    db: DatabaseDep,
    url: Annotated[str, Form(max_length=3000)] = "",
    title: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    link_form = {"url": url, "title": title}
    try:
        body = PortfolioLinkCreate.model_validate({"url": url, "title": title})
        await profile_api.add_link(body, as_creator(principal, creator_id), db)
    except ValidationError as exc:
        found = field_errors(exc, LINK_FIELDS)
        errors = {k: MESSAGES.get(k, v) for k, v in found.items()}
        return await _page(request, principal, creator_id, db, link_form=link_form,
                           link_errors=errors, status_code=422)  # fmt: skip
    except AppError as exc:
        return await _page(request, principal, creator_id, db, link_form=link_form,
                           link_errors=field_errors(exc, LINK_FIELDS),
                           status_code=exc.status)  # fmt: skip
    return RedirectResponse("/portal/profile#portfolio", status_code=303)


@router.post("/profile/links/{link_id}/removal", dependencies=[Csrf])
async def remove_link(
    link_id: uuid.UUID, principal: CreatorUser, creator_id: CreatorId, db: DatabaseDep
) -> RedirectResponse:
    # A link removed meanwhile is gone either way.
    with contextlib.suppress(NotFound):
        await profile_api.remove_link(link_id, as_creator(principal, creator_id), db)
    return RedirectResponse("/portal/profile#portfolio", status_code=303)


@router.get("/creators/{creator_id}")
async def creator_page(
    request: Request, creator_id: uuid.UUID, principal: BrandUser, db: DatabaseDep
) -> HTMLResponse:
    try:
        page = await creators_api.creator_page(creator_id, principal, db)
    except NotFound:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    context = {"principal": principal, "profile": page.profile, "portfolio": page.portfolio,
               "country": country_name(page.profile.country)}  # fmt: skip
    return render(request, "portal/creator_page.html", context)
