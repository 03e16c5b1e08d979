"""Sign-up pages for creators, brands and agencies, the page an e-mailed verification link
opens, and asking for a new link. Each calls the JSON API's own sign-up and verification
(api.routers.signup), so both answer alike: the same page whether or not the e-mail has an
account."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError

from api.deps import DatabaseDep, Principal
from api.portal.web import (
    BrandAdmin,
    BrandUser,
    Csrf,
    MaybeSignedIn,
    SignedIn,
    csrf_ok,
    field_errors,
    render,
    render_form,
)
from api.problems import human_reason
from api.routers import brands as brands_api
from api.routers import signup as signup_api
from api.routers.signup import HandleTaken, SignUp
from api.schemas import BrandCreate
from models import accounts, brands
from nexus.errors import AppError

router = APIRouter()

_SIGN_UP = TypeAdapter[signup_api.BrandSignUp | signup_api.CreatorSignUp](SignUp)
# The form's fields are named as the API's body is.
_FIELDS = {*signup_api.BrandSignUp.model_fields, *signup_api.CreatorSignUp.model_fields}
_KIND_TAGS = ("brand", "agency", "creator")
_MESSAGES = {
    "email": "Enter an e-mail address like name@example.com.",
    "handle": "3 to 30 lowercase letters, digits, dots or underscores.",
    "country": "Two capital letters, e.g. US or GB.",
    "kind": "Choose a brand or an agency.",
}
_EXPIRED = "Your session expired; please try again."
KINDS = {"brand": "A brand", "agency": "An agency running several brands"}


def _words(text: str) -> list[str]:
    return sorted({w.strip().lower() for w in text.split(",") if w.strip()})


async def _sign_up(
    request: Request,
    db: DatabaseDep,
    body: dict[str, Any],
    csrf_token: str,
    template: str,
    form: dict[str, str],
    context: dict[str, object],
) -> HTMLResponse:
    """Sign up as the form asks. The form again with the problems by field; or, the same page
    for a new and a known e-mail: sign-up does not tell who has an account."""
    errors = await _registered(request, db, body, csrf_token)
    if errors:
        return render_form(request, template, context, form, errors, 400)
    return render(request, "portal/signup_sent.html", {})


async def _registered(
    request: Request, db: DatabaseDep, body: dict[str, Any], csrf_token: str
) -> dict[str, str]:
    """The problems by field; none when the sign-up went through."""
    errors: dict[str, str] = {}
    if not csrf_ok(request, csrf_token):
        errors["form"] = _EXPIRED
    try:
        wanted = _SIGN_UP.validate_python(body)
    except ValidationError as exc:
        for error in exc.errors():
            # A tagged union names the kind first in each location: ("brand", "name").
            loc = [str(p) for p in error["loc"] if p not in _KIND_TAGS]
            field = loc[0] if loc and loc[0] in _FIELDS else "form"
            if error["type"].startswith("union_tag"):
                field = "kind"
            errors.setdefault(field, _MESSAGES.get(field, human_reason(error)))
        return errors
    if errors:
        return errors
    try:
        await signup_api.register(request, db, wanted)
    except HandleTaken as exc:
        errors["handle"] = exc.detail
    except AppError as exc:
        errors["form"] = exc.detail
    return errors


# -- creators ---------------------------------------------------------------------------------


@router.get("/signup")
async def signup_page(request: Request) -> HTMLResponse:
    return render(request, "portal/signup.html", {"form": {}, "errors": {}})


@router.post("/signup", response_model=None)
async def signup_submit(
    request: Request,
    db: DatabaseDep,
    name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    handle: Annotated[str, Form(max_length=100)] = "",
    country: Annotated[str, Form(max_length=10)] = "",
    niches: Annotated[str, Form(max_length=1000)] = "",
    platforms: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    form = {"name": name, "email": email, "handle": handle, "country": country,
            "niches": niches, "platforms": platforms}  # fmt: skip
    body = {
        "kind": "creator", "name": name.strip(), "email": email.strip(), "password": password,
        "handle": handle.strip().lower(), "country": country.strip().upper(),
        "niches": _words(niches), "platforms": _words(platforms),
    }  # fmt: skip
    return await _sign_up(request, db, body, csrf_token, "portal/signup.html", form, {})


# -- brands and agencies ----------------------------------------------------------------------


@router.get("/signup/brand")
async def brand_signup_page(request: Request) -> HTMLResponse:
    context: dict[str, object] = {"form": {"kind": "brand"}, "errors": {}, "kinds": KINDS}
    return render(request, "portal/signup_brand.html", context)


@router.post("/signup/brand", response_model=None)
async def brand_signup_submit(
    request: Request,
    db: DatabaseDep,
    kind: Annotated[str, Form(max_length=20)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    workspace_name: Annotated[str, Form(max_length=200)] = "",
    brand_name: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    form = {"kind": kind, "name": name, "email": email, "workspace_name": workspace_name,
            "brand_name": brand_name}  # fmt: skip
    body = {
        # Only a brand or an agency signs up here; anything else is refused as a brand would be.
        "kind": kind if kind in KINDS else "brand-or-agency",
        "name": name.strip(), "email": email.strip(), "password": password,
        "workspace_name": workspace_name.strip() or None, "brand_name": brand_name.strip(),
    }  # fmt: skip
    context: dict[str, object] = {"kinds": KINDS}
    return await _sign_up(request, db, body, csrf_token, "portal/signup_brand.html", form, context)


# -- verification -----------------------------------------------------------------------------


@router.get("/verify")
async def verify_page(
    request: Request,
    principal: MaybeSignedIn,
    db: DatabaseDep,
    # A mangled link of any length reads as one that is not valid, not as a bad request.
    token: Annotated[str, Query(max_length=2000)] = "",
) -> HTMLResponse:
    """Where the e-mailed link lands: the address is verified, or the page says why not (an
    expired, used or unknown link changes nothing) and how to get a new one."""
    context: dict[str, object] = {"principal": principal}
    try:
        verified = await signup_api.verify(db, token)
    except AppError as exc:
        # Signed in, the page says whether there is anything left to do.
        done = principal is not None and await db.read(accounts.verified, principal.user_id, None)
        context |= {"problem": exc.detail, "already": done}
        return render(request, "portal/verify.html", context, exc.status)
    return render(request, "portal/verify.html", context | {"email": verified.email})


@router.post("/verify/resend", response_model=None, dependencies=[Csrf])
async def resend(request: Request, principal: SignedIn, db: DatabaseDep) -> HTMLResponse:
    """A new verification link by e-mail, for the signed-in person."""
    context: dict[str, object] = {"principal": principal, "resent": True}
    try:
        await signup_api.resend(request, db, principal)
    except AppError:
        context |= {"resent": False, "already": True}
    return render(request, "portal/verify.html", context)


# -- brands: the checklist's second step, and where an agency adds its clients' brands ---------

_BRAND_MESSAGES = {"website": "Enter a full web address, like https://example.com."}


async def _brands_page(
    request: Request,
    principal: Principal,
    db: DatabaseDep,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = await db.run(brands.list_brands, principal.workspace_id)
    context: dict[str, object] = {"principal": principal, "brands": found}
    return render_form(request, "portal/brands.html", context, form, errors, status_code)


@router.get("/brands")
async def brands_page(request: Request, principal: BrandUser, db: DatabaseDep) -> HTMLResponse:
    """The workspace's brands; an admin adds one."""
    return await _brands_page(request, principal, db)


@router.post("/brands", response_model=None, dependencies=[Csrf])
async def add_brand(
    request: Request,
    principal: BrandAdmin,
    db: DatabaseDep,
    name: Annotated[str, Form(max_length=200)] = "",
    website: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    form = {"name": name, "website": website}
    try:
        body = BrandCreate.model_validate({"name": name, "website": website.strip() or None})
    except ValidationError as exc:
        found = field_errors(exc, {"name": "name", "website": "website"})
        errors = {k: _BRAND_MESSAGES.get(k, v) for k, v in found.items()}
        return await _brands_page(request, principal, db, form, errors, 422)
    await brands_api.create_brand(body, principal, db)
    return RedirectResponse("/portal/brands", status_code=303)
