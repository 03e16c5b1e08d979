"""Creator pages: open campaigns that fit and applying, applications and counter-offers,
the guided task list of each deliverable, licenses of their work, and earnings with payout
status. Also the delivery page brand and creator share, and its live part."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import (
    HTMLResponse,
    RedirectResponse,
    Response,
)
from pydantic import ValidationError
from sqlmodel import Session

from activities.checks.preflight import live_caption_check
from api.deps import (
    CreatorPrincipal,
    DatabaseDep,
    Principal,
    SettingsDep,
    StoreDep,
    TemporalDep,
)
from api.portal.brand import is_photo, person_review, review_page
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
    BriefPublic,
    ChangeAnswerCreate,
    DeliveryPublic,
    DraftCreate,
    FinalCreate,
    ResponseCreate,
    ScriptCreate,
)
from domain import bank, words
from domain.brief_words import deliverable_words
from domain.enums import DeliveryStage, Role
from models import applications, campaigns, creators, deliveries, money
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
) -> HTMLResponse:
    listing = await marketplace_api.open_campaigns(as_creator(principal, creator_id), db, 50, 0)
    return render(request, "portal/marketplace.html", {"principal": principal, "listing": listing})


@router.get("/marketplace")
async def marketplace(
    request: Request, principal: CreatorUser, creator_id: CreatorId, db: DatabaseDep
) -> HTMLResponse:
    """Campaigns the creator can apply for, each card with its brand, deliverables, terms
    and deadlines, linking to the full brief."""
    return await _marketplace(request, principal, creator_id, db)


async def _brief_page(
    request: Request,
    principal: Principal,
    creator_id: uuid.UUID,
    campaign_id: uuid.UUID,
    db: DatabaseDep,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        entry = await marketplace_api.open_entry(db, campaign_id, creator_id)
    except NotFound:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    now = datetime.now(UTC)
    c = marketplace_api.listing(entry, now)
    choices = [d for d in c.deliverables if d.open_slots > 0 and not d.applied]
    form = form or {}
    if "deliverable_id" not in form and choices:
        form["deliverable_id"] = str(choices[0].id)
    closed = entry.closed_reason(now)
    if closed is None and not any(d.open_slots for d in c.deliverables):
        closed = "Every creator slot in this campaign is taken."
    elif closed is None and not choices:
        closed = "You have applied for every deliverable that still has a place open."
    context = {"principal": principal, "c": c, "choices": choices, "closed": closed,
               "form": form, "errors": errors or {}}  # fmt: skip
    return render(request, "portal/campaign_brief.html", context, status_code)


@router.get("/marketplace/{campaign_id}")
async def campaign_brief(
    request: Request,
    campaign_id: uuid.UUID,
    principal: CreatorUser,
    creator_id: CreatorId,
    db: DatabaseDep,
) -> HTMLResponse:
    """A campaign's full brief and usage rights, with the form to apply."""
    return await _brief_page(request, principal, creator_id, campaign_id, db)


def _application_form(deliverable_id: str, pitch: str, price: str, currency: str) -> (
    tuple[ApplicationCreate | None, dict[str, str]]
):  # fmt: skip
    """The API's application body from the form, or what to fix, in words."""
    errors: dict[str, str] = {}
    price_minor = None
    try:
        price_minor = minor_units(price, currency)
    except BadAmount as exc:
        errors["price"] = str(exc)
    if not deliverable_id:
        errors["deliverable_id"] = "Choose the deliverable you apply for."
    if not pitch.strip():
        errors["pitch"] = "Tell the brand in a few words why you are a good fit."
    if price_minor is None and "price" not in errors:
        errors["price"] = "Enter the price you ask, for example 750 or 750.50."
    elif price_minor is not None and price_minor <= 0:
        errors["price"] = "Enter a price above zero."
    if errors:
        return None, errors
    try:
        body = ApplicationCreate.model_validate(
            {"deliverable_id": deliverable_id, "pitch": pitch.strip(), "price_minor": price_minor}
        )
    except ValidationError as exc:
        names = {"pitch": "pitch", "price_minor": "price", "deliverable_id": "deliverable_id"}
        errors = field_errors(exc, names)
        if "deliverable_id" in errors:
            errors["deliverable_id"] = "Choose one of the deliverables listed above."
        if "price" in errors:
            errors["price"] = "This price is too high."
        return None, errors
    return body, {}


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
    entry = await db.run(campaigns.get_marketplace_entry, campaign_id, creator_id)
    if entry is None:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    body, errors = _application_form(deliverable_id, pitch, price, entry.campaign.currency)
    if body is not None:
        try:
            await marketplace_api.apply(
                campaign_id, body, as_creator(principal, creator_id), db, temporal, settings
            )
        except ValidationFailed as exc:
            errors = {"deliverable_id": "Choose one of the deliverables listed above."}
            if not any(e.field == "body.deliverable_id" for e in exc.errors):
                errors = {"form": exc.detail}
        except AppError as exc:
            errors = {"form": _human(exc.detail)}
    if errors:
        return await _brief_page(request, principal, creator_id, campaign_id, db, form, errors, 422)
    return RedirectResponse("/portal/applications", status_code=303)


