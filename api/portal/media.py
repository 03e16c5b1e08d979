"""Media in the portal: uploads authorized by the session (the API's tickets; the embedded
store's bytes stream through the portal) and a submission's video for the in-page player.
Refusals of the upload calls are problem+json, as from the API: the page's script reads
their `detail`."""

from __future__ import annotations

import uuid
from typing import Literal, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from api.deps import DatabaseDep, SettingsDep, StoreDep
from api.portal.web import Csrf, SignedIn
from api.routers import deliveries as deliveries_api
from api.routers import uploads as uploads_api
from integrations.storage import StorageError
from nexus.errors import FieldProblem, Forbidden, NotFound, ValidationFailed

router = APIRouter()
Body = TypeVar("Body", bound=BaseModel)


async def _json_body(request: Request, model: type[Body]) -> Body:
    """The body as `model`: JSON only (a form-encoded body is refused, not parsed)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ValidationFailed("send the body as JSON, with Content-Type: application/json")
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = [
            FieldProblem(".".join(["body", *map(str, e["loc"])]), e["msg"])
            for e in exc.errors(include_url=False)
        ]
        raise ValidationFailed("the request does not match the schema", errors=errors) from None


def _uploader(principal: SignedIn) -> None:
    if principal.role not in uploads_api.UPLOADERS:
        raise Forbidden(f"role {principal.role.value} may not upload")


@router.post("/uploads", response_model=None, dependencies=[Csrf])
async def create_upload(
    request: Request, principal: SignedIn, settings: SettingsDep, store: StoreDep, db: DatabaseDep
) -> JSONResponse:
    """Where the page sends a file: the API's ticket, with the embedded store's target under
    the portal so the session cookie (not a bearer token) authorizes the bytes."""
    _uploader(principal)
    body = await _json_body(request, uploads_api.UploadCreate)
    ticket = await uploads_api.issue_ticket(
        body, principal, settings, store, db, "/portal/uploads/content/"
    )
    return JSONResponse(ticket.model_dump(mode="json"), 201)


@router.post("/uploads/complete", response_model=None, dependencies=[Csrf])
async def complete_upload(
    request: Request, principal: SignedIn, store: StoreDep, db: DatabaseDep
) -> JSONResponse:
    """Assemble a multipart upload once every part is in object storage."""
    _uploader(principal)
    body = await _json_body(request, uploads_api.MultipartComplete)
    done = await uploads_api.complete_upload(body, principal, store, db)
    return JSONResponse(done.model_dump(), 200)


@router.put("/uploads/content/{key:path}", name="portal_put_content", dependencies=[Csrf])
async def put_content(
    key: str,
    request: Request,
    principal: SignedIn,
    settings: SettingsDep,
    store: StoreDep,
    db: DatabaseDep,
) -> JSONResponse:
    done = await uploads_api.put_content(key, request, principal, settings, store, db)
    return JSONResponse(done.model_dump(), 201)


@router.get("/media/{delivery_id}/{submission_id}", response_model=None)
async def media(
    delivery_id: uuid.UUID,
    submission_id: uuid.UUID,
    principal: SignedIn,
    db: DatabaseDep,
    store: StoreDep,
) -> Response:
    """A submission's video for the in-page player, to the delivery's brand and creator:
    the checked, streamable master (seekable: range requests); the upload as it arrived
    (before the checks, or when they found no video) only ever as a download."""
    try:
        found = await deliveries_api.visible_submission(db, principal, delivery_id, submission_id)
        if (found.media or {}).get("master_key"):
            return await deliveries_api.submission_media(
                delivery_id, submission_id, "video", principal, db, store
            )
        if found.media_key is None:
            return Response(status_code=404)
        return await deliveries_api.stored_object(store, found.media_key, "video")
    except (NotFound, StorageError):
        return Response(status_code=404)


@router.get("/media/{delivery_id}/{submission_id}/{part}", response_model=None)
async def checked_part(
    delivery_id: uuid.UUID,
    submission_id: uuid.UUID,
    part: Literal["captions", "thumbnail"],
    principal: SignedIn,
    db: DatabaseDep,
    store: StoreDep,
) -> Response:
    """The checked draft's WebVTT captions (the player's captions track) or thumbnail (the
    portfolio)."""
    try:
        return await deliveries_api.submission_media(
            delivery_id, submission_id, part, principal, db, store
        )
    except (NotFound, StorageError):
        return Response(status_code=404)
