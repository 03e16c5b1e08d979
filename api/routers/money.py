"""Money: campaign funding (card or bank transfer), license fees the brand pays into the
campaign's escrow for the creator, provider webhooks, creator payout accounts, the manual
transfer batch ops settle, payouts and statements (JSON or CSV)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.money.invoice import Invoice, invoice_number, render_invoice
from api.deps import CreatorDep, DatabaseDep, Principal, SettingsDep, TemporalDep, allow
from api.routers.signup import require_verified
from api.services import TemporalGateway
from api.text import Text
from domain import bank, words
from domain.enums import Role
from integrations.notifications import Message, Notifier
from integrations.payments import (
    BadSignature,
    Charge,
    ChargeRequest,
    MalformedEvent,
    PaymentError,
    PaymentProvider,
    Refused,
)
from integrations.payments.manual import (
    ManualPayments,
    PlatformBank,
    reference_of,
    transfer_instructions,
)
from models import campaigns, creators, licenses, money, workspaces
from nexus.errors import (
    AppError,
    Conflict,
    FieldProblem,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from nexus.settings import MissingSecret, Settings
from workflows.campaign import CLOSED_STAGES
from workflows.contracts.payments import (
    ProviderEventRef,
    SettlePayment,
    funding_workflow_id,
    payment_event_workflow_id,
)
from workflows.contracts.payouts import CURRENCY
from workflows.payment_events import FundingWorkflow, PaymentEventWorkflow
from workflows.payout import PayoutWorkflow
from workflows.payout import workflow_id as payout_workflow_id
from workflows.task_queues import cpu_queue

router = APIRouter(tags=["money"])
log = logging.getLogger(__name__)

BrandWriter = Annotated[
    Principal, Depends(allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER, scope="campaigns:write"))
]
BrandReader = Annotated[
    Principal, Depends(allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER, scope="campaigns:read"))
]
# A license fee is paid in for the license: its write scope, not the campaign's.
LicenseWriter = Annotated[
    Principal, Depends(allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER, scope="licenses:write"))
]
Ops = Annotated[Principal, Depends(allow(Role.OPS))]


class BadWebhook(AppError):
    status = 400
    title = "Webhook rejected"
    type_slug = "bad-webhook"


# -- schemas ---------------------------------------------------------------------------------


class FundingCreate(BaseModel):
    # The amount is the campaign's budget; a client-sent amount is refused, never ignored.
    model_config = ConfigDict(extra="forbid")

    method: Literal["card", "bank_transfer"]
    # A card tokenized in the brand's browser by Stripe.js; required for `card`.
    payment_method: str | None = Field(default=None, pattern=r"^pm_[A-Za-z0-9_]+$", max_length=100)


class FeeFundingCreate(FundingCreate):
    # Optional: when given it must be the fee's currency, so a wrong one is refused.
    currency: str | None = Field(default=None, pattern=CURRENCY)


class FundingPublic(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    # Set when this pays a license's fee (its number) rather than the campaign's budget.
    license_id: uuid.UUID | None = None
    fee_number: int | None = None
    method: str
    provider: str
    status: str
    currency: str
    budget_minor: int
    fee_minor: int
    total_minor: int
    # `requires_action`: complete 3-D Secure in the browser with Stripe.js and this secret.
    client_secret: str | None = None
    # `awaiting_transfer`: how to pay by bank transfer.
    instructions: str = ""
    # A bank transfer's payment reference (quote it on the transfer) and invoice number;
    # the invoice is at GET /campaigns/{campaign_id}/fundings/{id}/invoice.pdf.
    reference: str | None = None
    invoice_number: str | None = None
    failure: str = ""
    created_at: datetime


class PayoutAccountPublic(BaseModel):
    provider: str
    account_ref: str | None = None
    payouts_enabled: bool
    # Where to finish onboarding with the provider; null when nothing is left to do.
    onboarding_url: str | None = None
    # Manual payouts: the bank details they go to, masked ("IBAN DE·· ···· 3000").
    bank_details: str | None = None


class BankDetailsCreate(BaseModel):
    """Where manual payouts go: the account holder and either an IBAN (the BIC optional) or
    a US routing number and account number."""

    model_config = ConfigDict(extra="forbid")

    # Checked with the account (domain.bank): every problem is named at once.
    holder_name: str = Field(max_length=200)
    iban: str | None = Field(default=None, max_length=50)
    bic: str | None = Field(default=None, max_length=20)
    routing_number: str | None = Field(default=None, max_length=20)
    account_number: str | None = Field(default=None, max_length=30)


class ConfirmTransfer(BaseModel):
    """What ops read on the bank statement, checked against the invoice before the money is
    taken in: the amount received and the reference the brand quoted."""

    model_config = ConfigDict(extra="forbid")

    amount_minor: int | None = Field(default=None, gt=0, le=10**13)
    reference: str | None = Field(default=None, max_length=40)


class OpsFunding(FundingPublic):
    brand: str
    campaign: str


class DisputeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=1, max_length=2000)


class DisputeResolution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Text = Field(min_length=1, max_length=2000)


class DisputePublic(BaseModel):
    id: uuid.UUID
    subject: Literal["payout", "funding"]
    # The payout's id, or the funding's.
    subject_id: str
    campaign_id: uuid.UUID
    campaign: str = ""
    brand: str = ""
    creator: str | None = None
    reason: str
    status: Literal["open", "resolved"]
    resolution: str
    created_at: datetime
    resolved_at: datetime | None


class PayoutPublic(BaseModel):
    id: str
    campaign_id: uuid.UUID
    reason: str
    source_id: str
    amount_minor: int
    currency: str
    status: str
    transfer_ref: str | None
    failure: str
    created_at: datetime
    updated_at: datetime


class StatementLine(BaseModel):
    at: datetime
    kind: str
    campaign_id: uuid.UUID | None
    reference: str
    currency: str
    amount_minor: int
    fee_minor: int
    # The creator a reservation, release or payout is for.
    creator_id: uuid.UUID | None = None


class Statement(BaseModel):
    lines: list[StatementLine]
    # kind -> currency -> amount (funded, reserved, released, paid, refunded, and fees).
    totals: dict[str, dict[str, int]]


class WebhookAnswer(BaseModel):
    received: bool
    duplicate: bool


# -- helpers ---------------------------------------------------------------------------------


def providers(request: Request) -> tuple[PaymentProvider, ManualPayments]:
    configured: PaymentProvider = request.app.state.payments
    manual: ManualPayments = request.app.state.manual_payments
    return configured, manual


async def _signal(temporal: TemporalGateway, workflow_id: str, signal: Any, *args: Any) -> bool:
    """Signal a process; False if it does not exist (any more)."""
    client = await temporal.client()
    try:
        await client.get_workflow_handle(workflow_id).signal(signal, *args)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise ServiceUnavailable("the workflow engine did not take the signal") from exc
    return True


async def _settle(
    db: DatabaseDep, temporal: TemporalGateway, settings: Settings, order: SettlePayment
) -> money.Funding:
    """Run the funding's settlement (FundingWorkflow: the ledger, then the campaign or the
    license told) and answer the funding as it then stands; one that takes longer goes on
    in its process and is answered as it stands now."""
    assert order.funding_id is not None
    client = await temporal.client()
    try:
        handle = await client.start_workflow(
            FundingWorkflow.run,
            order,
            id=funding_workflow_id(order.funding_id),
            task_queue=cpu_queue(settings.temporal.task_queue),
            # Settling again changes nothing, so a repeat may run; one at a time.
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except RPCError as exc:
        raise ServiceUnavailable("the workflow engine did not take the confirmation") from exc
    # Its outcome is read from the table below, whether it finished, failed or goes on.
    with contextlib.suppress(TimeoutError, WorkflowFailureError, RPCError):
        await asyncio.wait_for(handle.result(), timeout=settings.api.workflow_rpc_timeout_s)
    row = await db.run(money.get_funding, order.funding_id)
    assert row is not None
    return row


async def _wake_payouts(db: DatabaseDep, temporal: TemporalGateway, creator_id: uuid.UUID) -> None:
    waiting = await db.run(
        lambda s: money.payouts_of(s, creator_id=creator_id, status="awaiting_onboarding")
    )
    for payout in waiting:
        await _signal(temporal, payout_workflow_id(payout.id), PayoutWorkflow.creator_onboarded)


def _funding_public(
    row: money.Funding, charge: Charge | None = None, platform: PlatformBank | None = None
) -> FundingPublic:
    reference = reference_of(row.provider_ref) if row.method == "bank_transfer" else None
    instructions = charge.instructions if charge else ""
    if not instructions and platform and reference and row.status == "awaiting_transfer":
        total = row.budget_minor + row.fee_minor
        instructions = transfer_instructions(platform, total, row.currency, reference)
    return FundingPublic(
        id=row.id,
        campaign_id=row.campaign_id,
        license_id=row.license_id,
        fee_number=row.fee_number,
        method=row.method,
        provider=row.provider,
        status=row.status,
        currency=row.currency,
        budget_minor=row.budget_minor,
        fee_minor=row.fee_minor,
        total_minor=row.budget_minor + row.fee_minor,
        client_secret=charge.client_secret if charge else None,
        instructions=instructions,
        reference=reference,
        invoice_number=invoice_number(row.invoice_number) if row.invoice_number else None,
        failure=row.failure,
        created_at=row.created_at,
    )


# A statement answers in JSON, or in CSV with `?format=csv`: both documented.
_STATEMENT_FORMATS: dict[int | str, dict[str, Any]] = {
    200: {"model": Statement, "content": {"text/csv": {"schema": {"type": "string"}}}}
}


def _csv(rows: list[BaseModel], name: str) -> Response:
    out = io.StringIO()
    fields = list(type(rows[0]).model_fields) if rows else ["empty"]
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow(row.model_dump(mode="json"))
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _statement(session: Session, rows: list[money.LedgerEntry]) -> Statement:
    lines = [
        StatementLine(
            at=entry.created_at,
            kind=entry.kind,
            campaign_id=entry.campaign_id,
            reference=entry.reference,
            currency=entry.currency,
            amount_minor=amount,
            fee_minor=fee,
            creator_id=entry.creator_id,
        )
        for entry, amount, fee in money.statement(session, rows)
    ]
    totals: dict[str, dict[str, int]] = {}
    for line in lines:
        by_kind = totals.setdefault(line.kind, {})
        by_kind[line.currency] = by_kind.get(line.currency, 0) + line.amount_minor
        if line.fee_minor:
            fees = totals.setdefault(f"{line.kind}_fees", {})
            fees[line.currency] = fees.get(line.currency, 0) + line.fee_minor
    return Statement(lines=lines, totals=totals)


def statement_details(session: Session, lines: list[StatementLine]) -> list[str]:
    """Each line in words, with the creator's name and the transfer's reference."""
    _, named = money.names_of(session, set(), {x.creator_id for x in lines if x.creator_id})
    details = []
    for line in lines:
        who = named.get(line.creator_id, "the creator") if line.creator_id else "the creator"
        reference = reference_of(line.reference)
        details.append(
            {
                "funding": f"Bank transfer {reference}" if reference else "Card payment",
                "reserve": f"Set aside for {who}",
                "release": f"Back to escrow from {who}'s payout",
                "payout": f"Paid to {who}",
                "refund": "Unspent budget refunded",
            }.get(line.kind, line.reference)
        )
    return details


# -- funding ---------------------------------------------------------------------------------


@router.post("/campaigns/{campaign_id}/fundings", status_code=201)
async def fund_campaign(
    campaign_id: uuid.UUID,
    body: FundingCreate,
    writer: BrandWriter,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    request: Request,
) -> FundingPublic:
    """Pay the campaign's budget plus the platform fee into escrow: by card (may answer
    `requires_action` for 3-D Secure) or by bank transfer that ops confirm on arrival."""
    record = await db.run(campaigns.get_campaign, writer.workspace_id, campaign_id)
    if record is None:
        raise NotFound("no such campaign in this workspace")
    await require_verified(db, writer)
    campaign = record.campaign
    if campaign.stage in CLOSED_STAGES:
        raise Conflict(f"the campaign is {campaign.stage.value}")
    provider = _provider(body, request)
    pending = money.Funding(
        campaign_id=campaign_id,
        workspace_id=writer.workspace_id,
        method=body.method,
        provider=provider.name,
        currency=campaign.currency,
        budget_minor=0,
        fee_minor=0,
        status="pending",
    )
    row = await db.run(
        money.open_funding, pending, campaign.budget_minor, settings.payments.platform_fee_bps
    )
    if row is None:
        raise Conflict("the campaign is already funded, or its funding is under way")
    return await _charge(row, body, provider, db, temporal, settings)


def _provider(body: FundingCreate, request: Request) -> PaymentProvider:
    """Cards through the configured provider (not the manual one); bank transfers manual."""
    configured, manual = providers(request)
    if body.method == "card":
        if body.payment_method is None:
            raise ValidationFailed(
                "a card payment needs the card",
                errors=[FieldProblem("body.payment_method", "required for method card")],
            )
        if configured.name == "manual":
            raise ValidationFailed(
                "card payments are not enabled on this platform",
                errors=[FieldProblem("body.method", "use bank_transfer")],
            )
    return configured if body.method == "card" else manual


async def _charge(
    row: money.Funding,
    body: FundingCreate,
    provider: PaymentProvider,
    db: DatabaseDep,
    temporal: TemporalGateway,
    settings: Settings,
) -> FundingPublic:
    """Charge an opened funding; a card that succeeds at once is confirmed at once."""
    try:
        charge = await run_in_threadpool(
            provider.charge,
            ChargeRequest(
                key=f"funding-{row.id}",
                amount_minor=row.budget_minor + row.fee_minor,
                currency=row.currency,
                payment_method=body.payment_method,
                metadata={"funding_id": str(row.id), "campaign_id": str(row.campaign_id)},
            ),
        )
    except Refused as exc:
        charge = Charge("failed", f"refused:{row.id}", failure=str(exc))
    except PaymentError as exc:
        row.status, row.failure = "failed", "the payment provider is unavailable"
        await db.run(money.save, row)
        raise ServiceUnavailable(
            "the payment provider did not answer; nothing was charged"
        ) from exc
    row.status, row.provider_ref, row.failure = charge.status, charge.provider_ref, charge.failure
    await db.run(money.save, row)
    if charge.status == "awaiting_transfer":
        row = await db.run(money.number_invoice, row.id)
    if charge.status == "succeeded":
        row = await _settle(db, temporal, settings, SettlePayment(funding_id=row.id))
    return _funding_public(row, charge)


@router.post("/licenses/{license_id}/fees/{number}/funding", status_code=201)
async def fund_license_fee(
    license_id: uuid.UUID,
    number: Annotated[int, Path(ge=1, le=10_000)],
    body: FeeFundingCreate,
    writer: LicenseWriter,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    request: Request,
) -> FundingPublic:
    """Pay fee `number` the brand agreed to in a license renewal or change (the license's
    `live.fees`), like campaign funding: the fee goes into the campaign's escrow plus the
    platform fee on top, by card or by bank transfer that ops confirm. Once it is in, the
    creator is paid the fee. A license that has ended since still owes its agreed fees."""
    lic = await db.run(licenses.get_license, license_id)
    if lic is None or lic.workspace_id != writer.workspace_id:
        raise NotFound("no such license in this workspace")
    fees = await db.run(licenses.agreed_fees, license_id)
    fee = next((f for f in fees if f.number == number), None)
    if fee is None:
        raise NotFound(f"the license has no fee number {number}")
    await require_verified(db, writer)
    if body.currency is not None and body.currency != fee.currency:
        reason = f"the fee is in {fee.currency}, not {body.currency}"
        raise ValidationFailed(reason, errors=[FieldProblem("body.currency", reason)])
    record = await db.run(campaigns.get_campaign, lic.workspace_id, lic.campaign_id)
    assert record is not None
    if record.campaign.currency != fee.currency:
        raise Conflict(f"the fee is in {fee.currency}, the campaign's escrow in another currency")
    provider = _provider(body, request)
    pending = money.Funding(
        campaign_id=lic.campaign_id,
        workspace_id=lic.workspace_id,
        method=body.method,
        provider=provider.name,
        currency=fee.currency,
        budget_minor=fee.amount_minor,
        fee_minor=0,
        status="pending",
        license_id=license_id,
        fee_number=number,
    )
    row = await db.run(money.open_fee_funding, pending, settings.payments.platform_fee_bps)
    if row is None:
        raise Conflict(f"fee {number} is paid already, or its payment is under way")
    return await _charge(row, body, provider, db, temporal, settings)


@router.get("/campaigns/{campaign_id}/fundings")
async def list_fundings(
    campaign_id: uuid.UUID, reader: BrandReader, db: DatabaseDep, request: Request
) -> list[FundingPublic]:
    """The campaign's fundings; a bank transfer still awaited says how to pay it."""
    if await db.run(campaigns.get_campaign, reader.workspace_id, campaign_id) is None:
        raise NotFound("no such campaign in this workspace")
    platform = providers(request)[1].platform
    return [
        _funding_public(f, platform=platform) for f in await db.run(money.fundings_of, campaign_id)
    ]


