"""Media in the portal: uploads authorized by the session (the API's tickets; the embedded
store's bytes stream through the portal), a submission's video for the in-page player, and
what a brand paid for: the page of each license with its video, final files and
certificate as downloads. Refusals of the upload calls are problem+json, as from the API:
the page's script reads their `detail`."""

from __future__ import annotations

import uuid
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from activities.licensing import certificate
from api.deps import DatabaseDep, Principal, SettingsDep, StoreDep
from api.portal.web import Csrf, SignedIn, render
from api.problems import human_reason
from api.routers import deliveries as deliveries_api
from api.routers import licenses as licenses_api
from api.routers import uploads as uploads_api
from domain.enums import Role
from integrations.storage import StorageError
from models import licenses
from models.licenses import License
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
            FieldProblem(".".join(["body", *map(str, e["loc"])]), human_reason(e))
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


# -- what the brand paid for ------------------------------------------------------------------


def _not_found(request: Request, principal: Principal) -> HTMLResponse:
    return render(request, "portal/not_found.html", {"principal": principal}, 404)


def _license_view(session: Session, row: License) -> dict[str, Any]:
    names = licenses.license_names(session, [row.id]).get(row.id)
    files = licenses.licensed_files(session, row)
    parties = licenses_api.parties_of(names)
    approved = files.approved
    playable = (
        approved is not None
        and approved.checks_passed
        and bool((approved.media or {}).get("master_key"))
    )
    return {
        "license": row,
        "names": names,
        "sections": certificate.sections(row.status.value, row.version, row.terms, parties)
        if parties
        else [],
        "downloads": licenses_api.downloads_of(session, row, f"/portal/licenses/{row.id}"),
        "approved": approved if playable else None,
        "has_thumbnail": bool(approved and (approved.media or {}).get("thumbnail_key")),
        "noun": (approved.media or {}).get("kind", "video") if approved else "video",
    }


@router.get("/licenses/{license_id}", response_model=None)
async def license_page(
    request: Request, license_id: uuid.UUID, principal: SignedIn, db: DatabaseDep
) -> HTMLResponse:
    """A license the brand holds: its video to watch and download, the final files once
    delivered, and the certificate. The brand's workspace and ops only."""
    try:
        row = await licenses_api.licensee_license(db, principal, license_id)
    except NotFound:
        return _not_found(request, principal)
    context = {"principal": principal, **await db.run(_license_view, row),
               "player": principal.role != Role.OPS}  # fmt: skip
    return render(request, "portal/license.html", context)


@router.get("/deliveries/{delivery_id}/license", response_model=None)
async def delivery_license(
    request: Request, delivery_id: uuid.UUID, principal: SignedIn, db: DatabaseDep
) -> Response:
    """From a delivery to the page of the license its approval granted (the delivery's
    brand and ops)."""
    filters: dict[str, Any] = {"delivery_id": delivery_id}
    if principal.role != Role.OPS:
        filters["workspace_id"] = principal.workspace_id
    found = await db.run(licenses.list_licenses, filters, 1, 0)
    if not found or principal.role == Role.CREATOR:
        return _not_found(request, principal)
    return RedirectResponse(f"/portal/licenses/{found[0].id}", status_code=303)


async def _download(
    request: Request,
    license_id: uuid.UUID,
    kind: licenses_api.FileKind,
    principal: Principal,
    db: DatabaseDep,
    store: StoreDep,
) -> Response:
    try:
        row = await licenses_api.licensee_license(db, principal, license_id)
        return await licenses_api.licensed_file(db, store, row, kind)
    except NotFound:
        return _not_found(request, principal)


@router.get("/licenses/{license_id}/video", response_model=None)
async def licensed_video(
    request: Request,
    license_id: uuid.UUID,
    principal: SignedIn,
    db: DatabaseDep,
    store: StoreDep,
) -> Response:
    """The approved video as a download (never shown inline)."""
    return await _download(request, license_id, "video", principal, db, store)


@router.get("/licenses/{license_id}/final", response_model=None)
async def licensed_final(
    request: Request,
    license_id: uuid.UUID,
    principal: SignedIn,
    db: DatabaseDep,
    store: StoreDep,
) -> Response:
    """The final files, once delivered, as a download."""
    return await _download(request, license_id, "final", principal, db, store)


@router.get("/licenses/{license_id}/certificate.pdf", response_model=None)
async def license_certificate(
    request: Request,
    license_id: uuid.UUID,
    principal: SignedIn,
    db: DatabaseDep,
    settings: SettingsDep,
) -> Response:
    """The license certificate (PDF) for either party and ops."""
    try:
        await licenses_api.visible_license(db, principal, license_id)
    except NotFound:
        return _not_found(request, principal)
    return await licenses_api.certificate_response(db, settings, license_id)
