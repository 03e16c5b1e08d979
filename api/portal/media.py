"""Media in the portal: uploads authorized by the session (the API's tickets; the embedded
store's bytes stream through the portal) and a submission's video for the in-page player."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import DatabaseDep, SettingsDep, StoreDep
from api.portal.web import Csrf, SignedIn
from api.routers import deliveries as deliveries_api
from api.routers import uploads as uploads_api
from integrations.storage import StorageError
from nexus.errors import AppError, Forbidden, NotFound

router = APIRouter()


@router.post("/uploads", response_model=None, dependencies=[Csrf])
async def create_upload(request: Request, principal: SignedIn, settings: SettingsDep) -> Response:
    """Where the page sends a file: the API's ticket, with the embedded store's target moved
    under the portal so the session cookie (not a bearer token) authorizes the bytes."""
    try:
        if principal.role not in uploads_api.UPLOADERS:
            raise Forbidden(f"role {principal.role.value} may not upload")
        body = uploads_api.UploadCreate.model_validate_json(await request.body())
        ticket = await run_in_threadpool(
            uploads_api.create_upload, body, principal, settings, request.app.state.store, request
        )
    except ValidationError as exc:
        return JSONResponse({"detail": exc.errors(include_url=False)[0]["msg"]}, 422)
    except AppError as exc:
        return JSONResponse({"detail": exc.detail}, exc.status)
    if not ticket.direct:
        ticket.urls = [str(request.url_for("portal_put_content", key=ticket.key))]
    return JSONResponse(ticket.model_dump(mode="json"), 201)


@router.post("/uploads/complete", response_model=None, dependencies=[Csrf])
async def complete_upload(request: Request, principal: SignedIn) -> JSONResponse:
    """Assemble a multipart upload once every part is in object storage."""
    try:
        if principal.role not in uploads_api.UPLOADERS:
            raise Forbidden(f"role {principal.role.value} may not upload")
        body = uploads_api.MultipartComplete.model_validate_json(await request.body())
        done = await run_in_threadpool(
            uploads_api.complete_upload, body, principal, request.app.state.store
        )
    except ValidationError as exc:
        return JSONResponse({"detail": exc.errors(include_url=False)[0]["msg"]}, 422)
    except AppError as exc:
        return JSONResponse({"detail": exc.detail}, exc.status)
    return JSONResponse(done.model_dump(), 200)


@router.put("/uploads/content/{key:path}", name="portal_put_content", dependencies=[Csrf])
async def put_content(
    key: str, request: Request, principal: SignedIn, settings: SettingsDep
) -> JSONResponse:
    try:
        done = await uploads_api.put_content(
            key, request, principal, settings, request.app.state.store
        )
    except AppError as exc:
        return JSONResponse({"detail": exc.detail}, exc.status)
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
    the checked, streamable master (seekable: range requests), or before the checks the
    upload as it arrived."""
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
    except NotFound:
        return Response(status_code=404)