def _invoice_of(
    session: Session,
    workspace_id: uuid.UUID,
    campaign_id: uuid.UUID,
    funding_id: uuid.UUID,
    platform: PlatformBank,
    settings: Settings,
) -> Invoice | None:
    funding = money.get_funding(session, funding_id)
    if (
        funding is None
        or funding.workspace_id != workspace_id
        or funding.campaign_id != campaign_id
        or funding.method != "bank_transfer"
        or reference_of(funding.provider_ref) is None
    ):
        return None
    # Bank transfers opened before invoices were numbered get their number on first ask.
    funding = money.number_invoice(session, funding.id)
    assert funding.invoice_number is not None
    named, _ = money.names_of(session, {campaign_id})
    campaign, brand = named[campaign_id]
    what = (
        f"License fee {funding.fee_number}, paid to the creator"
        if funding.license_id is not None
        else "Campaign budget, held in escrow for creators"
    )
    lines = [(what, funding.budget_minor)]
    if funding.fee_minor:
        lines.append(("Platform fee", funding.fee_minor))
    return Invoice(
        number=invoice_number(funding.invoice_number),
        issued_on=funding.created_at.date(),
        issuer=settings.payments.invoice_issuer,
        issuer_address=settings.payments.invoice_issuer_address,
        brand=brand,
        campaign=campaign,
        currency=funding.currency,
        lines=lines,
        reference=reference_of(funding.provider_ref) or "",
        platform=platform,
        paid_on=funding.updated_at.date() if funding.status == "succeeded" else None,
    )


