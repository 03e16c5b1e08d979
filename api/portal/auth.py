"""Sign-in, sign-out, creator sign-up, and the start page of each role."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import DatabaseDep, Principal, SettingsDep
from api.portal.web import (
    BRAND_ROLES,
    SESSION_COOKIE,
    Csrf,
    MaybeSignedIn,
    SignedIn,
    csrf_ok,
    field_errors,
    local_path,
    render,
    secure,
)
from api.routers import auth as auth_api
from api.routers.auth import authenticate, token_for
from api.routers.creator_profile import Word
from api.schemas import SwitchWorkspace
from api.security import hash_password
from api.text import Line
from domain.enums import Role
from integrations.notifications import Message
from models import creators, workspaces
from models.workspaces import User
from nexus.errors import AppError

router = APIRouter()
log = logging.getLogger(__name__)


def signed_in_as(
    request: Request, access_token: str, expires_in: int, to: str = "/portal"
) -> RedirectResponse:
    response = RedirectResponse(to, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        access_token,
        max_age=expires_in,
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )
    return response


@router.get("/login")
async def login_page(
    request: Request, next: Annotated[str, Query(max_length=2000)] = ""
) -> HTMLResponse:
    """The sign-in form; `next`, a portal page asked for signed out, is where it lands."""
    context: dict[str, object] = {"email": "", "errors": {}, "next": local_path(next) or ""}
    return render(request, "portal/login.html", context)


@router.post("/login", response_model=None)
async def login_submit(
    request: Request,
    settings: SettingsDep,
    db: DatabaseDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    errors: dict[str, str] = {}
    landing = local_path(next)
    if not csrf_ok(request, csrf_token):
        errors["form"] = "Your session expired; please try again."
    if not email.strip():
        errors["email"] = "Enter your e-mail address."
    if not password:
        errors["password"] = "Enter your password."  # noqa: S105 - a message
    if not errors:
        try:
            user_id, memberships = await db.run(authenticate, email.strip(), password)
            token = token_for(settings, user_id, memberships, None)
        except AppError as exc:
            errors["password"] = exc.detail
    if errors:
        context: dict[str, object] = {"email": email, "errors": errors, "next": landing or ""}
        return render(request, "portal/login.html", context, status_code=400)
    return signed_in_as(request, token.access_token, token.expires_in, landing or "/portal")


@router.post("/logout")
async def logout(
    request: Request,
    principal: MaybeSignedIn,
    db: DatabaseDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> RedirectResponse:
    response = RedirectResponse("/portal/login", status_code=303)
    if csrf_ok(request, csrf_token):
        if principal is not None and principal.token is not None:
            # Ended on the server too: a copy of the cookie is worth nothing from now on.
            token = principal.token
            await db.run(workspaces.revoke_token, token.token_id, token.expires_at)
        response.delete_cookie(SESSION_COOKIE)
    return response


class SignUp(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: Line = Field(min_length=1, max_length=200)
    email: Line = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    password: str = Field(min_length=12, max_length=1024)
    handle: str = Field(pattern=r"^[a-z0-9_.]{3,30}$")
    country: str = Field(pattern=r"^[A-Z]{2}$")
    # The profile's own word type: a NUL in a niche reached PostgreSQL and answered 500.
    niches: list[Word] = Field(max_length=20)
    platforms: list[Word] = Field(max_length=20)


_SIGN_UP_MESSAGES = {
    "email": "Enter an e-mail address like name@example.com.",
    "handle": "3 to 30 lowercase letters, digits, dots or underscores.",
    "country": "Two capital letters, e.g. US or GB.",
}
_HANDLE_TAKEN = "This handle is taken already."


def _words(text: str) -> list[str]:
    return sorted({w.strip().lower() for w in text.split(",") if w.strip()})


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
    errors: dict[str, str] = {}
    if not csrf_ok(request, csrf_token):
        errors["form"] = "Your session expired; please try again."
    try:
        wanted = SignUp(
            name=name, email=email, password=password, handle=handle.lower(),
            country=country.upper(), niches=_words(niches), platforms=_words(platforms),
        )  # fmt: skip
    except ValidationError as exc:
        found = field_errors(exc, {n: n for n in SignUp.model_fields})
        errors |= {k: _SIGN_UP_MESSAGES.get(k, v) for k, v in found.items()}
    # Handles are public (brands see them); whether an e-mail has an account is not.
    if not errors and "handle" in await db.run(creators.taken, wanted.email, wanted.handle):
        errors["handle"] = _HANDLE_TAKEN
    message = None
    if not errors:
        # Hashed whether or not the e-mail has an account: both answers take as long.
        password_hash = await run_in_threadpool(hash_password, wanted.password)
        user = User(email=wanted.email, name=wanted.name, password_hash=password_hash)
        message = await db.run(_sign_up, user, wanted)
        if message is None:
            errors["handle"] = _HANDLE_TAKEN
    if errors or message is None:
        return render(request, "portal/signup.html", {"form": form, "errors": errors}, 400)
    try:
        await run_in_threadpool(request.app.state.notifier.deliver, [message])
    except OSError:
        log.warning("sign-up message for %s could not be sent", message.user_id, exc_info=True)
    # The same page for a new and a known e-mail: sign-up does not tell who has an account.
    return render(request, "portal/signup_sent.html", {})


def _sign_up(session: Session, user: User, wanted: SignUp) -> Message | None:
    """The new account and its welcome, or for an e-mail that has one, a note to its owner;
    None when the handle was taken meanwhile."""
    known = workspaces.find_user_by_email(session, wanted.email)
    if known is None:
        try:
            with session.begin_nested():
                creators.sign_up(
                    session, user, handle=wanted.handle, country=wanted.country,
                    niches=wanted.niches, platforms=wanted.platforms,
                )  # fmt: skip
        except IntegrityError:
            # The same e-mail or handle signed up meanwhile.
            known = workspaces.find_user_by_email(session, wanted.email)
            if known is None:
                return None
    if known is None:
        return Message(
            event_key=f"signed-up-{user.id}", user_id=user.id, email=user.email,
            kind="account", title="Welcome to NEXUS",
            body="Your creator account is ready: sign in with your e-mail and password.",
            link="/portal/login",
        )  # fmt: skip
    return Message(
        event_key=f"sign-up-attempt-{uuid.uuid4()}", user_id=known.id, email=known.email,
        kind="account", title="Someone tried to sign up with your e-mail",
        body="Your NEXUS account already uses this e-mail, so no new account was made. If it "
        "was you, sign in instead; if not, you can ignore this.",
        link="/portal/login",
    )  # fmt: skip


@router.get("/workspaces")
async def workspaces_page(
    request: Request, principal: SignedIn, db: DatabaseDep, error: str = ""
) -> HTMLResponse:
    """Every workspace the user belongs to, to act in another one."""
    who = await auth_api.me(principal, db)
    context = {"principal": principal, "memberships": who.memberships, "error": error}
    return render(request, "portal/workspaces.html", context, 403 if error else 200)


@router.post("/workspaces", response_model=None, dependencies=[Csrf])
async def switch_workspace(
    request: Request,
    principal: SignedIn,
    settings: SettingsDep,
    db: DatabaseDep,
    workspace_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        body = SwitchWorkspace.model_validate({"workspace_id": workspace_id})
        token = await auth_api.switch_workspace(body, principal, settings, db)
    except (ValidationError, AppError):
        error = "You are not a member of that workspace."
        return await workspaces_page(request, principal, db, error)
    return signed_in_as(request, token.access_token, token.expires_in)


def start_page(principal: Principal) -> str:
    if principal.role in BRAND_ROLES:
        return "/portal/campaigns"
    if principal.role == Role.CREATOR:
        return "/portal/work"
    return "/portal/ops"


@router.get("")
async def home(principal: SignedIn) -> RedirectResponse:
    return RedirectResponse(start_page(principal), status_code=303)