# What the campaign's process says when it refuses an application, as a person would say it.
_REFUSALS = {
    "every creator slot of this deliverable is taken": (
        "The last creator slot for this deliverable was just taken; choose another one."
    ),
    "the application deadline has passed": "Applications for this campaign have closed.",
    "the campaign is not taking applications": "This campaign is not taking applications any more.",
}


def _human(detail: str) -> str:
    if detail in _REFUSALS:
        return _REFUSALS[detail]
    if detail.startswith("this creator already has an"):
        return "You have already applied for this deliverable: see your applications."
    if detail.startswith("the campaign is"):
        return "This campaign is not taking applications any more."
    return detail[:1].upper() + detail[1:]


@router.get("/applications")
async def my_applications(
    request: Request, principal: CreatorUser, creator_id: CreatorId, db: DatabaseDep
) -> HTMLResponse:
    """The creator's applications and invitations: campaign, brand, deliverable, price and
    where each stands."""

    def rows(session: Session) -> dict[str, Any]:
        found = applications.list_for_creator(session, creator_id)
        names = campaigns.application_context(
            session, {a.campaign_id for a in found}, {a.deliverable_id for a in found}
        )
        return {"rows": found, "names": names}

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
        "photo": await is_photo(db, delivery),
        **await _brief_to_accept(principal, delivery, db),
        # While a person reviews the draft: the creator is told so, and by when.
        "human_review": await person_review(db, delivery),
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


async def _refused(
    request: Request,
    principal: Principal,
    delivery_id: uuid.UUID,
    db: DatabaseDep,
    temporal: TemporalDep,
    field: str,
    message: str,
) -> HTMLResponse:
    """The task page again, refusing the form before anything is asked of the API: `message`
    next to `field`."""
    return await _task_page(request, principal, delivery_id, db, temporal,
                            errors={field: message}, status_code=422)  # fmt: skip


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


async def _brief_to_accept(
    principal: Principal, delivery: DeliveryPublic, db: DatabaseDep
) -> dict[str, Any]:
    """The brief and usage rights the creator accepts, while the delivery waits for that."""
    if principal.role != Role.CREATOR or delivery.stage != DeliveryStage.AWAITING_BRIEF_ACCEPTANCE:
        return {}
    card = await db.run(campaigns.brief_card, delivery.campaign_id)
    deliverable = await db.run(campaigns.get_deliverable, delivery.deliverable_id)
    if card is None or deliverable is None:
        return {}
    campaign, brief, brand_name = card
    mine = deliverable_words(deliverable.format, deliverable.duration_s)
    agreed = words.money(delivery.price_minor, delivery.currency)
    return {"brief": BriefPublic.model_validate(brief, from_attributes=True),
            "brief_brand": brand_name, "currency": campaign.currency,
            "brief_deliverables": [{"summary": f"{mine}, {agreed} agreed"}]}  # fmt: skip