_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
}


async def invoice_pdf(
    workspace_id: uuid.UUID,
    campaign_id: uuid.UUID,
    funding_id: uuid.UUID,
    db: DatabaseDep,
    settings: Settings,
    request: Request,
) -> Response:
    platform = providers(request)[1].platform
    invoice = await db.run(_invoice_of, workspace_id, campaign_id, funding_id, platform, settings)
    if invoice is None:
        raise NotFound("no invoice for this funding in this workspace")
    pdf = await run_in_threadpool(render_invoice, invoice)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="nexus-{invoice.number}.pdf"'},
    )


@router.get(
    "/campaigns/{campaign_id}/fundings/{funding_id}/invoice.pdf",
    response_class=Response,
    responses=_PDF,
)
async def funding_invoice(
    campaign_id: uuid.UUID,
    funding_id: uuid.UUID,
    reader: BrandReader,
    db: DatabaseDep,
    settings: SettingsDep,
    request: Request,
) -> Response:
    """The invoice of a funding paid by bank transfer (PDF): budget, platform fee and total,
    the platform's bank details and the payment reference to quote."""
    return await invoice_pdf(reader.workspace_id, campaign_id, funding_id, db, settings, request)


def _ops_fundings(
    session: Session, pending_only: bool, reference: str | None
) -> list[tuple[money.Funding, str, str]]:
    if reference is not None:
        found = money.funding_by_ref(session, f"manual:{reference}")
        rows = [found] if found is not None else []
    else:
        rows = money.ops_fundings(session, pending_only=pending_only, limit=200)
    named, _ = money.names_of(session, {f.campaign_id for f in rows})
    return [(f, *named.get(f.campaign_id, ("", ""))) for f in rows]


