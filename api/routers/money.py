"""Money: campaign funding (card or bank transfer), license fees the brand pays into the
campaign's escrow for the creator, provider webhooks, creator payout accounts, the manual
transfer batch ops settle, payouts and statements (JSON or CSV)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
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

from api.deps import CreatorDep, DatabaseDep, Principal, SettingsDep, TemporalDep, allow
from api.services import TemporalGateway
from api.text import Text
from domain.enums import Role
from integrations.payments import (
    BadSignature,
    Charge,
    ChargeRequest,
    MalformedEvent,
    PaymentError,
    PaymentProvider,
    Refused,
)
from integrations.payments.manual import ManualPayments
from models import campaigns, creators, licenses, money, workspaces
from nexus.errors import (
    AppError,
    Conflict,
    FieldProblem,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from nexus.settings import Settings
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
    failure: str = ""
    created_at: datetime


class PayoutAccountPublic(BaseModel):
    provider: str
    account_ref: str
    payouts_enabled: bool
    # Where to finish onboarding with the provider; null when nothing is left to do.
    onboarding_url: str | None = None


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


def _funding_public(row: money.Funding, charge: Charge | None = None) -> FundingPublic:
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
        instructions=charge.instructions if charge else "",
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
    campaign_id: uuid.UUID, reader: BrandReader, db: DatabaseDep
) -> list[FundingPublic]:
    if await db.run(campaigns.get_campaign, reader.workspace_id, campaign_id) is None:
        raise NotFound("no such campaign in this workspace")
    return [_funding_public(f) for f in await db.run(money.fundings_of, campaign_id)]


@router.post("/ops/fundings/{funding_id}/confirm")
async def confirm_bank_transfer(
    funding_id: uuid.UUID, ops: Ops, db: DatabaseDep, temporal: TemporalDep, settings: SettingsDep
) -> FundingPublic:
    """Ops saw the brand's bank transfer arrive. Confirming again changes nothing. A license
    fee is taken in even after its campaign closed: it is owed to the creator."""
    row = await db.run(money.get_funding, funding_id)
    if row is None:
        raise NotFound("no such funding")
    if row.method != "bank_transfer" or row.status not in ("awaiting_transfer", "succeeded"):
        raise Conflict(f"this is a {row.method} funding in status {row.status}, not a transfer")
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


@router.post("/creator/payout-account")
async def open_payout_account(
    creator: CreatorDep, db: DatabaseDep, temporal: TemporalDep, request: Request
) -> PayoutAccountPublic:
    """Open (or reopen the onboarding of) the creator's payout account."""
    configured, _ = providers(request)
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
    """Give up a payout that waits for onboarding or settlement: its reservation goes back
    to the campaign's escrow."""
    row = await db.run(money.get_payout, payout_id)
    if row is None:
        raise NotFound("no such payout")
    if row.status not in ("awaiting_onboarding", "awaiting_settlement"):
        raise Conflict(f"the payout is {row.status}; only a waiting payout can be abandoned")
    await _signal(temporal, payout_workflow_id(payout_id), PayoutWorkflow.abandon, body.reason)
    return PayoutPublic.model_validate(row, from_attributes=True)


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
    if row.kind == "payout":
        # The payout workflow sent `<workflow id>:transfer` as the transfer's key.
        await _signal(temporal, row.key.removesuffix(":transfer"), PayoutWorkflow.settled)
    return ManualTransferLine.model_validate(row, from_attributes=True)
