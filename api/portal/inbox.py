"""The inbox every role has: notifications newest first, each opening the page it is about for
the reader's role, read and unread, the unread count in the navigation; which notifications
reach a person by e-mail; and the development mail catcher's messages."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlmodel import Session

from api.deps import DatabaseDep, Principal, SettingsDep
from api.portal.web import Csrf, MaybeSignedIn, SignedIn, render, templates
from domain.enums import Role
from domain.notifications import EMAIL_GROUPS, portal_link
from models import notifications
from models.workspaces import users_by_ids

router = APIRouter()
PAGE = 50
MAIL_LISTED = 100

_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """Plain text, escaped, with its http(s) addresses as links (what a mail's text shows)."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        out.append(str(escape(text[last : match.start()])))
        url = escape(match.group(0))
        out.append(f'<a href="{url}" rel="noopener noreferrer">{url}</a>')
        last = match.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))  # noqa: S704 - every part is escaped above


templates.env.filters["linkify"] = linkify


# -- the inbox -------------------------------------------------------------------------------


def _user(principal: Principal) -> uuid.UUID:
    assert principal.user_id is not None  # portal sessions are people
    return principal.user_id


def _mail_visible(principal: Principal, development: bool) -> bool:
    return principal.role == Role.OPS or development


@router.get("/notifications")
async def inbox(
    request: Request,
    principal: SignedIn,
    db: DatabaseDep,
    settings: SettingsDep,
    unread: bool = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """The signed-in person's notifications, newest first, a page at a time."""
    user_id = _user(principal)

    def rows(session: Session) -> tuple[list[notifications.Notification], int]:
        found = notifications.inbox(
            session, user_id, unread_only=unread, limit=PAGE + 1, offset=(page - 1) * PAGE
        )
        return found, notifications.unread_count(session, user_id)

    found, count = await db.read(rows)
    items = [{"n": n, "url": portal_link(n.link, principal.role)} for n in found[:PAGE]]
    context = {
        "principal": principal, "items": items, "unread_count": count, "unread": unread,
        "page": page, "more": len(found) > PAGE,
        "mail": _mail_visible(principal, settings.env == "development"),
    }  # fmt: skip
    return render(request, "portal/notifications.html", context)


@router.get("/notifications/badge")
async def badge(request: Request, principal: MaybeSignedIn, db: DatabaseDep) -> Response:
    """The unread count in the navigation (polled). Signed out: htmx's "stop polling" (286)."""
    if principal is None:
        return Response(status_code=286)
    count = await db.read(notifications.unread_count, _user(principal))
    return render(request, "portal/partials/inbox_badge.html", {"count": count})


def _not_found(request: Request, principal: Principal) -> HTMLResponse:
    return render(request, "portal/not_found.html", {"principal": principal}, 404)


@router.get("/notifications/{notification_id}/open")
async def open_notification(
    request: Request, notification_id: uuid.UUID, principal: SignedIn, db: DatabaseDep
) -> Response:
    """Mark the notification read and go to the page it is about."""
    user_id = _user(principal)
    found = await db.read(notifications.get, user_id, notification_id)
    if found is None:
        return _not_found(request, principal)
    await db.run(notifications.mark_read, user_id, notification_id)
    target = portal_link(found.link, principal.role) or "/portal/notifications"
    return RedirectResponse(target, status_code=303)


@router.post("/notifications/{notification_id}/read", dependencies=[Csrf])
async def mark_read(
    request: Request,
    notification_id: uuid.UUID,
    principal: SignedIn,
    db: DatabaseDep,
    unread: bool = False,
) -> Response:
    if not await db.run(notifications.mark_read, _user(principal), notification_id):
        return _not_found(request, principal)
    return RedirectResponse("/portal/notifications" + ("?unread=true" if unread else ""), 303)


@router.post("/notifications/read-all", dependencies=[Csrf])
async def mark_all_read(principal: SignedIn, db: DatabaseDep) -> Response:
    user_id = _user(principal)
    await db.run(lambda s: notifications.mark_all_read(s, user_id))
    return RedirectResponse("/portal/notifications", status_code=303)


@router.get("/open/{link:path}")
async def open_link(link: str, principal: SignedIn) -> Response:
    """Where an e-mail's link goes: the page the notification is about, for the role the
    reader is signed in with (their inbox when that role has no such page)."""
    target = portal_link("/" + link.lstrip("/"), principal.role) or "/portal/notifications"
    return RedirectResponse(target, status_code=303)


# -- e-mail preferences ----------------------------------------------------------------------


def _preferences(
    request: Request, principal: Principal, choices: dict[str, bool], saved: bool
) -> HTMLResponse:
    context = {"principal": principal, "groups": EMAIL_GROUPS, "choices": choices,
               "saved": saved}  # fmt: skip
    return render(request, "portal/notification_preferences.html", context)


@router.get("/notifications/preferences")
async def preferences(
    request: Request, principal: SignedIn, db: DatabaseDep, saved: bool = False
) -> HTMLResponse:
    choices = await db.read(notifications.email_choices, _user(principal))
    return _preferences(request, principal, choices, saved)


@router.post("/notifications/preferences", dependencies=[Csrf])
async def save_preferences(request: Request, principal: SignedIn, db: DatabaseDep) -> Response:
    """The checked groups come by e-mail; the unchecked ones only to the inbox."""
    form = await request.form()
    choices = {group: form.get(group) == "on" for group in EMAIL_GROUPS}
    user_id = _user(principal)
    await db.run(lambda s: notifications.set_email_choices(s, user_id, choices))
    return RedirectResponse("/portal/notifications/preferences?saved=true", status_code=303)


# -- the development mail catcher ------------------------------------------------------------


@router.get("/mail")
async def caught_mail(
    request: Request, principal: SignedIn, db: DatabaseDep, settings: SettingsDep
) -> HTMLResponse:
    """E-mail the development mail catcher kept instead of sending: all of it for ops; in
    development, what was sent to the signed-in person's own address."""
    development = settings.env == "development"
    if not _mail_visible(principal, development):
        raise HTTPException(303, "not for this role", headers={"Location": "/portal"})
    own = None
    if principal.role != Role.OPS:
        user_id = _user(principal)
        own = await db.read(lambda s: users_by_ids(s, [user_id])[0].email)
    found = await db.read(lambda s: notifications.caught(s, recipient=own, limit=MAIL_LISTED))
    context = {
        "principal": principal, "emails": found, "own": own,
        "catching": settings.notifications.mail_catcher,
        "smtp_host": settings.notifications.smtp_host,
        "catcher_port": settings.notifications.mail_catcher_port,
    }  # fmt: skip
    return render(request, "portal/mail.html", context)