async def ops_fundings(
    db: DatabaseDep, platform: PlatformBank, pending_only: bool, reference: str | None
) -> list[OpsFunding]:
    rows = await db.run(_ops_fundings, pending_only, reference)
    return [
        OpsFunding(
            **_funding_public(f, platform=platform).model_dump(), campaign=campaign, brand=brand
        )
        for f, campaign, brand in rows
    ]


@router.get("/ops/fundings")
async def list_ops_fundings(
    ops: Ops,
    db: DatabaseDep,
    request: Request,
    pending: Annotated[bool, Query()] = False,
    reference: Annotated[str | None, Query(max_length=40)] = None,
) -> list[OpsFunding]:
    """Fundings across the platform, newest first (`?pending=true`: the money not arrived
    yet), or the one a bank transfer's reference names (`?reference=NX-7K3F-9Q2M`)."""
    if reference is not None:
        reference = _parse_reference(reference, "query.reference")
    return await ops_fundings(db, providers(request)[1].platform, pending, reference)


def _parse_reference(text: str, field: str) -> str:
    try:
        return bank.parse_reference(text)
    except bank.BadReference as exc:
        raise ValidationFailed(str(exc), errors=[FieldProblem(field, str(exc))]) from exc


def _check_transfer(row: money.Funding, seen: ConfirmTransfer) -> None:
    """Refuse a confirmation whose amount or reference is not the invoice's."""
    problems = []
    if seen.reference is not None:
        reference = _parse_reference(seen.reference, "body.reference")
        if reference != reference_of(row.provider_ref):
            problems.append(
                FieldProblem("body.reference", f"{reference} is not this invoice's reference")
            )
    expected = row.budget_minor + row.fee_minor
    if seen.amount_minor is not None and seen.amount_minor != expected:
        problems.append(
            FieldProblem(
                "body.amount_minor",
                f"the invoice asks for {words.money(expected, row.currency)}, not "
                f"{words.money(seen.amount_minor, row.currency)}: settle the difference "
                "with the brand before confirming",
            )
        )
    if problems:
        raise ValidationFailed("the transfer does not match the invoice", errors=problems)


