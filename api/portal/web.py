"""What every portal page shares: the session (the API's short-lived JWT in an HttpOnly
cookie), double-submit CSRF, rendering with escaping on, and turning API errors into messages
next to the fields they concern."""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from api.deps import DatabaseDep, LookupsDep, Principal, SettingsDep, user_principal
from api.problems import human_reason
from api.security import decode_access_token
from domain import brief_words, labels, words
from domain.enums import Role
from domain.findings import Finding, clock, finding_line, finding_words
from models import creators
from nexus.errors import AppError, Unauthenticated

SESSION_COOKIE = "nexus_session"
CSRF_COOKIE = "nexus_csrf"
CSRF_HEADER = "X-CSRF-Token"
BRAND_ROLES = frozenset({Role.BRAND_ADMIN, Role.BRAND_MEMBER})

templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")


_MOMENT = re.compile(r"\bat (\d+):([0-5]\d)\b")


def money(amount_minor: int | None, currency: str) -> str:
    """Minor units as money, the same everywhere ("$1,250.00", "1,250.00 CHF"); "—" for
    none."""
    return "—" if amount_minor is None else words.money(amount_minor, currency)


class BadAmount(ValueError):
    pass


def minor_units(text: str, currency: str) -> int | None:
    """What a person typed ("1,250.50") in minor units of `currency`; empty -> None."""
    if not text.replace(",", "").strip():
        return None
    try:
        return words.parse_amount(text, currency)
    except ValueError as exc:
        raise BadAmount(str(exc)) from exc


def moment(finding: Finding) -> int | None:
    """The second of the video a finding points at (findings recorded before they carried
    it say "at M:SS" in their message)."""
    if finding.start_s is not None:
        return int(finding.start_s)
    match = _MOMENT.search(finding.message)
    return int(match[1]) * 60 + int(match[2]) if match else None


def label(value: object) -> str:
    """An enumeration value (a stage, a status, a format, a role, a channel) in words."""
    return labels.words(value)


def finding(found: Finding | Mapping[str, Any]) -> str:
    """A finding in a line: "0:04 — Brand safety: weapons reference (warning)"."""
    data = found if isinstance(found, Mapping) else found.model_dump()
    start = data.get("start_s")
    return finding_line(str(data.get("code", "")), str(data.get("severity", "")), start)


# How pages say things, from domain/words.py and domain/labels.py: pages, PDFs, e-mails and
# refusals read the same.
templates.env.filters["money"] = money
templates.env.filters["label"] = label
templates.env.filters["finding"] = finding
templates.env.filters["finding_words"] = finding_words
templates.env.filters["day"] = words.day  # 1 March 2027
templates.env.filters["day_and_time"] = words.day_and_time  # 1 March 2027, 14:05 UTC
templates.env.filters["when"] = words.when  # Tue 8 Dec, 14:00 UTC: a deadline days ahead
templates.env.filters["ago"] = words.ago  # 5 minutes ago
templates.env.filters["since"] = words.since  # 3 h 5 min (how long something has waited)
templates.env.filters["duration"] = words.duration_words
templates.env.filters["filesize"] = words.filesize
templates.env.filters["clock"] = clock
# A brief's terms in words (the partial portal/partials/brief.html uses them).
templates.env.filters["deliverable_words"] = brief_words.deliverable_words
templates.env.filters["rights_words"] = brief_words.usage_rights_words
templates.env.filters["days_words"] = words.days_words


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _session_id(request: Request) -> str | None:
    """The id of the request's session token, when it carries a genuine one."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return decode_access_token(request.app.state.settings.auth, token).token_id
    except Unauthenticated:
        return None


def _csrf_token(request: Request, visitor: str) -> str:
    """The CSRF token is a MAC of the session (or, before sign-in, of the visitor cookie): a
    cookie/token pair minted by someone else, even one planted in the victim's browser, does
    not match the victim's session."""
    session_id = _session_id(request)
    subject = f"session:{session_id}" if session_id else f"visitor:{visitor}"
    secret = request.app.state.settings.auth.jwt_secret.get_secret_value()
    key = hmac.digest(secret.encode(), b"nexus portal csrf", "sha256")
    return hmac.new(key, subject.encode(), "sha256").hexdigest()


def render(
    request: Request, template: str, context: dict[str, object], status_code: int = 200
) -> HTMLResponse:
    visitor = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    settings = request.app.state.settings
    base = settings.temporal.ui_url.rstrip("/")
    response = templates.TemplateResponse(
        request,
        template,
        {
            "csrf_token": _csrf_token(request, visitor),
            "temporal_ui": f"{base}/namespaces/{quote(settings.temporal.namespace)}/workflows/",
            **context,
        },
        status_code=status_code,
    )
    response.set_cookie(
        CSRF_COOKIE, visitor, httponly=True, samesite="strict", secure=secure(request)
    )
    return response


