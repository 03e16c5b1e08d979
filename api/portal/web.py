"""What every portal page shares: the session (the API's short-lived JWT in an HttpOnly
cookie), double-submit CSRF, rendering with escaping on, and turning API errors into messages
next to the fields they concern."""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import DatabaseDep, LookupsDep, Principal, SettingsDep, Suspended, user_principal
from api.problems import human_reason
from api.routers.passwords import renew
from api.schemas import TokenResponse
from api.security import REFRESH_TOKEN_TTL, decode_access_token
from domain import brief_words, labels, words
from domain.compliance.language import LANGUAGE_NAMES
from domain.enums import Role
from domain.findings import Finding, clock, finding_line, finding_words
from models import creators
from nexus.errors import AppError, Unauthenticated
from nexus.settings import Settings

SESSION_COOKIE = "nexus_session"
# The sign-in's refresh token: renews the session while the person keeps using the portal.
REFRESH_COOKIE = "nexus_refresh"
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
templates.env.filters["language_name"] = lambda code: LANGUAGE_NAMES.get(code, code)


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _session_id(request: Request) -> str | None:
    """The id of the request's sign-in, when it carries a genuine session token (expired or
    not): the same across the session's renewals, so that open forms stay valid."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        claims = decode_access_token(request.app.state.settings.auth, token, verify_expiry=False)
    except Unauthenticated:
        return None
    return claims.session_id or claims.token_id


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


def render_form(
    request: Request,
    template: str,
    context: dict[str, object],
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page with a form: shown empty, or again with what was typed and why it was refused."""
    return render(request, template, {"form": form or {}, "errors": errors or {}, **context},
                  status_code)  # fmt: skip


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


def set_session_cookies(
    response: Response,
    request: Request,
    access_token: str,
    expires_in: int,
    refresh_token: str | None,
) -> None:
    """Sign the browser in: the access token, and its refresh token when there is one (both
    HttpOnly; the refresh token goes only to portal paths). With a refresh token the access
    cookie lasts as long, so that an expired access token is renewed, not dropped."""
    max_age = int(REFRESH_TOKEN_TTL.total_seconds()) if refresh_token else expires_in
    response.set_cookie(
        SESSION_COOKIE,
        access_token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )
    if refresh_token is not None:
        response.set_cookie(
            REFRESH_COOKIE,
            refresh_token,
            max_age=max_age,
            path="/portal",
            httponly=True,
            samesite="lax",
            secure=secure(request),
        )


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(REFRESH_COOKIE, path="/portal")


# What a renewal left for SessionCookies to send: the new tokens, or None (forget the
# refresh cookie: it was refused).
_RENEWED = "nexus_renewed_session"


def _renewal_due(request: Request, settings: Settings, expires_at: datetime | None) -> bool:
    """Renew while the person is active: on a page or form they asked for (not the polls and
    fragments htmx fetches by itself) once half the access token's life is gone."""
    if not request.cookies.get(REFRESH_COOKIE) or _RENEWED in request.scope.get("state", {}):
        return False
    if request.method == "GET" and request.headers.get("HX-Request"):
        return False
    if expires_at is None:
        return True
    left = (expires_at - datetime.now(UTC)).total_seconds()
    return left < settings.auth.access_token_ttl_s / 2


async def _renewed(request: Request, settings: Settings) -> Principal | None:
    refresh_token = request.cookies.get(REFRESH_COOKIE, "")
    try:
        token = await renew(settings, request.app.state.database, refresh_token)
    except Unauthenticated:
        request.state.nexus_renewed_session = None
        return None
    request.state.nexus_renewed_session = token
    return _principal_of(settings, token)


def _principal_of(settings: Settings, token: TokenResponse) -> Principal:
    claims = decode_access_token(settings.auth, token.access_token)
    return Principal(
        workspace_id=token.workspace_id, role=token.role, user_id=claims.user_id, token=claims
    )


async def session(request: Request, settings: SettingsDep, lookups: LookupsDep) -> Principal | None:
    """Who is signed in: the session cookie's access token, renewed through the refresh
    cookie when it is near its end or past it (SessionCookies sends the new cookies)."""
    renewed = request.scope.get("state", {}).get(_RENEWED)
    if isinstance(renewed, TokenResponse):
        return _principal_of(settings, renewed)
    token = request.cookies.get(SESSION_COOKIE)
    claims = None
    if token:
        try:
            claims = decode_access_token(settings.auth, token)
        except Unauthenticated:
            claims = None
    if _renewal_due(request, settings, claims.expires_at if claims else None):
        principal = await _renewed(request, settings)
        if principal is not None:
            return principal
    if claims is None:
        return None
    try:
        return await user_principal(lookups, claims)
    except Suspended as exc:
        # Pages that need a session say so instead of asking to sign in (SuspendedSession).
        request.state.nexus_suspended = exc.detail
        return None
    except Unauthenticated:
        return None


class SessionCookies:
    """Adds the cookies of a session renewed while answering (whatever the page answers with:
    a page, a redirect, a refusal), unless the answer sets the session itself (signing in or
    out, a new password)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Shared with the pages below, which leave a renewal in it.
        scope.setdefault("state", {})

        async def sending(message: Message) -> None:
            state = scope.get("state", {})
            if message["type"] == "http.response.start" and _RENEWED in state:
                headers = list(message.get("headers", []))
                own = f"{SESSION_COOKIE}=".encode()
                if not any(k == b"set-cookie" and v.startswith(own) for k, v in headers):
                    cookies = Response()
                    renewed = state[_RENEWED]
                    if renewed is None:
                        cookies.delete_cookie(REFRESH_COOKIE, path="/portal")
                    else:
                        set_session_cookies(
                            cookies, Request(scope), renewed.access_token,
                            renewed.expires_in, renewed.refresh_token,
                        )  # fmt: skip
                    extra = [(k, v) for k, v in cookies.raw_headers if k == b"set-cookie"]
                    message = {**message, "headers": [*headers, *extra]}
            await send(message)

        await self.app(scope, receive, sending)


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


class SuspendedSession(Exception):
    """A signed-in person whose workspace or account is suspended asked for a page."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


async def suspended_page(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, SuspendedSession)
    message = exc.detail[:1].upper() + exc.detail[1:] + "."
    return render(request, "portal/suspended.html", {"principal": None, "message": message}, 403)


async def _signed_in(
    request: Request, principal: Annotated[Principal | None, Depends(session)]
) -> Principal:
    suspended = getattr(request.state, "nexus_suspended", None)
    if principal is None and suspended:
        raise SuspendedSession(suspended)
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