@router.post("/ops/fundings/{funding_id}/confirm")
async def confirm_bank_transfer(
    funding_id: uuid.UUID,
    ops: Ops,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    body: ConfirmTransfer | None = None,
) -> FundingPublic:
    """Ops saw the brand's bank transfer arrive. With the amount and the reference read on
    the bank statement, either that differs from the invoice is refused. Confirming again
    changes nothing. A license fee is taken in even after its campaign closed: it is owed to
    the creator."""
    row = await db.run(money.get_funding, funding_id)
    if row is None:
        raise NotFound("no such funding")
    if row.method != "bank_transfer" or row.status not in ("awaiting_transfer", "succeeded"):
        raise Conflict(f"this is a {row.method} funding in status {row.status}, not a transfer")
    if body is not None:
        _check_transfer(row, body)
    record = await db.run(campaigns.get_campaign, row.workspace_id, row.campaign_id)
    assert record is not None
    closed = record.campaign.stage in CLOSED_STAGES
    if row.status != "succeeded" and closed and row.license_id is None:
        raise Conflict(
            f"the campaign is {record.campaign.stage.value}: send the transfer back instead"
        )
    order = SettlePayment(funding_id=funding_id, confirmed_by_ops=True)
    return _funding_public(await _settle(db, temporal, settings, order))


# -- webhooks --------------------------------------------------------------------------------


@router.post("/webhooks/stripe")
async def stripe_webhook(
    request: Request, db: DatabaseDep, temporal: TemporalDep, settings: SettingsDep
) -> WebhookAnswer:
    """Verified with the `Stripe-Signature` header, stored once, and handled by its own
    process (PaymentEventWorkflow), which reads the object back from Stripe: what the body
    says is never acted on. A repeat of an event not handled yet starts the same process."""
    configured, _ = providers(request)
    payload = await request.body()
    try:
        event = configured.parse_webhook(payload, request.headers.get("Stripe-Signature"))
    except BadSignature as exc:
        raise BadWebhook(f"the webhook is not authentic: {exc}") from exc
    except MalformedEvent as exc:
        raise BadWebhook(
            f"the event is not one the platform can take: {exc}",
            errors=[FieldProblem(exc.field, exc.reason)],
        ) from exc
    new, handled = await db.run(
        money.store_event, event.id, event.type, event.occurred_at, event.object_id
    )
    if not handled:
        ref = ProviderEventRef(event_id=event.id, type=event.type, object_id=event.object_id)
        await _handle_event(temporal, settings, ref)
    return WebhookAnswer(received=True, duplicate=not new)