def csrf_ok(request: Request, submitted: str) -> bool:
    visitor = request.cookies.get(CSRF_COOKIE, "")
    if not visitor and _session_id(request) is None:
        return False
    return hmac.compare_digest(_csrf_token(request, visitor).encode(), submitted.encode())


class CsrfFailed(Exception):
    """A state-changing request without the page's token: forged, or from a stale page."""


async def csrf_failed(request: Request, exc: Exception) -> HTMLResponse:
    return render(request, "portal/expired.html", {"principal": None}, 403)


async def check_csrf(request: Request) -> None:
    """Every state-changing portal request carries the token: a form field, or the header
    that htmx and the upload script send."""
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None:
        form = await request.form()
        value = form.get("csrf_token")
        submitted = value if isinstance(value, str) else ""
    if not csrf_ok(request, submitted):
        raise CsrfFailed


Csrf = Depends(check_csrf)


async def session(request: Request, settings: SettingsDep, lookups: LookupsDep) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return await user_principal(lookups, decode_access_token(settings.auth, token))
    except Unauthenticated:
        return None


MaybeSignedIn = Annotated[Principal | None, Depends(session)]


SIGN_IN = "/portal/login"
# What a path kept for after sign-in may hold: no scheme, host, backslash, white space or
# control character gets through (quote() would otherwise smuggle them as %-escapes).
_LOCAL_PATH = re.compile(r"/portal(?:[/?][!#-~]*)?")


def local_path(target: str | None) -> str | None:
    """`target` when it is a portal page of this site ("/portal/campaigns/…?page=2"), else
    None: "https://elsewhere", "//elsewhere" or "/\\elsewhere" after sign-in would be an
    open redirect."""
    if not target or not _LOCAL_PATH.fullmatch(target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith("//"):
        return None
    return target


def sign_in_url(request: Request) -> str:
    """The sign-in page, keeping the page asked for (a GET of a whole page, not a form's
    post nor a fragment htmx polls) to land on after sign-in."""
    if request.method != "GET" or request.headers.get("HX-Request"):
        return SIGN_IN
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    kept = local_path(wanted)
    return f"{SIGN_IN}?{urlencode({'next': kept})}" if kept and kept != "/portal" else SIGN_IN


async def _signed_in(
    request: Request, principal: Annotated[Principal | None, Depends(session)]
) -> Principal:
    if principal is None:
        raise HTTPException(303, "sign in first", headers={"Location": sign_in_url(request)})
    return principal


SignedIn = Annotated[Principal, Depends(_signed_in)]


def _role(*roles: Role) -> object:
    async def check(principal: SignedIn) -> Principal:
        if principal.role not in roles:
            # Home shows each role its own start page.
            raise HTTPException(303, "not for this role", headers={"Location": "/portal"})
        return principal

    return Depends(check)


BrandUser = Annotated[Principal, _role(*BRAND_ROLES)]
BrandAdmin = Annotated[Principal, _role(Role.BRAND_ADMIN)]
OpsUser = Annotated[Principal, _role(Role.OPS)]


CreatorUser = Annotated[Principal, _role(Role.CREATOR)]


async def _creator(principal: CreatorUser, db: DatabaseDep) -> uuid.UUID:
    assert principal.user_id is not None
    profile = await db.read(creators.profile_of_user, principal.user_id)
    if profile is None:
        raise HTTPException(303, "no profile", headers={"Location": "/portal"})
    return profile.id


CreatorId = Annotated[uuid.UUID, Depends(_creator)]


def field_errors(exc: ValidationError | AppError, names: dict[str, str]) -> dict[str, str]:
    """Problems keyed by form field. `names` maps a dotted location of the API body
    ("brief.product") to the form field that holds it; what maps to none goes under "form"."""
    found: Iterable[tuple[str, str]]
    if isinstance(exc, ValidationError):
        found = ((".".join(str(p) for p in e["loc"]), human_reason(e)) for e in exc.errors())
    else:
        found = ((p.field.removeprefix("body."), p.reason) for p in exc.errors)
    errors: dict[str, str] = {}
    for loc, message in found:
        field = _closest(loc, names)
        errors.setdefault(field, message)
    if isinstance(exc, AppError) and not errors:
        errors["form"] = exc.detail
    return errors


def _closest(loc: str, names: dict[str, str]) -> str:
    # "deliverables.0.price_minor" -> the longest mapped prefix, e.g. "deliverables.0".
    while loc:
        if loc in names:
            return names[loc]
        loc = loc.rpartition(".")[0]
    return "form"
