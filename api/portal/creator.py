"""Creator pages: open campaigns that fit and applying, applications and counter-offers,
the guided task list of each deliverable, licenses of their work, and earnings with payout
status. Also the delivery page brand and creator share, and its live part."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import (
    HTMLResponse,
    RedirectResponse,
    Response,
)
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import (
    CreatorPrincipal,
    DatabaseDep,
    Principal,
    SettingsDep,
    StoreDep,
    TemporalDep,
)
from api.portal.brand import review_page
from api.portal.web import (
    BRAND_ROLES,
    BadAmount,
    CreatorId,
    CreatorUser,
    Csrf,
    SignedIn,
    field_errors,
    minor_units,
    moment,
    render,
)
from api.routers import deliveries as deliveries_api
from api.routers import licenses as licenses_api
from api.routers import marketplace as marketplace_api
from api.routers import money as money_api
from api.schemas import (
    ApplicationCreate,
    BriefAcceptanceCreate,
    ChangeAnswerCreate,
    DraftCreate,
    FinalCreate,
    ResponseCreate,
    ScriptCreate,
)
from domain.enums import DeliveryStage
from models import applications, campaigns, deliveries, money
from models.moderation import waiting_review
from nexus.errors import AppError, NotFound, ValidationFailed

router = APIRouter()

# Payout states after which nothing moves any more.
SETTLED = frozenset({"paid", "failed", "abandoned"})

# The longest script the API takes.
SCRIPT_LIMIT = 10_000

# Steps that take a video, and which submission the upload becomes.
UPLOAD_STEPS = {"upload_draft": "drafts", "fix_issues": "drafts", "address_revisions": "drafts",
                "final_delivery": "final"}  # fmt: skip


def as_creator(principal: Principal, creator_id: uuid.UUID) -> CreatorPrincipal:
    assert principal.user_id is not None
    return CreatorPrincipal(principal, creator_id, principal.user_id)


# -- marketplace and applications -------------------------------------------------------------


async def _marketplace(
    request: Request,
    principal: Principal,
    creator_id: uuid.UUID,
    db: DatabaseDep,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    listing = await marketplace_api.open_campaigns(as_creator(principal, creator_id), db, 50, 0)
    context = {"principal": principal, "listing": listing, "form": form or {},
               "errors": errors or {}}  # fmt: skip
    return render(request, "portal/marketplace.html", context, status_code)


async def _currency(db: DatabaseDep, campaign_id: uuid.UUID) -> str:
    record = await db.run(campaigns.get_public_campaign, campaign_id)
    return record.campaign.currency if record else ""


@router.get("/marketplace")
async def marketplace(
    request: Request, principal: CreatorUser, creator_id: CreatorId, db: DatabaseDep
) -> HTMLResponse:
    return await _marketplace(request, principal, creator_id, db)


@router.post("/marketplace/{campaign_id}/applications", response_model=None, dependencies=[Csrf])
async def apply(
    request: Request,
    campaign_id: uuid.UUID,
    principal: CreatorUser,
    creator_id: CreatorId,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    deliverable_id: Annotated[str, Form(max_length=40)] = "",
    pitch: Annotated[str, Form(max_length=8000)] = "",
    price: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    form = {"deliverable_id": deliverable_id, "pitch": pitch, "price": price}
    errors: dict[str, str] = {}
    try:
        body = ApplicationCreate.model_validate(
            {"deliverable_id": deliverable_id, "pitch": pitch.strip(),
             "price_minor": minor_units(price, await _currency(db, campaign_id))}
        )  # fmt: skip
        await marketplace_api.apply(
            campaign_id, body, as_creator(principal, creator_id), db, temporal, settings
        )
    except BadAmount as exc:
        errors["price"] = str(exc)
    except ValidationError as exc:
        names = {"pitch": "pitch", "price_minor": "price", "deliverable_id": "form"}
        errors = field_errors(exc, names)
    except AppError as exc:
        errors["form"] = exc.detail
    if errors:
        form["campaign_id"] = str(campaign_id)
        return await _marketplace(request, principal, creator_id, db, form, errors, 422)
    return RedirectResponse("/portal/applications", status_code=303)


@router.get("/applications")
async def my_applications(
    request: Request, principal: CreatorUser, creator_id: CreatorId, db: DatabaseDep
) -> HTMLResponse:
    def rows(session: Session) -> dict[str, Any]:
        found = applications.list_for_creator(session, creator_id)
        return {
            "rows": found,
            "campaigns": campaigns.by_ids(session, {a.campaign_id for a in found}),
        }

    context = {"principal": principal, **await db.run(rows)}
    return render(request, "portal/applications.html", context)


@router.post("/applications/{application_id}/response", response_model=None, dependencies=[Csrf])
async def respond(
    application_id: uuid.UUID,
    principal: CreatorUser,
    creator_id: CreatorId,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    accept: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    body = ResponseCreate(accept=accept == "yes")
    # A stale page (the offer expired meanwhile) just shows the current state again.
    with contextlib.suppress(AppError):
        await marketplace_api.respond(
            application_id, body, as_creator(principal, creator_id), db, temporal, settings
        )
    return RedirectResponse("/portal/applications", status_code=303)


# -- deliveries ------------------------------------------------------------------------------


@router.get("/work")
async def my_work(
    request: Request, principal: CreatorUser, creator_id: CreatorId, db: DatabaseDep
) -> HTMLResponse:
    """The creator's deliverables, each with the step it waits for."""

    def rows(session: Session) -> dict[str, Any]:
        found = deliveries.list_deliveries(session, creator_id=creator_id, limit=200)
        return {
            "rows": found,
            "campaigns": campaigns.by_ids(session, {d.campaign_id for d in found}),
        }

    context = {"principal": principal, **await db.run(rows)}
    return render(request, "portal/work.html", context)


