"""Brand pages: campaigns with stage and spend, the brief builder, funding, applications,
the review queue with the player and the check report, licenses, and statements.

Every action calls the same endpoint function the JSON API serves, with the signed-in
principal, so rules, workflow Updates and errors are the API's own."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import DatabaseDep, Principal, SettingsDep, TemporalDep
from api.portal.web import (
    BadAmount,
    BrandUser,
    Csrf,
    field_errors,
    label,
    minor_units,
    moment,
    render,
)
from api.problems import human_reason
from api.routers import campaigns as campaigns_api
from api.routers import deliveries as deliveries_api
from api.routers import licenses as licenses_api
from api.routers import money as money_api
from api.routers.licenses import days_left_of
from api.schemas import (
    CampaignCancel,
    CampaignChange,
    CampaignCreate,
    DecisionCreate,
    DeliveryPublic,
    ExtraRevisionCreate,
    InvitationCreate,
    LicenseChangeCreate,
    ReviewCreate,
)
from domain import license_words
from domain.compliance.language import LANGUAGE_NAMES
from domain.enums import (
    ApplicationStatus,
    CampaignStage,
    CampaignVisibility,
    DeliverableFormat,
    DeliveryStage,
)
from domain.words import amount_input
from models import (
    accounts,
    applications,
    brands,
    campaigns,
    creators,
    deliveries,
    licenses,
    money,
)
from models.campaigns import CampaignRecord
from models.moderation import ModerationReview, waiting_review
from nexus.errors import AppError, NotFound
from workflows.contracts.campaign import Channel, UsageRightsSpec

router = APIRouter()

DELIVERABLE_ROWS = 3
# A campaign has at most this many deliverables (the API's limit); the edit form shows each.
MAX_DELIVERABLES = 50
PAGE = 50
CHANNELS: tuple[Channel, ...] = (
    "organic_social", "paid_social", "website_email", "ecommerce", "broadcast_ooh",
)  # fmt: skip
# Where each part of the API's campaign body sits in the brief builder form.
FORM_FIELDS = {
    "brand_id": "brand_id", "title": "title", "visibility": "visibility",
    "budget": "budget", "budget.amount_minor": "budget", "budget.currency": "currency",
    "brief": "delivery_deadline", "deliverables": "d0",
    **{f"brief.{n}": n for n in (
        "product", "objective", "target_audience", "hooks", "dos", "donts",
        "mandatory_mentions", "banned_claims", "brand_safety_sensitivity",
        "disclosure_required", "revision_rounds", "ships_product", "script_required",
        "review_window_days", "target_niches", "target_countries", "application_deadline",
        "delivery_deadline", "language",
    )},
    "brief.usage_rights": "usage_rights",
    **{f"brief.usage_rights.{n}": n for n in (
        "channels", "platforms", "territories", "term_days", "exclusivity_days",
        "exclusivity_category", "modification",
    )},
    "brief.usage_rights.fee_minor": "license_fee",
    **{f"deliverables.{i}": f"d{i}" for i in range(MAX_DELIVERABLES)},
}  # fmt: skip
SENSITIVITIES = {
    "low": "Low: only clear problems stop a video",
    "medium": "Medium: the usual checks",
    "high": "High: warnings go to a person for review",
}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _utc(text: str) -> str | None:
    # <input type="datetime-local"> has no zone; the form says the times are UTC.
    return f"{text}:00+00:00" if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text) else text or None


# -- campaigns -------------------------------------------------------------------------------


@router.get("/campaigns")
async def campaign_list(
    request: Request,
    principal: BrandUser,
    db: DatabaseDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """The newest campaigns first, a page at a time, with what each has committed."""

    def rows(session: Session) -> dict[str, Any]:
        found = campaigns.list_campaigns(
            session, principal.workspace_id, limit=PAGE + 1, offset=(page - 1) * PAGE
        )
        shown = found[:PAGE]
        spend = money.spend_by_campaign(session, principal.workspace_id, [c.id for c in shown])
        listed = [{"campaign": c, "spend": spend.get(c.id, 0)} for c in shown]
        # The first-run checklist, ticked from what the workspace has done; gone once done.
        assert principal.user_id is not None
        first_run = accounts.first_run(session, principal.workspace_id, principal.user_id)
        return {"rows": listed, "more": len(found) > PAGE, "first_run": first_run}

    context = {"principal": principal, "page": page, **await db.run(rows)}
    return render(request, "portal/campaigns.html", context)


def _builder(
    request: Request,
    principal: Principal,
    brand_list: list[Any],
    form: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
    editing: CampaignRecord | None = None,
) -> HTMLResponse:
    """The brief builder: a new campaign, or (`editing`) the draft's form filled in."""
    rows = max(DELIVERABLE_ROWS, _row_count(form))
    context = {
        "principal": principal, "brands": brand_list, "form": form, "errors": errors,
        "formats": list(DeliverableFormat), "channels": CHANNELS,
        "rows": range(rows), "visibilities": list(CampaignVisibility),
        "sensitivities": SENSITIVITIES, "languages": LANGUAGE_NAMES, "editing": editing,
    }  # fmt: skip
    return render(request, "portal/brief_builder.html", context, status_code)


