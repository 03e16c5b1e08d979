"""Server-rendered portal (Jinja2 + htmx): brand, creator and ops pages over the same
endpoint functions the JSON API serves."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from api.portal import (
    agency,
    auth,
    brand,
    conversations,
    creator,
    inbox,
    media,
    money,
    ops,
    ops_admin,
    passwords,
    profile,
    signup,
    social,
    team,
)
from api.portal.web import (
    CsrfFailed,
    SessionCookies,
    SuspendedSession,
    csrf_failed,
    suspended_page,
)

router = APIRouter(include_in_schema=False)
for _pages in (
    agency.router,
    auth.router,
    brand.router,
    conversations.router,
    creator.router,
    inbox.router,
    media.router,
    money.router,
    ops.router,
    ops_admin.router,
    passwords.router,
    profile.router,
    signup.router,
    social.router,
    team.router,
):
    # Every page shows the name of the workspace (the client) acted in.
    router.include_router(_pages, prefix="/portal", dependencies=[Depends(agency.acting_for)])


def install(app: FastAPI) -> None:
    """The pages, and the page a request without its form's token gets."""
    app.include_router(router)
    app.add_exception_handler(CsrfFailed, csrf_failed)
    app.add_exception_handler(SuspendedSession, suspended_page)
    # A session renewed while answering a page sends its new cookies with the answer.
    app.add_middleware(SessionCookies)
