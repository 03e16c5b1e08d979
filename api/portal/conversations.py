"""The delivery's conversation in the portal: the messages (loaded into the brand's review page
and the creator's delivery page, and polled while they are open), writing with an attachment,
and attachments served as downloads. The same rules as the API's routes, which these call."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import DatabaseDep, Principal, SettingsDep, StoreDep
from api.portal.media import _json_body
from api.portal.web import Csrf, SignedIn, render
from api.problems import human_reason
from api.routers import conversations as conversations_api
from domain.enums import Role
from integrations.storage import StorageError
from models import notifications
from models.conversations import Party
from nexus.errors import AppError, Forbidden, NotFound

router = APIRouter()
SHOWN = 200
# The form's fields as the API names them.
FIELDS = {"body": "message-body", "attachment_key": "message-file"}


def _context(principal: Principal, party: Party, posted: list[Any]) -> dict[str, Any]:
    return {
        "principal": principal, "d": party.delivery, "party": party, "conversation": posted,
        "my_side": conversations_api.side_of(principal),
    }  # fmt: skip


async def _page(
    request: Request,
    principal: Principal,
    db: DatabaseDep,
    delivery_id: uuid.UUID,
    errors: dict[str, str] | None = None,
    draft: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    try:
        party, posted = await conversations_api.list_messages(db, principal, delivery_id, SHOWN)
    except NotFound:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    back = "/portal/ops" if principal.role == Role.OPS else f"/portal/deliveries/{delivery_id}"
    context = _context(principal, party, posted) | {
        "conversation_errors": errors or {}, "message_draft": draft, "back": back,
    }  # fmt: skip
    return render(request, "portal/conversation.html", context, status_code)


@router.get("/deliveries/{delivery_id}/messages")
async def messages(
    request: Request, delivery_id: uuid.UUID, principal: SignedIn, db: DatabaseDep
) -> HTMLResponse:
    """The conversation: as the list the delivery page loads and polls (htmx), or as a page of
    its own (ops, or a browser without scripts). Opening it marks the reader's notifications
    of its messages read."""
    user_id = principal.user_id
    assert user_id is not None
    link = f"/deliveries/{delivery_id}/messages"
    if request.headers.get("HX-Request") != "true":
        response = await _page(request, principal, db, delivery_id)
    else:
        try:
            party, posted = await conversations_api.list_messages(db, principal, delivery_id, SHOWN)
        except NotFound:
            return render(request, "portal/not_found.html", {"principal": principal}, 404)
        context = _context(principal, party, posted)
        response = render(request, "portal/partials/conversation_messages.html", context)
    if response.status_code == 200:
        await db.run(lambda s: notifications.mark_all_read(s, user_id, link=link))
    return response


@router.post("/deliveries/{delivery_id}/messages", response_model=None, dependencies=[Csrf])
async def send(
    request: Request,
    delivery_id: uuid.UUID,
    principal: SignedIn,
    db: DatabaseDep,
    store: StoreDep,
    body: Annotated[str, Form(max_length=20_000)] = "",
    attachment_key: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Send a message; a refusal comes back next to the field, with what was typed."""
    if principal.role not in (Role.BRAND_ADMIN, Role.BRAND_MEMBER, Role.CREATOR):
        raise Forbidden(f"role {principal.role.value} may not write here")
    try:
        message = conversations_api.MessageCreate.model_validate(
            {"body": body, "attachment_key": attachment_key or None}
        )
        await conversations_api.post_message(request, delivery_id, message, principal, db, store)
    except ValidationError as exc:
        errors = {FIELDS.get(str(e["loc"][0]), "message-body"): _human(e) for e in exc.errors()}
        return await _page(request, principal, db, delivery_id, errors, body, 422)
    except AppError as exc:
        errors = {
            FIELDS.get(p.field.removeprefix("body."), "message-body"): _sentence(p.reason)
            for p in exc.errors
        } or {"message-body": _sentence(exc.detail)}
        return await _page(request, principal, db, delivery_id, errors, body, exc.status)
    return RedirectResponse(f"/portal/deliveries/{delivery_id}#conversation", status_code=303)


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "." if text else text


def _human(error: Any) -> str:
    if error["type"] == "string_too_long":
        return f"Keep the message under {conversations_api.MAX_BODY:,} characters."
    return human_reason(error)


@router.post("/deliveries/{delivery_id}/attachments", response_model=None, dependencies=[Csrf])
async def attachment_ticket(
    request: Request,
    delivery_id: uuid.UUID,
    principal: SignedIn,
    settings: SettingsDep,
    store: StoreDep,
    db: DatabaseDep,
) -> JSONResponse:
    """Where the page asks to upload a file for a message (JSON, as the API): the bytes then
    go to the portal's upload target, authorized by the session."""
    if principal.role not in (Role.BRAND_ADMIN, Role.BRAND_MEMBER, Role.CREATOR):
        raise Forbidden(f"role {principal.role.value} may not upload")
    await conversations_api.visible(db, principal, delivery_id)
    body = await _json_body(request, conversations_api.AttachmentCreate)
    ticket = await conversations_api.issue_attachment_ticket(
        body, principal, settings, store, db, "/portal/uploads/content/"
    )
    return JSONResponse(ticket.model_dump(mode="json"), 201)


@router.get("/deliveries/{delivery_id}/messages/{message_id}/attachment", response_model=None)
async def attachment(
    delivery_id: uuid.UUID,
    message_id: uuid.UUID,
    principal: SignedIn,
    db: DatabaseDep,
    store: StoreDep,
) -> Response:
    """A message's attachment, through the platform's media serving (a download; a JPEG or
    PNG its bytes prove may show in the page)."""
    try:
        return await conversations_api.attachment(delivery_id, message_id, principal, db, store)
    except (NotFound, StorageError):
        return Response(status_code=404)