def _row_count(form: dict[str, Any]) -> int:
    """How many deliverable rows the form holds (d0_format, d1_format, ...)."""
    found = [int(m[1]) for k in form if (m := re.fullmatch(r"d(\d+)_format", k))]
    return min(max(found, default=-1) + 1, MAX_DELIVERABLES)


@router.get("/campaigns/new")
async def new_campaign(request: Request, principal: BrandUser, db: DatabaseDep) -> HTMLResponse:
    brand_list = await db.run(brands.list_brands, principal.workspace_id)
    form = {
        "idempotency_key": str(uuid.uuid4()), "currency": "USD", "disclosure_required": "on",
        "revision_rounds": "2", "review_window_days": "3", "territories": "WW",
        "term_days": "365", "channels": ["organic_social"], "modification": "edit",
        "brand_safety_sensitivity": "medium",
        "d0_format": DeliverableFormat.VIDEO_9_16.value, "d0_quantity": "1",
    }  # fmt: skip
    return _builder(request, principal, brand_list, form, {})


def _campaign_body(form: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The API's campaign body from the form; amounts that do not parse go to `errors`."""

    def amount(field: str) -> int | None:
        try:
            return minor_units(str(form.get(field, "")), str(form.get("currency", "")))
        except BadAmount as exc:
            errors[field] = str(exc)
            return None

    deliverables = []
    for i in range(max(DELIVERABLE_ROWS, _row_count(form))):
        price = amount(f"d{i}_price")
        if price is None and not form.get(f"d{i}_duration") and i > 0:
            continue  # an empty row
        deliverables.append({
            "format": form.get(f"d{i}_format"),
            "duration_s": form.get(f"d{i}_duration") or None,
            "quantity": form.get(f"d{i}_quantity") or 1,
            "price_minor": price,
        })  # fmt: skip
    perpetual = bool(form.get("perpetual"))
    rights: dict[str, Any] = {
        "channels": form.get("channels") or [], "platforms": _items(form.get("platforms", "")),
        "territories": _items(form.get("territories", "")),
        "term_days": None if perpetual else form.get("term_days") or None,
        "perpetual": perpetual, "exclusivity_days": form.get("exclusivity_days") or 0,
        "exclusivity_category": form.get("exclusivity_category") or None,
        "modification": form.get("modification"), "attribution": bool(form.get("attribution")),
        "fee_minor": amount("license_fee") or 0,
    }  # fmt: skip
    return {
        "brand_id": form.get("brand_id"), "title": form.get("title", ""),
        "visibility": form.get("visibility"),
        "budget": {"amount_minor": amount("budget"), "currency": form.get("currency", "")},
        "brief": {
            "product": form.get("product", ""), "objective": form.get("objective", ""),
            "target_audience": form.get("target_audience", ""),
            "hooks": _lines(form.get("hooks", "")), "dos": _lines(form.get("dos", "")),
            "donts": _lines(form.get("donts", "")),
            "mandatory_mentions": _lines(form.get("mandatory_mentions", "")),
            "banned_claims": _lines(form.get("banned_claims", "")),
            "brand_safety_sensitivity": form.get("brand_safety_sensitivity") or "medium",
            "disclosure_required": bool(form.get("disclosure_required")),
            "revision_rounds": form.get("revision_rounds"),
            "ships_product": bool(form.get("ships_product")),
            "script_required": bool(form.get("script_required")),
            "review_window_days": form.get("review_window_days"),
            "target_niches": _items(form.get("target_niches", "").lower()),
            "target_countries": _items(form.get("target_countries", "").upper()),
            "language": form.get("language") or None,
            "usage_rights": rights,
            "application_deadline": _utc(form.get("application_deadline", "")),
            "delivery_deadline": _utc(form.get("delivery_deadline", "")),
        },
        "deliverables": deliverables,
    }  # fmt: skip


@router.post("/campaigns", response_model=None, dependencies=[Csrf])
async def create_campaign(
    request: Request,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    submitted = await request.form()
    form: dict[str, Any] = {k: v for k, v in submitted.items() if isinstance(v, str)}
    form["channels"] = [v for v in submitted.getlist("channels") if isinstance(v, str)]
    errors: dict[str, str] = {}
    body = _campaign_body(form, errors)
    status_code = 422
    try:
        valid = CampaignCreate.model_validate(body)
        if not errors:
            created = await campaigns_api.create_campaign(
                valid, principal, db, temporal, settings, Response(),
                idempotency_key=str(form.get("idempotency_key", ""))[:200] or None,
            )  # fmt: skip
            return RedirectResponse(f"/portal/campaigns/{created.id}", status_code=303)
    except (ValidationError, AppError) as exc:
        errors = field_errors(exc, FORM_FIELDS) | errors
        status_code = exc.status if isinstance(exc, AppError) else 422
    brand_list = await db.run(brands.list_brands, principal.workspace_id)
    return _builder(request, principal, brand_list, form, errors, status_code)


def _local(moment: datetime | None) -> str:
    """A deadline as the form's datetime-local field holds it (UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _prefill(record: CampaignRecord) -> dict[str, Any]:
    """The brief builder's fields as the draft has them."""
    c, b = record.campaign, record.brief
    rights = UsageRightsSpec.model_validate(b.usage_rights)
    form: dict[str, Any] = {
        "title": c.title, "visibility": c.visibility.value,
        "budget": amount_input(c.budget_minor, c.currency), "currency": c.currency,
        "product": b.product, "objective": b.objective, "target_audience": b.target_audience,
        "hooks": "\n".join(b.hooks), "dos": "\n".join(b.dos), "donts": "\n".join(b.donts),
        "mandatory_mentions": "\n".join(b.mandatory_mentions),
        "banned_claims": "\n".join(b.banned_claims),
        "brand_safety_sensitivity": b.brand_safety_sensitivity,
        "disclosure_required": "on" if b.disclosure_required else "",
        "ships_product": "on" if b.ships_product else "",
        "script_required": "on" if b.script_required else "",
        "revision_rounds": str(b.revision_rounds),
        "review_window_days": str(b.review_window_days),
        "target_niches": ", ".join(b.target_niches),
        "target_countries": ", ".join(b.target_countries),
        "language": b.language or "",
        "application_deadline": _local(b.application_deadline),
        "delivery_deadline": _local(b.delivery_deadline),
        "channels": list(rights.channels), "platforms": ", ".join(rights.platforms),
        "territories": ", ".join(rights.territories),
        "term_days": str(rights.term_days or ""), "perpetual": "on" if rights.perpetual else "",
        "exclusivity_days": str(rights.exclusivity_days or ""),
        "exclusivity_category": rights.exclusivity_category or "",
        "modification": rights.modification, "attribution": "on" if rights.attribution else "",
        "license_fee": amount_input(rights.fee_minor, c.currency) if rights.fee_minor else "",
    }  # fmt: skip
    for i, d in enumerate(record.deliverables):
        form |= {
            f"d{i}_format": d.format.value, f"d{i}_duration": str(d.duration_s or ""),
            f"d{i}_quantity": str(d.quantity),
            f"d{i}_price": amount_input(d.price_minor, c.currency),
        }  # fmt: skip
    return form


async def _draft_of(
    request: Request, principal: Principal, campaign_id: uuid.UUID, db: DatabaseDep
) -> CampaignRecord | HTMLResponse:
    record = await db.run(campaigns.get_campaign, principal.workspace_id, campaign_id)
    if record is None:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    return record


@router.get("/campaigns/{campaign_id}/edit", response_model=None)
async def edit_campaign_form(
    request: Request,
    campaign_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    """The draft in the brief builder, to change before publishing."""
    record = await _draft_of(request, principal, campaign_id, db)
    if isinstance(record, HTMLResponse):
        return record
    if record.campaign.stage != CampaignStage.DRAFT:
        message = f"Only a draft can be edited; this campaign is {label(record.campaign.stage)}."
        return await _campaign_page(
            request, principal, campaign_id, db, temporal, settings, message, 409
        )
    return _builder(request, principal, [], _prefill(record), {}, editing=record)


@router.post("/campaigns/{campaign_id}/edit", response_model=None, dependencies=[Csrf])
async def edit_campaign(
    request: Request,
    campaign_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    """Save the edited draft: every part of the form replaces what the draft had."""
    record = await _draft_of(request, principal, campaign_id, db)
    if isinstance(record, HTMLResponse):
        return record
    submitted = await request.form()
    form: dict[str, Any] = {k: v for k, v in submitted.items() if isinstance(v, str)}
    form["channels"] = [v for v in submitted.getlist("channels") if isinstance(v, str)]
    errors: dict[str, str] = {}
    body = _campaign_body(form, errors)
    body.pop("brand_id")
    status_code = 422
    try:
        change = CampaignChange.model_validate(body)
        if not errors:
            await campaigns_api.edit_campaign(
                campaign_id, change, principal, db, temporal, settings
            )
            return RedirectResponse(f"/portal/campaigns/{campaign_id}", status_code=303)
    except (ValidationError, AppError) as exc:
        errors = field_errors(exc, FORM_FIELDS) | errors
        status_code = exc.status if isinstance(exc, AppError) else 422
    return _builder(request, principal, [], form, errors, status_code, editing=record)


def _campaign_extras(session: Session, campaign_id: uuid.UUID) -> dict[str, Any]:
    apps = applications.list_for_campaign(session, campaign_id)
    work = deliveries.list_deliveries(session, campaign_id=campaign_id, limit=200)
    # The creators the page names: whoever applied, was invited or delivers.
    people = {
        creator_id: profile
        for creator_id in {a.creator_id for a in apps} | {d.creator_id for d in work}
        if (profile := creators.get_profile(session, creator_id)) is not None
    }
    return {
        "applications": apps,
        "people": people,
        "fundings": money.fundings_of(session, campaign_id),
        # Budget paid in or on its way: the funding form stays while the budget lacks some.
        "funded": money.funded_minor(session, campaign_id),
        "deliveries": work,
    }


# Stages in which the brand may still invite creators, and stop taking applications.
INVITING = frozenset(
    {CampaignStage.PUBLISHED, CampaignStage.RECRUITING, CampaignStage.IN_PRODUCTION}
)
RECRUITING = frozenset({CampaignStage.PUBLISHED, CampaignStage.RECRUITING})
CLOSED = frozenset({CampaignStage.COMPLETED, CampaignStage.CANCELLED})


def _open_slots(record: CampaignRecord, live: Any) -> dict[str, int]:
    """Creator places still open per deliverable (every place, before the live state)."""
    if live is not None:
        return {str(d.id): int(live.open_slots.get(str(d.id), 0)) for d in record.deliverables}
    return {str(d.id): d.quantity for d in record.deliverables}


async def _campaign_page(
    request: Request,
    principal: Principal,
    campaign_id: uuid.UUID,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    error: str = "",
    status_code: int = 200,
    confirm_secret: str | None = None,
    invite: dict[str, str] | None = None,
    invite_errors: dict[str, str] | None = None,
    directory: tuple[str, str] = ("", ""),
) -> HTMLResponse:
    """The campaign with what the brand can do at its stage. `invite` and `invite_errors`:
    the invitation form as typed, and why it was refused; `directory`: the niche and
    country the creators to invite are filtered by."""
    record = await db.run(campaigns.get_campaign, principal.workspace_id, campaign_id)
    if record is None:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    live = await campaigns_api.campaign_live(temporal, record)
    extras = await db.run(_campaign_extras, campaign_id)
    stage = live.stage if live else record.campaign.stage
    slots = _open_slots(record, live)
    can_invite = stage in INVITING and any(slots.values())
    niche, country = directory

    def directory_rows(session: Session) -> list[Any]:
        if not can_invite:
            return []
        found = creators.search_profiles(
            session, niche=niche.strip().lower() or None,
            country=country.strip().upper() or None, limit=100, offset=0,
        )  # fmt: skip
        return list(found)

    payments = settings.payments
    context = {
        "principal": principal, "record": record, "live": live, "error": error,
        # Cards only through Stripe Elements: card details go from the browser to Stripe.
        "stripe_key": payments.stripe_publishable_key if payments.provider == "stripe" else None,
        "confirm_secret": confirm_secret, **extras,
        "fund_due": max(record.campaign.budget_minor - extras["funded"], 0),
        "stage": stage, "slots": slots, "can_edit": stage == CampaignStage.DRAFT,
        "can_close": stage in RECRUITING, "can_cancel": stage not in CLOSED,
        "can_invite": can_invite, "directory": await db.run(directory_rows), "niche": niche,
        "country": country,
        "invite": invite or {}, "invite_errors": invite_errors or {},
        "deliverable_of": {d.id: d for d in record.deliverables},
        "default_price": next(
            (amount_input(d.price_minor, record.campaign.currency)
             for d in record.deliverables if slots[str(d.id)]), "",
        ),
    }  # fmt: skip
    return render(request, "portal/campaign.html", context, status_code)


@router.get("/campaigns/{campaign_id}")
async def campaign_page(
    request: Request,
    campaign_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    niche: Annotated[str, Query(max_length=50)] = "",
    country: Annotated[str, Query(max_length=2)] = "",
) -> HTMLResponse:
    return await _campaign_page(
        request, principal, campaign_id, db, temporal, settings, directory=(niche, country)
    )


# Where each part of the API's invitation sits in the invitation form.
INVITE_FIELDS = {
    "creator_id": "creator_id", "deliverable_id": "deliverable_id", "price_minor": "price",
    "message": "message",
}  # fmt: skip


@router.post("/campaigns/{campaign_id}/invitations", response_model=None, dependencies=[Csrf])
async def invite_creator(
    request: Request,
    campaign_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    creator_id: Annotated[str, Form(max_length=100)] = "",
    deliverable_id: Annotated[str, Form(max_length=100)] = "",
    price: Annotated[str, Form(max_length=30)] = "",
    message: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    """Invite a creator from the directory to one deliverable at a price, with a message."""
    typed = {"creator_id": creator_id, "deliverable_id": deliverable_id, "price": price,
             "message": message}  # fmt: skip
    errors: dict[str, str] = {}
    record = await db.run(campaigns.get_campaign, principal.workspace_id, campaign_id)
    if record is None:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    try:
        amount = minor_units(price, record.campaign.currency)
    except BadAmount as exc:
        errors["price"], amount = str(exc), None
    if amount is None and "price" not in errors:
        errors["price"] = "Enter the price you offer."
    if not creator_id:
        errors["creator_id"] = "Choose a creator to invite."
    status_code = 422
    if not errors:
        try:
            body = InvitationCreate.model_validate(
                {"creator_id": creator_id, "deliverable_id": deliverable_id,
                 "price_minor": amount, "message": message.strip()}
            )  # fmt: skip
            await campaigns_api.invite_creator(campaign_id, body, principal, db, temporal, settings)
            return RedirectResponse(f"/portal/campaigns/{campaign_id}#applications", 303)
        except (ValidationError, AppError) as exc:
            errors = field_errors(exc, INVITE_FIELDS)
            status_code = exc.status if isinstance(exc, AppError) else 422
    return await _campaign_page(
        request, principal, campaign_id, db, temporal, settings, status_code=status_code,
        invite=typed, invite_errors=errors,
    )  # fmt: skip


async def _confirm_page(
    request: Request,
    principal: Principal,
    campaign_id: uuid.UUID,
    action: str,
    db: DatabaseDep,
    temporal: TemporalDep,
    errors: dict[str, str] | None = None,
    reason: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    """What closing applications (`close`) or cancelling (`cancel`) will do, to confirm."""
    record = await db.run(campaigns.get_campaign, principal.workspace_id, campaign_id)
    if record is None:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    live = await campaigns_api.campaign_live(temporal, record)
    apps = await db.run(applications.list_for_campaign, campaign_id)
    stage = live.stage if live else record.campaign.stage
    waiting = [
        a for a in apps if a.status in (ApplicationStatus.PENDING, ApplicationStatus.COUNTERED)
    ]
    accepted = [a for a in apps if a.status == ApplicationStatus.ACCEPTED]
    funded = await db.run(money.funded_minor, campaign_id)
    allowed = stage in RECRUITING if action == "close" else stage not in CLOSED
    context = {
        "principal": principal, "c": record.campaign, "live": live, "stage": stage,
        "action": action, "allowed": allowed, "waiting": len(waiting),
        "accepted": len(accepted), "funded": funded, "errors": errors or {}, "reason": reason,
    }  # fmt: skip
    return render(request, "portal/campaign_confirm.html", context, status_code)


@router.get("/campaigns/{campaign_id}/close-applications")
async def confirm_close(
    request: Request,
    campaign_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
) -> HTMLResponse:
    return await _confirm_page(request, principal, campaign_id, "close", db, temporal)


@router.post(
    "/campaigns/{campaign_id}/close-applications", response_model=None, dependencies=[Csrf]
)
async def close_applications(
    request: Request,
    campaign_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    """Stop taking applications now: production starts with the creators accepted so far."""
    try:
        await campaigns_api.close_applications(campaign_id, principal, db, temporal, settings)
    except AppError as exc:
        errors = {"form": exc.detail}
        return await _confirm_page(
            request, principal, campaign_id, "close", db, temporal, errors, status_code=exc.status
        )
    return RedirectResponse(f"/portal/campaigns/{campaign_id}", status_code=303)


@router.get("/campaigns/{campaign_id}/cancel")
async def confirm_cancel(
    request: Request,
    campaign_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
) -> HTMLResponse:
    return await _confirm_page(request, principal, campaign_id, "cancel", db, temporal)


@router.post("/campaigns/{campaign_id}/cancel", response_model=None, dependencies=[Csrf])
async def cancel_campaign(
    request: Request,
    campaign_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Cancel the campaign with a reason the creators read."""
    errors: dict[str, str] = {}
    status_code = 422
    if not reason.strip():
        errors["reason"] = "Tell the creators why the campaign is cancelled."
    else:
        try:
            body = CampaignCancel.model_validate({"reason": reason.strip()})
            await campaigns_api.cancel_campaign(
                campaign_id, body, principal, db, temporal, settings
            )
            return RedirectResponse(f"/portal/campaigns/{campaign_id}", status_code=303)
        except ValidationError as exc:
            errors = field_errors(exc, {"reason": "reason"})
        except AppError as exc:
            errors, status_code = {"form": exc.detail}, exc.status
    return await _confirm_page(
        request, principal, campaign_id, "cancel", db, temporal, errors, reason, status_code
    )


async def _after(
    request: Request,
    principal: Principal,
    campaign_id: uuid.UUID,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    exc: AppError | ValidationError | None,
) -> Response:
    """Back to the campaign page: a redirect when the action worked, else the page with why."""
    if exc is None:
        return RedirectResponse(f"/portal/campaigns/{campaign_id}", status_code=303)
    message = exc.detail if isinstance(exc, AppError) else " ".join(map(human_reason, exc.errors()))
    status_code = exc.status if isinstance(exc, AppError) else 422
    return await _campaign_page(
        request, principal, campaign_id, db, temporal, settings, message, status_code
    )


@router.post("/campaigns/{campaign_id}/fundings", response_model=None, dependencies=[Csrf])
async def fund(
    request: Request,
    campaign_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    method: Annotated[str, Form(max_length=20)] = "bank_transfer",
    payment_method: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    error: AppError | ValidationError | None = None
    try:
        body = money_api.FundingCreate.model_validate(
            {"method": method, "payment_method": payment_method or None}
        )
        funded = await money_api.fund_campaign(
            campaign_id, body, principal, db, temporal, settings, request
        )
    except (AppError, ValidationError) as exc:
        error = exc
    else:
        if funded.status == "requires_action" and funded.client_secret:
            # 3-D Secure: the page hands the secret to Stripe.js, which asks the bank.
            return await _campaign_page(
                request, principal, campaign_id, db, temporal, settings,
                confirm_secret=funded.client_secret,
            )  # fmt: skip
    return await _after(request, principal, campaign_id, db, temporal, settings, error)


@router.post("/campaigns/{campaign_id}/publish", response_model=None, dependencies=[Csrf])
async def publish(
    request: Request,
    campaign_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    error: AppError | None = None
    try:
        await campaigns_api.publish_campaign(campaign_id, principal, db, temporal, settings)
    except AppError as exc:
        error = exc
    return await _after(request, principal, campaign_id, db, temporal, settings, error)


@router.post(
    "/campaigns/{campaign_id}/applications/{application_id}/decision",
    response_model=None,
    dependencies=[Csrf],
)
async def decide(
    request: Request,
    campaign_id: uuid.UUID,
    application_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    action: Annotated[str, Form(max_length=20)] = "",
    counter_price: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    error: AppError | ValidationError | None = None
    try:
        record = await db.run(campaigns.get_campaign, principal.workspace_id, campaign_id)
        currency = record.campaign.currency if record else ""
        counter = minor_units(counter_price, currency) if action == "counter" else None
        if action == "counter" and counter is None:
            raise AppError("Enter the price you offer instead.")
        body = DecisionCreate.model_validate({"action": action, "counter_price_minor": counter})
        await campaigns_api.decide_application(
            campaign_id, application_id, body, principal, db, temporal, settings
        )
    except BadAmount as exc:
        error = AppError(str(exc))
    except (AppError, ValidationError) as exc:
        error = exc
    return await _after(request, principal, campaign_id, db, temporal, settings, error)


@router.get("/campaigns/{campaign_id}/statement")
async def statement(
    request: Request, campaign_id: uuid.UUID, principal: BrandUser, db: DatabaseDep
) -> HTMLResponse:
    record = await db.run(campaigns.get_campaign, principal.workspace_id, campaign_id)
    if record is None:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    result = await money_api.campaign_statement(campaign_id, principal, db, "json")
    assert isinstance(result, money_api.Statement)
    details = await db.run(money_api.statement_details, result.lines)
    context = {"principal": principal, "campaign": record.campaign, "statement": result,
               "details": details}  # fmt: skip
    return render(request, "portal/statement.html", context)


# -- review ----------------------------------------------------------------------------------


@router.get("/reviews")
async def review_queue(
    request: Request,
    principal: BrandUser,
    db: DatabaseDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Scripts and drafts waiting for the brand, the nearest review deadline first, a page at
    a time, each with its creator's name."""

    def queue(session: Session) -> dict[str, Any]:
        rows = deliveries.review_queue(
            session, principal.workspace_id, limit=PAGE + 1, offset=(page - 1) * PAGE
        )
        shown = rows[:PAGE]
        named = campaigns.by_ids(session, {e.delivery.campaign_id for e in shown})
        return {"rows": shown, "campaigns": named, "more": len(rows) > PAGE}

    context = {"principal": principal, "page": page, **await db.run(queue)}
    return render(request, "portal/reviews.html", context)


# The longest notes the review forms take (the API's limit).
NOTES_LIMIT = 4000


async def person_review(db: DatabaseDep, delivery: DeliveryPublic) -> ModerationReview | None:
    """The moderation case while a person reviews the delivery's latest video: its pages say
    so, and by when it is decided, instead of "automated checks are running"."""
    if delivery.stage != DeliveryStage.CHECKING:
        return None
    return await db.run(waiting_review, delivery.id)


async def is_photo(db: DatabaseDep, delivery: DeliveryPublic) -> bool:
    """Whether the deliverable is a photo: its pages say photo, not video."""
    deliverable = await db.run(campaigns.get_deliverable, delivery.deliverable_id)
    return deliverable is not None and deliverable.format == DeliverableFormat.PHOTO


async def review_page(
    request: Request,
    principal: Principal,
    delivery_id: uuid.UUID,
    db: DatabaseDep,
    temporal: TemporalDep,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    """The brand's review of a delivery: the script or the draft (and, once delivered, the
    final files) with the decisions open at its stage. `form` keeps what was typed when a
    decision comes back refused."""
    try:
        delivery = await deliveries_api.read_delivery(delivery_id, principal, db, temporal)
    except NotFound:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    title = (await db.run(campaigns.by_ids, {delivery.campaign_id}))[delivery.campaign_id].title
    profile = await db.run(creators.get_profile, delivery.creator_id)
    drafts = [s for s in delivery.submissions if s.kind == "draft"]
    context = {
        "principal": principal, "d": delivery, "title": title,
        "creator_name": profile.display_name if profile else "the creator",
        "draft": drafts[-1] if drafts else None, "errors": errors or {}, "moment": moment,
        "form": form or {}, "human_review": await person_review(db, delivery),
        "photo": await is_photo(db, delivery),
    }  # fmt: skip
    return render(request, "portal/review.html", context, status_code)


def _notes_problem(
    notes: str, field: str, needed: str, decision: str | None = None
) -> dict[str, str]:
    if decision is not None and decision not in ("approve", "revise"):
        return {"form": "Choose whether to approve or to ask for changes."}
    if needed and not notes.strip():
        return {field: needed}
    if len(notes.strip()) > NOTES_LIMIT:
        return {field: f"Keep the notes under {NOTES_LIMIT:,} characters."}
    return {}


async def _decide(
    request: Request,
    principal: Principal,
    delivery_id: uuid.UUID,
    db: DatabaseDep,
    temporal: TemporalDep,
    field: str,
    notes: str,
    problems: dict[str, str],
    call: Callable[[], Awaitable[object]],
) -> Response:
    """Run one of the brand's decisions; a refusal comes back on the review page with what
    was typed, next to the field it concerns."""
    status_code = 422
    if not problems:
        try:
            await call()
        except ValidationError as exc:
            problems = field_errors(exc, {"decision": "form", "notes": field})
        except AppError as exc:
            problems, status_code = {"form": exc.detail}, exc.status
        else:
            return RedirectResponse(f"/portal/deliveries/{delivery_id}", status_code=303)
    form = {field: notes}
    return await review_page(
        request, principal, delivery_id, db, temporal, problems, status_code, form
    )


async def _review_decision(
    request: Request,
    delivery_id: uuid.UUID,
    principal: Principal,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    decision: str,
    notes: str,
    field: str,
    revise_needs: str,
    submit: Callable[..., Awaitable[object]],
) -> Response:
    """Approve, or ask for changes with notes (`revise_needs` is the message when those are
    missing), through the API's `submit` (the draft's review or the script's)."""
    needed = revise_needs if decision == "revise" else ""

    async def call() -> None:
        body = ReviewCreate.model_validate({"decision": decision, "notes": notes.strip()})
        await submit(delivery_id, body, principal, db, temporal, settings)

    problems = _notes_problem(notes, field, needed, decision)
    return await _decide(
        request, principal, delivery_id, db, temporal, field, notes, problems, call
    )


@router.post("/deliveries/{delivery_id}/review", response_model=None, dependencies=[Csrf])
async def review(
    request: Request,
    delivery_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    decision: Annotated[str, Form(max_length=20)] = "",
    notes: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    return await _review_decision(
        request,
        delivery_id,
        principal,
        db,
        temporal,
        settings,
        decision,
        notes,
        "notes",
        "Tell the creator what to change.",
        deliveries_api.review,
    )


@router.post("/deliveries/{delivery_id}/script-review", response_model=None, dependencies=[Csrf])
async def review_script(
    request: Request,
    delivery_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    decision: Annotated[str, Form(max_length=20)] = "",
    notes: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    """Approve the script, or ask for changes with notes."""
    return await _review_decision(
        request,
        delivery_id,
        principal,
        db,
        temporal,
        settings,
        decision,
        notes,
        "script_notes",
        "Tell the creator what to change in the script.",
        deliveries_api.review_script,
    )


@router.post("/deliveries/{delivery_id}/extra-revision", response_model=None, dependencies=[Csrf])
async def request_extra_revision(
    request: Request,
    delivery_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    notes: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    """Ask for a revision beyond the brief's rounds; the creator accepts or declines it, and
    the notes become the revision's notes."""

    async def call() -> None:
        body = ExtraRevisionCreate.model_validate({"notes": notes.strip()})
        await deliveries_api.request_extra_revision(
            delivery_id, body, principal, db, temporal, settings
        )

    needed = "Tell the creator what the extra revision should change."
    problems = _notes_problem(notes, "extra_notes", needed)
    return await _decide(
        request, principal, delivery_id, db, temporal, "extra_notes", notes, problems, call
    )


# -- licenses --------------------------------------------------------------------------------


async def _license_page(
    request: Request,
    principal: Principal,
    db: DatabaseDep,
    notice: str = "",
    failed: tuple[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    def rows(session: Session) -> list[dict[str, Any]]:
        found = licenses.list_licenses(session, {"workspace_id": principal.workspace_id}, 200, 0)
        names = licenses.license_names(session, [r.id for r in found])
        return [
            {"license": r, "days_left": days_left_of(r), "names": names.get(r.id),
             "words": license_words.summary(r.terms)}
            for r in found
        ]  # fmt: skip

    context = {"principal": principal, "rows": await db.run(rows), "notice": notice,
               "failed": failed}  # fmt: skip
    return render(request, "portal/licenses.html", context, status_code)


@router.get("/licenses")
async def license_list(
    request: Request, principal: BrandUser, db: DatabaseDep, renewed: str = ""
) -> HTMLResponse:
    notice = "Renewal proposed: it applies once the creator accepts it." if renewed else ""
    return await _license_page(request, principal, db, notice)


@router.post("/licenses/{license_id}/renewal", response_model=None, dependencies=[Csrf])
async def propose_renewal(
    request: Request,
    license_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    ends_on: Annotated[str, Form(max_length=20)] = "",
    fee: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    """A later end date for the license (with an extra fee, if any) for the creator to accept."""
    try:
        row = await db.run(licenses.get_license, license_id)
        currency = row.currency if row else ""
        change = LicenseChangeCreate.model_validate(
            {"ends_at": f"{ends_on}T00:00:00+00:00" if ends_on else None,
             "fee_minor": minor_units(fee, currency) or 0}
        )  # fmt: skip
        await licenses_api.propose_change(license_id, change, principal, db, temporal, settings)
    except BadAmount as exc:
        return await _license_page(request, principal, db, failed=(str(license_id), str(exc)),
                                   status_code=422)  # fmt: skip
    except ValidationError:
        message = "Choose the new end date."
        return await _license_page(request, principal, db, failed=(str(license_id), message),
                                   status_code=422)  # fmt: skip
    except AppError as exc:
        return await _license_page(request, principal, db, failed=(str(license_id), exc.detail),
                                   status_code=exc.status)  # fmt: skip
    return RedirectResponse("/portal/licenses?renewed=1", status_code=303)
