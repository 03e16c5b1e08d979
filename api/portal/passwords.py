"""The portal's password pages: asking for a reset link, choosing a new password through it
(signed in right after), and the account page where a signed-in person changes their
password or signs out everywhere."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.deps import DatabaseDep, Principal, SettingsDep
from api.portal import social
from api.portal.auth import signed_in_as
from api.portal.web import (
    Csrf,
    SignedIn,
    clear_session_cookies,
    csrf_ok,
    field_errors,
    render,
    set_session_cookies,
)
from api.routers import passwords as passwords_api
from api.routers.auth import memberships, token_for, with_refresh
from api.security import RESET_TOKEN_TTL, secret_token_hash
from integrations.identity.providers import PROVIDERS
from models import workspaces
from models.base import utcnow
from models.workspaces import RESET_PASSWORD
from nexus.errors import AppError, Conflict, Gone, NotFound
from nexus.settings import Settings

router = APIRouter()

EXPIRED_FORM = "Your session expired; please try again."
DIFFERENT = "The two passwords differ: type the same new password twice."
# The link's problems in words, with what to do.
LINK_PROBLEMS = {
    NotFound: "This reset link is not valid. It may have been copied incompletely.",
    Conflict: "This reset link was used already. Each link works once.",
    Gone: f"This reset link has expired. Links work for "
    f"{int(RESET_TOKEN_TTL.total_seconds() // 60)} minutes.",
}
LINK_STATUS = {NotFound: 404, Conflict: 409, Gone: 410}
FIELDS = {"password": "password", "current_password": "current_password", "token": "form"}


# -- a forgotten password ---------------------------------------------------------------------


@router.get("/password/forgot")
async def forgot_page(request: Request) -> HTMLResponse:
    return render(request, "portal/password_forgot.html", {"email": "", "errors": {}})


@router.post("/password/forgot", response_model=None)
async def forgot_submit(
    request: Request,
    db: DatabaseDep,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The same page whether or not an account uses the address; the link goes out after."""
    errors: dict[str, str] = {}
    if not csrf_ok(request, csrf_token):
        errors["form"] = EXPIRED_FORM
    if "@" not in email.strip():
        errors["email"] = "Enter the e-mail address you sign in with."
    if errors:
        shown: dict[str, object] = {"email": email, "errors": errors}
        return render(request, "portal/password_forgot.html", shown, 400)
    notifier = request.app.state.notifier
    background.add_task(passwords_api.send_reset_link, notifier, db, email.strip())
    context: dict[str, object] = {
        "email": email.strip(),
        "valid_for": passwords_api.RESET_VALID_FOR,
    }
    return render(request, "portal/password_forgot_sent.html", context)


def _link_problem(session: Session, token_hash: str) -> type[AppError] | None:
    """What is wrong with a reset link, without using it."""
    row = workspaces.find_account_token(session, RESET_PASSWORD, token_hash)
    if row is None:
        return NotFound
    if row.used_at is not None:
        return Conflict
    if row.expires_at <= utcnow():
        return Gone
    return None


def _bad_link(request: Request, problem: type[AppError]) -> HTMLResponse:
    context: dict[str, object] = {"problem": LINK_PROBLEMS[problem]}
    return render(request, "portal/password_link.html", context, LINK_STATUS[problem])


@router.get("/password/reset/{token}")
async def reset_page(request: Request, token: str, db: DatabaseDep) -> HTMLResponse:
    """The form to choose a new password, or why the link no longer works."""
    problem = await db.run(_link_problem, secret_token_hash(token))
    if problem is not None:
        return _bad_link(request, problem)
    return render(request, "portal/password_reset.html", {"token": token, "errors": {}})


@router.post("/password/reset/{token}", response_model=None)
async def reset_submit(
    request: Request,
    token: str,
    settings: SettingsDep,
    db: DatabaseDep,
    password: Annotated[str, Form(max_length=1024)] = "",
    password_again: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Set the new password, end every session, and sign in with it here."""
    errors: dict[str, str] = {}
    if not csrf_ok(request, csrf_token):
        errors["form"] = EXPIRED_FORM
    elif password != password_again:
        errors["password_again"] = DIFFERENT
    if not errors:
        try:
            user_id = await passwords_api.reset(db, token, password)
        except (NotFound, Conflict, Gone) as exc:
            return _bad_link(request, type(exc))
        except AppError as exc:
            errors = field_errors(exc, FIELDS)
    if errors:
        context: dict[str, object] = {"token": token, "errors": errors}
        return render(request, "portal/password_reset.html", context, 400)
    options = await db.run(memberships, user_id)
    if not options:
        return RedirectResponse("/portal/login", status_code=303)
    signed = await with_refresh(settings, db, user_id, token_for(settings, user_id, options, None))
    return signed_in_as(
        request, signed.access_token, signed.expires_in, refresh_token=signed.refresh_token
    )


# -- the account page ---------------------------------------------------------------------------


async def _account(
    request: Request,
    principal: Principal,
    settings: Settings,
    db: DatabaseDep,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The account page: the password, the providers that sign in to it, signing out."""
    query = request.query_params
    names = {name: p.label for name, p in PROVIDERS.items()}
    connections = await social.connections(settings, principal, db)
    context = {
        "principal": principal, "errors": errors or {}, "changed": query.get("changed") == "1",
        "connections": connections,
        "connected": names.get(query.get("connected", ""), ""),
        "disconnected": names.get(query.get("disconnected", ""), ""),
    }  # fmt: skip
    response = render(request, "portal/account.html", context, status_code)
    page_csp: str = request.app.page_csp
    response.headers["Content-Security-Policy"] = social.connect_csp(page_csp, connections)
    return response


@router.get("/account")
async def account_page(
    request: Request, principal: SignedIn, settings: SettingsDep, db: DatabaseDep
) -> HTMLResponse:
    return await _account(request, principal, settings, db)


@router.post("/account/password", response_model=None, dependencies=[Csrf])
async def change_password(
    request: Request,
    principal: SignedIn,
    settings: SettingsDep,
    db: DatabaseDep,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    password_again: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """A new password: every other session ends; this one goes on."""
    assert principal.user_id is not None
    errors: dict[str, str] = {}
    if not current_password:
        errors["current_password"] = "Enter your current password."  # noqa: S105 - a message
    if password != password_again:
        errors["password_again"] = DIFFERENT
    if not errors:
        try:
            token = await passwords_api.change(
                settings, db, principal.user_id, principal.workspace_id, current_password,
                password,
            )  # fmt: skip
        except AppError as exc:
            errors = field_errors(exc, FIELDS)
    if errors:
        return await _account(request, principal, settings, db, errors, 400)
    response = RedirectResponse("/portal/account?changed=1", status_code=303)
    set_session_cookies(
        response, request, token.access_token, token.expires_in, token.refresh_token
    )
    return response


@router.post("/account/sign-out-everywhere", dependencies=[Csrf])
async def sign_out_everywhere(request: Request, principal: SignedIn, db: DatabaseDep) -> Response:
    """End every session of this person, on every device, this one included."""
    assert principal.user_id is not None
    await db.run(workspaces.end_all_sessions, principal.user_id)
    response = render(request, "portal/signed_out_everywhere.html", {"principal": None})
    clear_session_cookies(response)
    return response