async def _task_page(
    request: Request,
    principal: Principal,
    delivery_id: uuid.UUID,
    db: DatabaseDep,
    temporal: TemporalDep,
    template: str = "portal/tasks.html",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    try:
        delivery = await deliveries_api.read_delivery(delivery_id, principal, db, temporal)
    except NotFound:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    title = (await db.run(campaigns.by_ids, {delivery.campaign_id}))[delivery.campaign_id].title
    context = {
        "principal": principal, "d": delivery, "title": title, "errors": errors or {},
        "upload_steps": UPLOAD_STEPS, "moment": moment, "form": form or {},
        # While a person reviews the draft: the creator is told so, and by when.
        "human_review": await db.run(waiting_review, delivery.id)
        if delivery.stage == DeliveryStage.CHECKING else None,
    }  # fmt: skip
    return render(request, template, context, status_code)


@router.get("/deliveries/{delivery_id}")
async def delivery_page(
    request: Request,
    delivery_id: uuid.UUID,
    principal: SignedIn,
    db: DatabaseDep,
    temporal: TemporalDep,
) -> HTMLResponse:
    """The brand reviews a delivery here; its creator works through the task list."""
    if principal.role in BRAND_ROLES:
        return await review_page(request, principal, delivery_id, db, temporal)
    return await _task_page(request, principal, delivery_id, db, temporal)


@router.get("/deliveries/{delivery_id}/live")
async def delivery_live(
    request: Request,
    delivery_id: uuid.UUID,
    principal: SignedIn,
    db: DatabaseDep,
    temporal: TemporalDep,
) -> HTMLResponse:
    """The part of the page that follows the process (polled while it moves)."""
    return await _task_page(
        request, principal, delivery_id, db, temporal, "portal/partials/delivery_live.html"
    )


async def _step(
    request: Request,
    principal: Principal,
    delivery_id: uuid.UUID,
    db: DatabaseDep,
    temporal: TemporalDep,
    call: Awaitable[object],
    form: dict[str, str] | None = None,
) -> Response:
    """Run one step of the delivery; a refusal comes back on the page, next to its field,
    with what was typed (`form`)."""
    names = {"media_key": "video", "caption": "caption", "text": "script"}
    try:
        await call
    except ValidationError as exc:
        errors = field_errors(exc, names)
        if "video" in errors:
            errors["video"] = "Choose a video on your device and upload it first."
        typed = (form or {}).get("script", "").strip()
        if "script" in errors and not typed:
            errors["script"] = "Write your script or concept here."
        elif "script" in errors and len(typed) > SCRIPT_LIMIT:
            errors["script"] = f"Keep the script under {SCRIPT_LIMIT:,} characters."
        return await _task_page(request, principal, delivery_id, db, temporal, errors=errors,
                                status_code=422, form=form)  # fmt: skip
    except ValidationFailed as exc:
        # The API's own checks (an upload that is not the creator's): next to the field.
        errors = {names.get(e.field.removeprefix("body."), "form"): e.reason for e in exc.errors}
        return await _task_page(request, principal, delivery_id, db, temporal, errors=errors,
                                status_code=exc.status, form=form)  # fmt: skip
    except AppError as exc:
        return await _task_page(request, principal, delivery_id, db, temporal,
                                errors={"form": exc.detail}, status_code=exc.status,
                                form=form)  # fmt: skip
    return RedirectResponse(f"/portal/deliveries/{delivery_id}", status_code=303)


@router.post("/deliveries/{delivery_id}/brief-acceptance", response_model=None,
             dependencies=[Csrf])  # fmt: skip
async def accept_brief(
    request: Request,
    delivery_id: uuid.UUID,
    principal: CreatorUser,
    creator_id: CreatorId,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    accept_perpetual_rights: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    body = BriefAcceptanceCreate(accept_perpetual_rights=bool(accept_perpetual_rights))
    call = deliveries_api.accept_brief(
        delivery_id, as_creator(principal, creator_id), db, temporal, settings, body
    )
    return await _step(request, principal, delivery_id, db, temporal, call)


@router.post("/deliveries/{delivery_id}/product-receipt", response_model=None,
             dependencies=[Csrf])  # fmt: skip
async def confirm_product(
    request: Request,
    delivery_id: uuid.UUID,
    principal: CreatorUser,
    creator_id: CreatorId,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    call = deliveries_api.confirm_product(
        delivery_id, as_creator(principal, creator_id), db, temporal, settings
    )
    return await _step(request, principal, delivery_id, db, temporal, call)


@router.post("/deliveries/{delivery_id}/script", response_model=None, dependencies=[Csrf])
async def submit_script(
    request: Request,
    delivery_id: uuid.UUID,
    principal: CreatorUser,
    creator_id: CreatorId,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    script: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    async def call() -> None:
        body = ScriptCreate.model_validate({"text": script.strip()})
        me = as_creator(principal, creator_id)
        await deliveries_api.submit_script(delivery_id, body, me, db, temporal, settings)

    form = {"script": script}
    return await _step(request, principal, delivery_id, db, temporal, call(), form)


@router.post("/deliveries/{delivery_id}/submissions", response_model=None, dependencies=[Csrf])
async def submit_video(
    request: Request,
    delivery_id: uuid.UUID,
    principal: CreatorUser,
    creator_id: CreatorId,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    store: StoreDep,
    kind: Annotated[str, Form(max_length=10)] = "drafts",
    media_key: Annotated[str, Form(max_length=2048)] = "",
    caption: Annotated[str, Form(max_length=4400)] = "",
) -> Response:
    """A draft (with its caption) or the final file, once its upload has finished."""

    async def call() -> None:
        me = as_creator(principal, creator_id)
        # The API refuses a key that is not an upload of the creator's own workspace.
        if kind == "final":
            final = FinalCreate.model_validate({"media_key": media_key})
            await deliveries_api.submit_final(delivery_id, final, me, db, temporal, settings, store)
            return
        draft = DraftCreate.model_validate({"media_key": media_key, "caption": caption.strip()})
        await deliveries_api.submit_draft(delivery_id, draft, me, db, temporal, settings, store)

    return await _step(request, principal, delivery_id, db, temporal, call())


@router.post("/deliveries/{delivery_id}/extra-revision/answer", response_model=None,
             dependencies=[Csrf])  # fmt: skip
async def answer_extra_revision(
    request: Request,
    delivery_id: uuid.UUID,
    principal: CreatorUser,
    creator_id: CreatorId,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    accept: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Accept the brand's extra revision request (its notes become the revision's notes) or
    decline it (the brand approves the draft as it is, or the review window does)."""
    if accept not in ("yes", "no"):
        errors = {"form": "Choose whether to accept or decline the extra revision."}
        return await _task_page(request, principal, delivery_id, db, temporal, errors=errors,
                                status_code=422)  # fmt: skip
    call = deliveries_api.answer_extra_revision(
        delivery_id, ResponseCreate(accept=accept == "yes"), as_creator(principal, creator_id),
        db, temporal, settings,
    )  # fmt: skip
    return await _step(request, principal, delivery_id, db, temporal, call)


# -- earnings --------------------------------------------------------------------------------


async def _earnings(
    request: Request, principal: Principal, creator_id: uuid.UUID, db: DatabaseDep, template: str
) -> HTMLResponse:
    me = as_creator(principal, creator_id)
    payouts = await money_api.creator_payouts(me, db)
    account = await db.run(money.payout_account, creator_id)
    context = {"principal": principal, "payouts": payouts, "account": account,
               "moving": any(p.status not in SETTLED for p in payouts)}  # fmt: skip
    return render(request, template, context)


@router.get("/earnings")
async def earnings(
    request: Request, principal: CreatorUser, creator_id: CreatorId, db: DatabaseDep
) -> HTMLResponse:
    return await _earnings(request, principal, creator_id, db, "portal/earnings.html")


@router.get("/earnings/live")
async def earnings_live(
    request: Request, principal: CreatorUser, creator_id: CreatorId, db: DatabaseDep
) -> HTMLResponse:
    return await _earnings(request, principal, creator_id, db, "portal/partials/payouts.html")


@router.post("/payout-account", response_model=None, dependencies=[Csrf])
async def payout_account(
    request: Request,
    principal: CreatorUser,
    creator_id: CreatorId,
    db: DatabaseDep,
    temporal: TemporalDep,
) -> Response:
    """Open the payout account and go to the provider's onboarding when it needs one."""
    try:
        opened = await money_api.open_payout_account(
            as_creator(principal, creator_id), db, temporal, request
        )
    except AppError:
        return RedirectResponse("/portal/earnings?problem=provider", status_code=303)
    return RedirectResponse(opened.onboarding_url or "/portal/earnings", status_code=303)


# -- licenses --------------------------------------------------------------------------------


@router.get("/my-licenses")
async def my_licenses(
    request: Request, principal: CreatorUser, db: DatabaseDep, temporal: TemporalDep
) -> HTMLResponse:
    """Licenses of the creator's work, with what a brand proposes to change."""
    rows = await licenses_api.list_licenses(principal, db, None, None, None, 200, 0)
    live = [await licenses_api.get_license(r.id, principal, db, temporal) for r in rows]
    labels = await licenses_api.labels(db, live)
    context = {"principal": principal, "rows": live, "labels": labels}
    return render(request, "portal/my_licenses.html", context)


@router.post("/my-licenses/{license_id}/answer", response_model=None, dependencies=[Csrf])
async def answer_change(
    license_id: uuid.UUID,
    principal: CreatorUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    accept: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    body = ChangeAnswerCreate(accept=accept == "yes")
    # A change answered meanwhile (or withdrawn) just shows the current state again.
    with contextlib.suppress(AppError):
        await licenses_api.answer_change(license_id, body, principal, db, temporal, settings)
    return RedirectResponse("/portal/my-licenses", status_code=303)