async def _asks_perpetual(db: DatabaseDep, delivery_id: uuid.UUID, creator_id: uuid.UUID) -> bool:
    def asks(session: Session) -> bool:
        row = deliveries.get_delivery(session, delivery_id)
        if row is None or row.creator_id != creator_id:
            return False  # the API answers that it is not theirs
        card = campaigns.brief_card(session, row.campaign_id)
        return card is not None and bool(card[1].usage_rights.get("perpetual"))

    return await db.run(asks)


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
    """Accept the brief and its usage rights; perpetual rights only with the box ticked."""
    if not accept_perpetual_rights and await _asks_perpetual(db, delivery_id, creator_id):
        return await _refused(request, principal, delivery_id, db, temporal,
                              "accept_perpetual_rights", "Tick the box to grant these rights "
                              "forever, or do not accept the brief.")  # fmt: skip
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


# The live check under the caption field: the preflight's rules, with the brief's brand and
# target markets, as the creator types (htmx); nothing is stored.
CAPTION_LIMIT = 4400


@router.post("/deliveries/{delivery_id}/caption-check", response_model=None, dependencies=[Csrf])
async def caption_check(
    request: Request,
    delivery_id: uuid.UUID,
    principal: CreatorUser,
    creator_id: CreatorId,
    db: DatabaseDep,
    caption: Annotated[str, Form()] = "",
) -> Response:
    def brief_of(session: Session) -> tuple[str, list[str], bool, str | None] | None:
        row = deliveries.get_delivery(session, delivery_id)
        if row is None or row.creator_id != creator_id:
            return None
        card = campaigns.brief_card(session, row.campaign_id)
        profile = creators.get_profile(session, creator_id)
        if card is None or profile is None:
            return None
        _, brief, brand_name = card
        # The endorsement's language as the delivery's checks take it.
        language = brief.language or next(iter(profile.languages), None)
        markets = list(brief.target_countries or [])
        return brand_name, markets, brief.disclosure_required, language

    found = await db.run(brief_of)
    if found is None:
        raise NotFound("delivery not found")
    brand_name, markets, required, language = found
    context: dict[str, object] = {"caption": caption.strip(), "required": required}
    if len(caption) > CAPTION_LIMIT:
        context["too_long"] = f"Keep the caption under {CAPTION_LIMIT:,} characters."
    elif caption.strip() and required:
        # In a thread: the first check of a process loads the language identifier's models.
        context["check"] = await asyncio.to_thread(
            live_caption_check, caption, brand=brand_name, markets=markets, language=language
        )
    return render(request, "portal/partials/caption_check.html", context)


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
        message = "Choose whether to accept or decline the extra revision."
        return await _refused(request, principal, delivery_id, db, temporal, "form", message)
    call = deliveries_api.answer_extra_revision(
        delivery_id, ResponseCreate(accept=accept == "yes"), as_creator(principal, creator_id),
        db, temporal, settings,
    )  # fmt: skip
    return await _step(request, principal, delivery_id, db, temporal, call)


# -- earnings --------------------------------------------------------------------------------

# Where each part of the API's bank-details body sits in the earnings page's form.
BANK_FIELDS = {n: n for n in ("holder_name", "iban", "bic", "routing_number", "account_number")}


async def _earnings(
    request: Request,
    principal: Principal,
    creator_id: uuid.UUID,
    db: DatabaseDep,
    template: str,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    me = as_creator(principal, creator_id)
    payouts = await money_api.creator_payouts(me, db)
    configured, _ = money_api.providers(request)

    def read(session: Session) -> dict[str, Any]:
        details = money.bank_details(session, creator_id)
        mine = money.disputes(session, creator_id=creator_id)
        named = campaigns.by_ids(session, {p.campaign_id for p in payouts})
        return {
            "account": money.payout_account(session, creator_id),
            # Each payout names the campaign it pays for.
            "campaign_titles": {c.id: c.title for c in named.values()},
            "bank_details": money.masked(details) if details else None,
            "bank_updated": details.updated_at if details else None,
            "disputes": money_api.dispute_public(
                session, [d for d in mine if d.subject == "payout"]
            ),
        }

    found = await db.run(read)
    open_disputes = {d.subject_id for d in found["disputes"] if d.status == "open"}
    context = {
        "principal": principal, "payouts": payouts, "manual": configured.name == "manual",
        "moving": any(p.status not in SETTLED for p in payouts), "open_disputes": open_disputes,
        "form": form or {}, "errors": errors or {}, **found,
    }  # fmt: skip
    return render(request, template, context, status_code)


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
    settings: SettingsDep,
) -> Response:
    """Open the payout account and go to the provider's onboarding when it needs one."""
    try:
        opened = await money_api.open_payout_account(
            as_creator(principal, creator_id), db, temporal, request, settings
        )
    except AppError:
        return RedirectResponse("/portal/earnings?problem=provider", status_code=303)
    return RedirectResponse(opened.onboarding_url or "/portal/earnings", status_code=303)