async def _handle_event(
    temporal: TemporalGateway, settings: Settings, event: ProviderEventRef
) -> None:
    client = await temporal.client()
    try:
        await client.start_workflow(
            PaymentEventWorkflow.run,
            event,
            id=payment_event_workflow_id(event.event_id),
            task_queue=cpu_queue(settings.temporal.task_queue),
            # The event's one process: a repeat joins it, and only a failed one runs again.
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except WorkflowAlreadyStartedError:
        return  # it completed: the event is handled
    except RPCError as exc:
        # Stored: Stripe delivers it again, and the sweep starts it otherwise.
        raise ServiceUnavailable("the workflow engine did not take the event") from exc


# -- creators --------------------------------------------------------------------------------


def _manual_account(
    creator_id: uuid.UUID, details: money.PayoutBankDetails | None, settings: Settings
) -> PayoutAccountPublic:
    """A manual payout account: enabled once the creator has given bank details."""
    return PayoutAccountPublic(
        provider="manual",
        account_ref=f"manual:{creator_id}" if details else None,
        payouts_enabled=details is not None,
        onboarding_url=None
        if details
        else f"{settings.api.public_url.rstrip('/')}/portal/earnings#bank-details",
        bank_details=money.masked(details) if details else None,
    )


@router.post("/creator/payout-account")
async def open_payout_account(
    creator: CreatorDep,
    db: DatabaseDep,
    temporal: TemporalDep,
    request: Request,
    settings: SettingsDep,
) -> PayoutAccountPublic:
    """Open (or reopen the onboarding of) the creator's payout account. With manual payouts
    that is the bank details (PUT /creator/payout-account/bank-details)."""
    configured, _ = providers(request)
    if configured.name == "manual":
        details = await db.run(money.bank_details, creator.creator_id)
        if details is not None:
            await _wake_payouts(db, temporal, creator.creator_id)
        return _manual_account(creator.creator_id, details, settings)
    profile = await db.run(creators.get_profile, creator.creator_id)
    users = await db.run(workspaces.users_by_ids, [creator.user_id])
    assert profile is not None and users
    stored = await db.run(money.payout_account, creator.creator_id)
    try:
        if stored is None:
            opened = await run_in_threadpool(
                configured.open_account,
                f"payout-account-{creator.creator_id}",
                creator.creator_id,
                users[0].email,
                profile.country,
            )
            stored = money.PayoutAccount(
                creator_id=creator.creator_id,
                provider=configured.name,
                account_ref=opened.account_ref,
                payouts_enabled=opened.payouts_enabled,
            )
            await db.run(money.save, stored)
        link = None
        if not stored.payouts_enabled:
            link = await run_in_threadpool(configured.onboarding_link, stored.account_ref)
    except PaymentError as exc:
        raise ServiceUnavailable("the payment provider did not answer; try again") from exc
    if stored.payouts_enabled:
        await _wake_payouts(db, temporal, creator.creator_id)
    return PayoutAccountPublic(
        provider=stored.provider,
        account_ref=stored.account_ref,
        payouts_enabled=stored.payouts_enabled,
        onboarding_url=link,
    )


@router.get("/creator/payout-account")
async def read_payout_account(
    creator: CreatorDep, db: DatabaseDep, request: Request, settings: SettingsDep
) -> PayoutAccountPublic:
    """Where the creator's payouts go, bank details masked."""
    configured, _ = providers(request)
    if configured.name == "manual":
        details = await db.run(money.bank_details, creator.creator_id)
        return _manual_account(creator.creator_id, details, settings)
    stored = await db.run(money.payout_account, creator.creator_id)
    return PayoutAccountPublic(
        provider=configured.name,
        account_ref=stored.account_ref if stored else None,
        payouts_enabled=bool(stored and stored.payouts_enabled),
    )


def bank_account_of(body: BankDetailsCreate) -> bank.BankAccount:
    """The details checked in full (every problem named by its field), or ValidationFailed."""
    iban = (body.iban or "").strip()
    us = (body.routing_number or "").strip() or (body.account_number or "").strip()
    if iban and us:
        reason = "give an IBAN or a US routing and account number, not both"
        raise ValidationFailed(reason, errors=[FieldProblem("body.iban", reason)])
    if not iban and not us:
        reason = "give an IBAN, or a US routing number and account number"
        raise ValidationFailed(reason, errors=[FieldProblem("body.iban", reason)])
    try:
        return bank.bank_account(
            holder_name=body.holder_name, scheme="iban" if iban else "us", iban=iban,
            bic=body.bic or "", routing_number=body.routing_number or "",
            account_number=body.account_number or "",
        )  # fmt: skip
    except bank.BankDetailsInvalid as exc:
        raise ValidationFailed(
            "these bank details cannot be paid to",
            errors=[FieldProblem(f"body.{k}", v) for k, v in exc.problems.items()],
        ) from exc


@router.put("/creator/payout-account/bank-details")
async def set_bank_details(
    body: BankDetailsCreate,
    creator: CreatorDep,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    request: Request,
) -> PayoutAccountPublic:
    """Where manual payouts go: an IBAN (checked by its mod-97 check digits and its country's
    length; the BIC optional) or a US routing number (ABA checksum) and account number. Kept
    encrypted; answered masked. Payouts waiting for them go out to them."""
    configured, _ = providers(request)
    if configured.name != "manual":
        raise Conflict(
            f"payouts go through {configured.name}: finish onboarding with "
            "POST /creator/payout-account"
        )
    account = bank_account_of(body)
    try:
        key = settings.payments.details_key()
    except MissingSecret as exc:
        raise ServiceUnavailable("bank details cannot be stored on this installation") from exc
    details = await db.run(money.store_bank_details, creator.creator_id, account, key)
    await _wake_payouts(db, temporal, creator.creator_id)
    return _manual_account(creator.creator_id, details, settings)


@router.get("/creator/payouts")
async def creator_payouts(creator: CreatorDep, db: DatabaseDep) -> list[PayoutPublic]:
    rows = await db.run(lambda s: money.payouts_of(s, creator_id=creator.creator_id))
    return [PayoutPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/creator/statement", response_model=None, responses=_STATEMENT_FORMATS)
async def creator_statement(
    creator: CreatorDep,
    db: DatabaseDep,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Statement | Response:
    """Reserved (owed) and paid, per payout."""
    statement = await db.run(
        lambda s: _statement(s, money.entries(s, creator_id=creator.creator_id))
    )
    return _csv(list(statement.lines), "creator-statement") if format == "csv" else statement


@router.get("/campaigns/{campaign_id}/statement", response_model=None, responses=_STATEMENT_FORMATS)
async def campaign_statement(
    campaign_id: uuid.UUID,
    reader: BrandReader,
    db: DatabaseDep,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Statement | Response:
    """Funded, reserved, released, paid and refunded, with the platform fee."""
    if await db.run(campaigns.get_campaign, reader.workspace_id, campaign_id) is None:
        raise NotFound("no such campaign in this workspace")
    statement = await db.run(
        lambda s: _statement(
            s, money.entries(s, workspace_id=reader.workspace_id, campaign_id=campaign_id)
        )
    )
    return _csv(list(statement.lines), f"campaign-{campaign_id}") if format == "csv" else statement


# -- ops: payouts and the manual transfer batch ----------------------------------------------


class AbandonPayout(BaseModel):
    reason: Text = Field(min_length=1, max_length=500)


@router.get("/ops/payouts")
async def ops_payouts(
    ops: Ops,
    db: DatabaseDep,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{1,30}$")] = None,
) -> list[PayoutPublic]:
    """Payouts across the platform, e.g. `?status=failed` or `?status=awaiting_onboarding`."""
    rows = await db.run(lambda s: money.payouts_of(s, status=status))
    return [PayoutPublic.model_validate(r, from_attributes=True) for r in rows]


@router.post("/ops/payouts/{payout_id}/abandon", status_code=202)
async def abandon_payout(
    payout_id: str, body: AbandonPayout, ops: Ops, db: DatabaseDep, temporal: TemporalDep
) -> PayoutPublic:
    """Give up a payout that waits for bank details (onboarding) or settlement (the bank
    returned it): its reservation goes back to the campaign's escrow (and to the brand when
    the campaign has closed), and the creator and the brand are told why. A manual transfer
    still in a batch is taken out of it; one the bank settled is paid, and stays paid."""
    row = await db.run(money.get_payout, payout_id)
    if row is None:
        raise NotFound("no such payout")
    if row.status not in ("awaiting_onboarding", "awaiting_settlement"):
        raise Conflict(f"the payout is {row.status}; only a waiting payout can be abandoned")
    if row.transfer_ref and row.transfer_ref.startswith("manual:"):
        key = row.transfer_ref.removeprefix("manual:")
        transfer = await db.run(money.cancel_manual_transfer, key, body.reason)
        if transfer is not None and transfer.status == "settled":
            raise Conflict("its bank transfer is marked settled: the payout is being paid")
    await _signal(temporal, payout_workflow_id(payout_id), PayoutWorkflow.abandon, body.reason)
    return PayoutPublic.model_validate(row, from_attributes=True)


async def signal_settled(temporal: TemporalGateway, transfer_key: str) -> None:
    """Wake the payout whose transfer settled: it asks the provider before it pays."""
    # The payout workflow sent `<workflow id>:transfer` as the transfer's key.
    await _signal(temporal, transfer_key.removesuffix(":transfer"), PayoutWorkflow.settled)


class ManualTransferLine(BaseModel):
    id: uuid.UUID
    kind: str
    payee: str
    amount_minor: int
    currency: str
    reference: str
    status: str
    created_at: datetime


@router.get("/ops/manual-transfers", response_model=None)
async def manual_transfer_batch(
    ops: Ops,
    db: DatabaseDep,
    status: Annotated[Literal["pending", "settled"], Query()] = "pending",
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> list[ManualTransferLine] | Response:
    """The batch to pay by bank or PayPal mass payout (CSV for the bank's upload)."""
    rows = [
        ManualTransferLine.model_validate(r, from_attributes=True)
        for r in await db.run(money.manual_transfers, status)
    ]
    return _csv(list(rows), f"nexus-transfers-{status}") if format == "csv" else rows


@router.post("/ops/manual-transfers/{transfer_id}/settled")
async def settle_manual_transfer(
    transfer_id: uuid.UUID, ops: Ops, db: DatabaseDep, temporal: TemporalDep
) -> ManualTransferLine:
    """The bank settled this transfer: its payout completes. Repeating it changes nothing."""
    row = await db.run(money.settle_manual_transfer, transfer_id)
    if row is None:
        raise NotFound("no such transfer")
    if row.status == "cancelled":
        raise Conflict(f"this transfer was taken out of the batches: {row.failure}")
    if row.kind == "payout":
        await signal_settled(temporal, row.key)
    return ManualTransferLine.model_validate(row, from_attributes=True)


# -- disputes --------------------------------------------------------------------------------


def dispute_public(session: Session, rows: list[money.Dispute]) -> list[DisputePublic]:
    named, creators_named = money.names_of(
        session, {d.campaign_id for d in rows}, {d.creator_id for d in rows if d.creator_id}
    )
    return [
        DisputePublic(
            id=d.id,
            subject=d.subject,
            subject_id=d.subject_id,
            campaign_id=d.campaign_id,
            campaign=named.get(d.campaign_id, ("", ""))[0],
            brand=named.get(d.campaign_id, ("", ""))[1],
            creator=creators_named.get(d.creator_id) if d.creator_id else None,
            reason=d.reason,
            status=d.status,
            resolution=d.resolution,
            created_at=d.created_at,
            resolved_at=d.resolved_at,
        )
        for d in rows
    ]


async def _tell(request: Request, db: DatabaseDep, messages: list[Message]) -> None:
    """Hand messages to the notifier; a failed e-mail leaves the dispute as recorded."""
    notifier: Notifier = request.app.state.notifier
    try:
        await run_in_threadpool(notifier.deliver, messages)
    except OSError:
        log.warning("dispute notification not delivered", exc_info=True)


async def _ops_messages(db: DatabaseDep, dispute: DisputePublic, who: str) -> list[Message]:
    ops_ids = await db.run(money.ops_user_ids)
    users = await db.run(workspaces.users_by_ids, ops_ids)
    what = "a payout" if dispute.subject == "payout" else "a payment"
    return [
        Message(
            event_key=f"dispute-{dispute.id}:opened",
            user_id=u.id,
            email=u.email,
            kind="dispute_opened",
            title=f"{who} disputes {what} of “{dispute.campaign}”",
            body=dispute.reason,
            link="/portal/ops/disputes",
            name=u.name,
        )
        for u in users
    ]


def _open_dispute(session: Session, row: money.Dispute) -> DisputePublic | None:
    stored = money.open_dispute(session, row)
    return dispute_public(session, [stored])[0] if stored is not None else None


async def raise_dispute(
    request: Request, db: DatabaseDep, row: money.Dispute, who: str
) -> DisputePublic:
    opened = await db.run(_open_dispute, row)
    if opened is None:
        raise Conflict(f"a dispute of this {row.subject} is open already: ops are on it")
    await _tell(request, db, await _ops_messages(db, opened, who))
    return opened


@router.post("/creator/payouts/{payout_id}/disputes", status_code=201)
async def dispute_payout(
    payout_id: str, body: DisputeCreate, creator: CreatorDep, db: DatabaseDep, request: Request
) -> DisputePublic:
    """The creator disputes a payout (not received, wrong amount): ops are told and answer
    with a note. One open dispute per payout."""
    payout = await db.run(money.get_payout, payout_id)
    if payout is None or payout.creator_id != creator.creator_id:
        raise NotFound("no such payout of yours")
    profile = await db.run(creators.get_profile, creator.creator_id)
    row = money.Dispute(
        subject="payout", subject_id=payout.id, workspace_id=payout.workspace_id,
        campaign_id=payout.campaign_id, creator_id=creator.creator_id,
        raised_by=creator.user_id, reason=body.reason,
    )  # fmt: skip
    return await raise_dispute(request, db, row, profile.display_name if profile else "A creator")


@router.get("/creator/disputes")
async def creator_disputes(creator: CreatorDep, db: DatabaseDep) -> list[DisputePublic]:
    """The creator's disputes of payouts, newest first, with ops' answers."""
    return await db.run(
        lambda s: dispute_public(
            s,
            [d for d in money.disputes(s, creator_id=creator.creator_id) if d.subject == "payout"],
        )
    )


@router.post("/campaigns/{campaign_id}/fundings/{funding_id}/disputes", status_code=201)
async def dispute_funding(
    campaign_id: uuid.UUID,
    funding_id: uuid.UUID,
    body: DisputeCreate,
    writer: BrandWriter,
    db: DatabaseDep,
    request: Request,
) -> DisputePublic:
    """The brand disputes a funding or charge (paid but not confirmed, charged twice, the
    wrong amount): ops are told and answer with a note. One open dispute per funding."""
    funding = await db.run(money.get_funding, funding_id)
    if (
        funding is None
        or funding.workspace_id != writer.workspace_id
        or funding.campaign_id != campaign_id
    ):
        raise NotFound("no such funding in this workspace")
    row = money.Dispute(
        subject="funding", subject_id=str(funding.id), workspace_id=funding.workspace_id,
        campaign_id=funding.campaign_id, raised_by=writer.actor_id,
        reason=body.reason,
    )  # fmt: skip
    named = await db.run(money.names_of, {campaign_id})
    return await raise_dispute(request, db, row, named[0][campaign_id][1])


@router.get("/campaigns/{campaign_id}/disputes")
async def campaign_disputes(
    campaign_id: uuid.UUID, reader: BrandReader, db: DatabaseDep
) -> list[DisputePublic]:
    """The brand's disputes of the campaign's fundings, newest first, with ops' answers."""
    if await db.run(campaigns.get_campaign, reader.workspace_id, campaign_id) is None:
        raise NotFound("no such campaign in this workspace")
    return await db.run(
        lambda s: dispute_public(
            s,
            [
                d
                for d in money.disputes(s, workspace_id=reader.workspace_id)
                if d.subject == "funding" and d.campaign_id == campaign_id
            ],
        )
    )


@router.get("/ops/disputes")
async def ops_disputes(
    ops: Ops,
    db: DatabaseDep,
    status: Annotated[Literal["open", "resolved"] | None, Query()] = None,
) -> list[DisputePublic]:
    """Disputes of payouts and fundings across the platform, newest first."""
    return await db.run(lambda s: dispute_public(s, money.disputes(s, status=status)))


@router.post("/ops/disputes/{dispute_id}/resolution")
async def resolve_dispute(
    dispute_id: uuid.UUID,
    body: DisputeResolution,
    ops: Ops,
    db: DatabaseDep,
    request: Request,
) -> DisputePublic:
    """Ops close a dispute with a note (what was checked, what was done: a payout abandoned,
    a transfer confirmed, a refund sent); whoever raised it is told. Resolving again changes
    nothing."""

    def resolve(session: Session) -> tuple[DisputePublic | None, bool, uuid.UUID | None]:
        row, changed = money.resolve_dispute(session, dispute_id, ops.user_id, body.note)
        if row is None:
            return None, False, None
        return dispute_public(session, [row])[0], changed, row.raised_by

    resolved, changed, raised_by = await db.run(resolve)
    if resolved is None:
        raise NotFound("no such dispute")
    if not changed and resolved.resolution != body.note:
        raise Conflict("this dispute is resolved already")
    if changed and raised_by is not None:
        users = await db.run(workspaces.users_by_ids, [raised_by])
        what = "payout" if resolved.subject == "payout" else "payment"
        link = (
            "/portal/earnings"
            if resolved.subject == "payout"
            else f"/portal/campaigns/{resolved.campaign_id}/fundings/{resolved.subject_id}"
        )
        await _tell(
            request, db,
            [
                Message(
                    event_key=f"dispute-{resolved.id}:resolved", user_id=u.id, email=u.email,
                    kind="dispute_resolved",
                    title=f"Your dispute of a {what} of “{resolved.campaign}” is resolved",
                    body=body.note, link=link, name=u.name,
                )
                for u in users
            ],
        )  # fmt: skip
    return resolved