@router.post("/payout-account/bank-details", response_model=None, dependencies=[Csrf])
async def bank_details(
    request: Request,
    principal: CreatorUser,
    creator_id: CreatorId,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    holder_name: Annotated[str, Form(max_length=200)] = "",
    scheme: Annotated[str, Form(max_length=10)] = "iban",
    iban: Annotated[str, Form(max_length=60)] = "",
    bic: Annotated[str, Form(max_length=30)] = "",
    routing_number: Annotated[str, Form(max_length=30)] = "",
    account_number: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Where manual payouts go, checked (IBAN check digits, ABA checksum) before it is kept,
    encrypted; each problem is shown next to its field and nothing typed is lost."""
    form = {"holder_name": holder_name, "scheme": scheme, "iban": iban, "bic": bic,
            "routing_number": routing_number, "account_number": account_number}  # fmt: skip
    us = scheme == "us"
    try:
        # Every problem at once, next to its field, before the API checks the same again.
        bank.bank_account(
            holder_name=holder_name, scheme=scheme, iban=iban, bic=bic,
            routing_number=routing_number, account_number=account_number,
        )  # fmt: skip
    except bank.BankDetailsInvalid as exc:
        errors = {k if k in BANK_FIELDS else "form": v for k, v in exc.problems.items()}
        return await _earnings(request, principal, creator_id, db, "portal/earnings.html", form,
                               errors, 422)  # fmt: skip
    try:
        body = money_api.BankDetailsCreate.model_validate(
            {"holder_name": holder_name, "iban": None if us else iban, "bic": None if us else bic,
             "routing_number": routing_number if us else None,
             "account_number": account_number if us else None}
        )  # fmt: skip
        await money_api.set_bank_details(
            body, as_creator(principal, creator_id), db, temporal, settings, request
        )
    except ValidationError as exc:
        errors = field_errors(exc, BANK_FIELDS)
        return await _earnings(request, principal, creator_id, db, "portal/earnings.html", form,
                               errors, 422)  # fmt: skip
    except AppError as exc:
        errors = field_errors(exc, BANK_FIELDS)
        if us and "iban" in errors and not routing_number.strip():
            errors["routing_number"] = errors.pop("iban")
        return await _earnings(request, principal, creator_id, db, "portal/earnings.html", form,
                               errors, exc.status)  # fmt: skip
    return RedirectResponse("/portal/earnings?saved=bank-details", status_code=303)


@router.post("/payouts/dispute", response_model=None, dependencies=[Csrf])
async def dispute_payout(
    request: Request,
    principal: CreatorUser,
    creator_id: CreatorId,
    db: DatabaseDep,
    payout_id: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The creator disputes a payout; ops answer on the earnings page and in the inbox."""
    form = {"payout_id": payout_id, "reason": reason}
    try:
        body = money_api.DisputeCreate.model_validate({"reason": reason})
        await money_api.dispute_payout(
            payout_id, body, as_creator(principal, creator_id), db, request
        )
    except ValidationError:
        errors = {"reason": "Say what is wrong with this payout (at most 2,000 characters)."}
        return await _earnings(request, principal, creator_id, db, "portal/earnings.html", form,
                               errors, 422)  # fmt: skip
    except AppError as exc:
        return await _earnings(request, principal, creator_id, db, "portal/earnings.html", form,
                               {"dispute": exc.detail}, exc.status)  # fmt: skip
    return RedirectResponse("/portal/earnings?saved=dispute", status_code=303)


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
