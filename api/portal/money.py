"""Money in the portal. Ops: fundings (a bank transfer confirmed once its amount and reference
match the invoice), the bank batches that pay creators and refund brands (exported as CSV for
the bank, settled in one go or a transfer at a time), payouts that cannot be paid (abandoned
with a reason), and disputes. Brands: a funding's invoice, bank details and reference, and a
dispute of it. CSV downloads that work with the portal's session.

Every action calls the endpoint function the JSON API serves, or the repository it uses."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import DatabaseDep, Principal, SettingsDep, TemporalDep
from api.portal.creator import as_creator
from api.portal.web import (
    BrandUser,
    CreatorId,
    CreatorUser,
    Csrf,
    OpsUser,
    field_errors,
    render,
    render_form,
)
from api.routers import money as money_api
from domain import bank, words
from integrations.payments.manual import PlatformBank, reference_of
from models import campaigns, money
from nexus.errors import AppError, NotFound
from nexus.settings import MissingSecret

router = APIRouter()

PENDING_FUNDINGS = ("awaiting_transfer", "pending", "requires_action", "processing")


def _platform(request: Request) -> PlatformBank:
    return money_api.providers(request)[1].platform


def _csv_response(header: list[str], rows: list[list[str]], name: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


# -- brand: a funding's invoice, and its disputes --------------------------------------------


def _funding_context(
    session: Session, workspace_id: uuid.UUID, campaign_id: uuid.UUID, funding_id: uuid.UUID
) -> dict[str, Any] | None:
    record = campaigns.get_campaign(session, workspace_id, campaign_id)
    funding = money.get_funding(session, funding_id)
    if record is None or funding is None or funding.campaign_id != campaign_id:
        return None
    found = money.disputes(session, workspace_id=workspace_id, subject_id=str(funding.id))
    return {
        "campaign": record.campaign,
        "f": funding,
        "reference": reference_of(funding.provider_ref),
        "disputes": money_api.dispute_public(session, found),
    }


async def _funding_page(
    request: Request,
    principal: Principal,
    campaign_id: uuid.UUID,
    funding_id: uuid.UUID,
    db: DatabaseDep,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = await db.run(_funding_context, principal.workspace_id, campaign_id, funding_id)
    if found is None:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    context = {"principal": principal, "bank": _platform(request), "form": form or {},
               "errors": errors or {}, **found}  # fmt: skip
    return render(request, "portal/funding.html", context, status_code)


@router.get("/campaigns/{campaign_id}/fundings/{funding_id}")
async def funding_page(
    request: Request,
    campaign_id: uuid.UUID,
    funding_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
) -> HTMLResponse:
    """A funding: what it pays, how to pay it by bank transfer, its invoice and disputes."""
    return await _funding_page(request, principal, campaign_id, funding_id, db)


@router.get("/campaigns/{campaign_id}/fundings/{funding_id}/invoice.pdf", response_model=None)
async def funding_invoice(
    request: Request,
    campaign_id: uuid.UUID,
    funding_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    settings: SettingsDep,
) -> Response:
    try:
        return await money_api.invoice_pdf(
            principal.workspace_id, campaign_id, funding_id, db, settings, request
        )
    except NotFound:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)


@router.post(
    "/campaigns/{campaign_id}/fundings/{funding_id}/disputes",
    response_model=None,
    dependencies=[Csrf],
)
async def dispute_funding(
    request: Request,
    campaign_id: uuid.UUID,
    funding_id: uuid.UUID,
    principal: BrandUser,
    db: DatabaseDep,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    form = {"reason": reason}
    try:
        body = money_api.DisputeCreate.model_validate({"reason": reason})
        await money_api.dispute_funding(campaign_id, funding_id, body, principal, db, request)
    except ValidationError:
        errors = {"reason": "Say what is wrong with this payment (at most 2,000 characters)."}
        return await _funding_page(
            request, principal, campaign_id, funding_id, db, form, errors, 422
        )
    except AppError as exc:
        return await _funding_page(
            request, principal, campaign_id, funding_id, db, form, {"form": exc.detail},
            exc.status,
        )  # fmt: skip
    return RedirectResponse(
        f"/portal/campaigns/{campaign_id}/fundings/{funding_id}?disputed=1", status_code=303
    )


# -- CSV downloads with the portal's session -------------------------------------------------


def _statement_rows(session: Session, statement: money_api.Statement) -> list[list[str]]:
    details = money_api.statement_details(session, statement.lines)
    return [
        [
            line.at.strftime("%Y-%m-%d %H:%M:%S"),
            line.kind,
            details[i],
            line.currency,
            words.amount_input(line.amount_minor, line.currency),
            words.amount_input(line.fee_minor, line.currency),
            line.reference,
        ]
        for i, line in enumerate(statement.lines)
    ]


STATEMENT_HEADER = [
    "date (UTC)", "what", "details", "currency", "amount", "platform fee", "reference",
]  # fmt: skip


@router.get("/campaigns/{campaign_id}/statement.csv", response_model=None)
async def campaign_statement_csv(
    request: Request, campaign_id: uuid.UUID, principal: BrandUser, db: DatabaseDep
) -> Response:
    """The campaign's statement as CSV, amounts in the currency's units."""
    try:
        result = await money_api.campaign_statement(campaign_id, principal, db, "json")
    except NotFound:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    assert isinstance(result, money_api.Statement)
    rows = await db.run(_statement_rows, result)
    return _csv_response(STATEMENT_HEADER, rows, f"statement-{campaign_id}")


@router.get("/earnings/statement.csv", response_model=None)
async def creator_statement_csv(
    principal: CreatorUser, creator_id: CreatorId, db: DatabaseDep
) -> Response:
    """The creator's statement (owed and paid) as CSV."""
    result = await money_api.creator_statement(as_creator(principal, creator_id), db, "json")
    assert isinstance(result, money_api.Statement)
    rows = await db.run(_statement_rows, result)
    return _csv_response(STATEMENT_HEADER, rows, "earnings-statement")


# -- ops: fundings ---------------------------------------------------------------------------


async def _fundings_page(
    request: Request,
    principal: Principal,
    db: DatabaseDep,
    show: str,
    reference: str,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    notice: str = "",
) -> HTMLResponse:
    search_error = ""
    parsed: str | None = None
    if reference.strip():
        try:
            parsed = bank.parse_reference(reference)
        except bank.BadReference as exc:
            search_error = str(exc)
    rows = (
        []
        if search_error
        else await money_api.ops_fundings(db, _platform(request), show == "pending", parsed)
    )
    context = {
        "principal": principal, "rows": rows, "show": show, "reference": reference,
        "search_error": search_error, "form": form or {}, "errors": errors or {},
        "notice": notice, "pending": PENDING_FUNDINGS,
    }  # fmt: skip
    return render(request, "portal/ops_fundings.html", context, status_code)


Show = Annotated[Literal["pending", "all"], Query()]


@router.get("/ops/fundings")
async def ops_fundings(
    request: Request,
    principal: OpsUser,
    db: DatabaseDep,
    show: Show = "pending",
    reference: Annotated[str, Query(max_length=40)] = "",
    confirmed: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """Fundings, the ones waiting for money first; a reference typed from a bank statement
    finds its invoice."""
    notice = f"Transfer {confirmed} confirmed: the money is in the escrow." if confirmed else ""
    return await _fundings_page(request, principal, db, show, reference, notice=notice)


@router.post("/ops/fundings/{funding_id}/confirm", response_model=None, dependencies=[Csrf])
async def confirm_funding(
    request: Request,
    funding_id: uuid.UUID,
    principal: OpsUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    amount: Annotated[str, Form(max_length=30)] = "",
    reference: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """A bank transfer arrived: confirmed when the amount and the reference read on the bank
    statement are the invoice's."""
    form = {"funding_id": str(funding_id), "amount": amount, "reference": reference}
    errors: dict[str, str] = {}
    row = await db.run(money.get_funding, funding_id)
    if row is None:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    amount_minor: int | None = None
    try:
        amount_minor = words.parse_amount(amount, row.currency)
    except ValueError as exc:
        errors["amount"] = f"Enter the amount received, as on the bank statement. {exc}"
    if not reference.strip():
        errors["reference"] = "Enter the reference the brand quoted on the transfer."
    if not errors:
        try:
            body = money_api.ConfirmTransfer(amount_minor=amount_minor, reference=reference)
            await money_api.confirm_bank_transfer(funding_id, principal, db, temporal, settings,
                                                  body)  # fmt: skip
        except AppError as exc:
            errors = field_errors(exc, {"amount_minor": "amount", "reference": "reference"})
            errors = {k: v[:1].upper() + v[1:] + "." for k, v in errors.items()}
            status_code = exc.status
        else:
            shown = reference_of(row.provider_ref) or ""
            return RedirectResponse(f"/portal/ops/fundings?confirmed={shown}", status_code=303)
    else:
        status_code = 422
    return await _fundings_page(request, principal, db, "pending", "", form, errors, status_code)


# -- ops: payouts and the bank batches -------------------------------------------------------


def _payouts_context(session: Session) -> dict[str, Any]:
    due = money.due_transfers(session)
    waiting = money.payouts_of(session, status="awaiting_onboarding")
    failed = money.payouts_of(session, status="failed")[-20:]
    found_batches = money.batches(session)
    return {
        "due": _transfer_rows(session, due),
        "waiting": _payout_rows(session, waiting),
        "failed": list(reversed(_payout_rows(session, failed))),
        "batches": [
            {"batch": b, "rows": _transfer_rows(session, money.batch_transfers(session, b.id))}
            for b in found_batches
        ],
    }


def _payout_rows(session: Session, rows: list[money.Payout]) -> list[dict[str, Any]]:
    named, creators_named = money.names_of(
        session, {p.campaign_id for p in rows}, {p.creator_id for p in rows}
    )
    return [
        {
            "p": p,
            "campaign": named.get(p.campaign_id, ("", ""))[0],
            "brand": named.get(p.campaign_id, ("", ""))[1],
            "creator": creators_named.get(p.creator_id, "a creator"),
        }
        for p in rows
    ]


def _campaign_of(reference: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(reference.removeprefix("campaign-"))
    except ValueError:
        return None


def _transfer_rows(session: Session, rows: list[money.ManualTransfer]) -> list[dict[str, Any]]:
    """Each transfer with who it pays (a creator by name, a brand by its workspace) and what
    for (the campaign)."""
    payouts = {
        t.id: money.get_payout(session, t.reference.removeprefix("payout-"))
        for t in rows
        if t.kind == "payout"
    }
    campaign_ids = {p.campaign_id for p in payouts.values() if p is not None}
    campaign_ids |= {c for t in rows if t.kind == "refund" and (c := _campaign_of(t.reference))}
    named, creators_named = money.names_of(
        session, campaign_ids, {t.creator_id for t in rows if t.creator_id}
    )
    listed = []
    for t in rows:
        payout = payouts.get(t.id)
        campaign_id = payout.campaign_id if payout else _campaign_of(t.reference)
        title, brand = named.get(campaign_id, ("", "")) if campaign_id else ("", "")
        if t.kind == "payout":
            who = creators_named.get(t.creator_id, "a creator") if t.creator_id else "a creator"
        else:
            who = brand or "the brand"
        listed.append({"t": t, "who": who, "campaign": title, "brand": brand, "payout": payout})
    return listed


async def _payouts_page(
    request: Request,
    principal: Principal,
    db: DatabaseDep,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {"principal": principal, "notice": request.query_params.get("notice", ""),
               **await db.run(_payouts_context)}  # fmt: skip
    return render_form(request, "portal/ops_payouts.html", context, form, errors, status_code)


@router.get("/ops/payouts")
async def ops_payouts(request: Request, principal: OpsUser, db: DatabaseDep) -> HTMLResponse:
    """Transfers due for the next bank batch, the batches made, payouts waiting for bank
    details, and the ones given up."""
    return await _payouts_page(request, principal, db)


@router.post("/ops/batches", response_model=None, dependencies=[Csrf])
async def create_batch(principal: OpsUser, db: DatabaseDep) -> Response:
    """Every due transfer into one batch, to pay from the bank."""
    made = await db.run(money.create_batch, principal.user_id)
    if made is None:
        return RedirectResponse("/portal/ops/payouts?notice=nothing-due", status_code=303)
    return RedirectResponse(f"/portal/ops/batches/{made.id}", status_code=303)


def _batch_context(session: Session, batch_id: uuid.UUID) -> dict[str, Any] | None:
    found = money.batch(session, batch_id)
    if found is None:
        return None
    rows = _transfer_rows(session, money.batch_transfers(session, batch_id))
    totals: dict[str, int] = {}
    for row in rows:
        if row["t"].status != "cancelled":
            totals[row["t"].currency] = totals.get(row["t"].currency, 0) + row["t"].amount_minor
    return {"batch": found, "rows": rows, "totals": totals}


@router.get("/ops/batches/{batch_id}")
async def batch_page(
    request: Request, batch_id: uuid.UUID, principal: OpsUser, db: DatabaseDep
) -> HTMLResponse:
    found = await db.run(_batch_context, batch_id)
    if found is None:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    context = {"principal": principal, "errors": {}, "form": {}, **found}
    return render(request, "portal/ops_batch.html", context)


BATCH_HEADER = [
    "transfer id", "kind", "payee", "iban", "bic", "us routing number", "us account number",
    "amount", "currency", "reference", "for", "status", "internal reference",
]  # fmt: skip


def remittance(transfer: money.ManualTransfer, campaign: str) -> str:
    """What the payee's bank statement shows (at most 140 characters, as SEPA carries): who
    paid, what for, and a code that finds the transfer again."""
    code = transfer.id.hex[:8].upper()
    what = "payout" if transfer.kind == "payout" else "refund"
    return f"NEXUS {what} {code} {campaign}".strip()[:140]


def _batch_csv(session: Session, batch_id: uuid.UUID, key: bytes | None) -> list[list[str]]:
    """The batch for the bank's upload: each payout with the creator's bank details opened
    (their only way out of the database), each refund with the brand to ask for theirs."""
    rows = []
    for row in _transfer_rows(session, money.batch_transfers(session, batch_id)):
        t: money.ManualTransfer = row["t"]
        payee, iban, bic, routing, account = row["who"], "", "", "", ""
        if t.kind == "payout" and t.payee_sealed and t.creator_id and key is not None:
            try:
                details = money.open_bank_details(t.payee_sealed, key, t.creator_id)
            except bank.SealBroken:
                payee = f"{row['who']} (bank details unreadable: ask again)"
            else:
                payee = details.holder_name
                if isinstance(details, bank.IbanAccount):
                    iban, bic = details.iban, details.bic or ""
                else:
                    routing, account = details.routing_number, details.account_number
        elif t.kind == "payout":
            payee = f"{row['who']} (no bank details on file)"
        else:
            payee = f"{row['who']} (refund: pay back to the account it came from)"
        amount = words.amount_input(t.amount_minor, t.currency)
        what = f"{t.kind} · {row['campaign']}" if row["campaign"] else t.kind
        rows.append([
            str(t.id), t.kind, payee, iban, bic, routing, account, amount, t.currency,
            remittance(t, row["campaign"]), what, t.status, t.reference,
        ])  # fmt: skip
    money.note_batch_export(session, batch_id, len(rows))
    return rows


@router.get("/ops/batches/{batch_id}/transfers.csv", response_model=None)
async def batch_csv(
    request: Request,
    batch_id: uuid.UUID,
    principal: OpsUser,
    db: DatabaseDep,
    settings: SettingsDep,
) -> Response:
    """The batch as a CSV file for the bank's bulk upload (full bank details: recorded in the
    audit log)."""
    if await db.run(money.batch, batch_id) is None:
        return render(request, "portal/not_found.html", {"principal": principal}, 404)
    try:
        key: bytes | None = settings.payments.details_key()
    except MissingSecret:
        key = None
    rows = await db.run(_batch_csv, batch_id, key)
    return _csv_response(BATCH_HEADER, rows, f"nexus-batch-{str(batch_id)[:8]}")


async def _wake_settled(temporal: TemporalDep, settled: list[money.ManualTransfer]) -> None:
    for row in settled:
        if row.kind == "payout":
            # The payout workflow sent `<workflow id>:transfer` as the transfer's key.
            await money_api.signal_settled(temporal, row.key)


@router.post("/ops/batches/{batch_id}/settled", response_model=None, dependencies=[Csrf])
async def settle_batch(
    batch_id: uuid.UUID, principal: OpsUser, db: DatabaseDep, temporal: TemporalDep
) -> Response:
    """The bank paid the whole batch: every transfer in it settled, its payouts completed."""
    settled = await db.run(money.settle_batch, batch_id)
    await _wake_settled(temporal, settled)
    return RedirectResponse(f"/portal/ops/batches/{batch_id}", status_code=303)


@router.post("/ops/transfers/{transfer_id}/settled", response_model=None, dependencies=[Csrf])
async def settle_transfer(
    transfer_id: uuid.UUID, principal: OpsUser, db: DatabaseDep, temporal: TemporalDep
) -> Response:
    """One transfer of a batch settled (the rest may follow)."""
    try:
        line = await money_api.settle_manual_transfer(transfer_id, principal, db, temporal)
    except AppError:
        return RedirectResponse("/portal/ops/payouts", status_code=303)
    found = await db.run(money.transfer_by_id, line.id)
    batch_id = found.batch_id if found else None
    back = f"/portal/ops/batches/{batch_id}" if batch_id else "/portal/ops/payouts"
    return RedirectResponse(back, status_code=303)


@router.post("/ops/payouts/{payout_id}/abandon", response_model=None, dependencies=[Csrf])
async def abandon_payout(
    request: Request,
    payout_id: str,
    principal: OpsUser,
    db: DatabaseDep,
    temporal: TemporalDep,
    reason: Annotated[str, Form(max_length=4000)] = "",
    back: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Give up a payout that cannot be paid, saying why: the creator and brand are told."""
    form = {"payout_id": payout_id, "reason": reason}
    try:
        body = money_api.AbandonPayout.model_validate({"reason": reason})
        await money_api.abandon_payout(payout_id, body, principal, db, temporal)
    except ValidationError:
        errors = {"reason": "Say why it cannot be paid: the creator and the brand are told."}
        return await _payouts_page(request, principal, db, form, errors, 422)
    except AppError as exc:
        return await _payouts_page(request, principal, db, form, {"form": exc.detail},
                                   exc.status)  # fmt: skip
    target = back if back.startswith("/portal/ops/") else "/portal/ops/payouts"
    return RedirectResponse(f"{target}?notice=abandoned", status_code=303)


# -- ops: disputes ---------------------------------------------------------------------------


def _subject(session: Session, dispute: money.Dispute) -> str:
    """What is disputed, in words: the payout or payment, its amount and where it stands."""
    if dispute.subject == "payout":
        p = money.get_payout(session, dispute.subject_id)
        if p is None:
            return "A payout"
        return f"Payout of {words.money(p.amount_minor, p.currency)} ({p.status.replace('_', ' ')})"
    f = money.get_funding(session, uuid.UUID(dispute.subject_id))
    if f is None:
        return "A payment"
    total = words.money(f.budget_minor + f.fee_minor, f.currency)
    reference = reference_of(f.provider_ref)
    quoted = f", reference {reference}" if reference else ""
    return (
        f"Payment of {total} by {f.method.replace('_', ' ')} ({f.status.replace('_', ' ')}{quoted})"
    )


def _disputes_context(session: Session, status: str | None) -> dict[str, Any]:
    rows = money.disputes(session, status=status)
    return {
        "rows": money_api.dispute_public(session, rows),
        "subjects": {d.id: _subject(session, d) for d in rows},
    }


@router.get("/ops/disputes")
async def ops_disputes(
    request: Request,
    principal: OpsUser,
    db: DatabaseDep,
    show: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
) -> HTMLResponse:
    return await _disputes_page(request, principal, db, show)


async def _disputes_page(
    request: Request,
    principal: Principal,
    db: DatabaseDep,
    show: str,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = await db.run(_disputes_context, None if show == "all" else show)
    context = {"principal": principal, "show": show, **found}
    return render_form(request, "portal/ops_disputes.html", context, form, errors, status_code)


@router.post("/ops/disputes/{dispute_id}/resolution", response_model=None, dependencies=[Csrf])
async def resolve_dispute(
    request: Request,
    dispute_id: uuid.UUID,
    principal: OpsUser,
    db: DatabaseDep,
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    form = {"dispute_id": str(dispute_id), "note": note}
    try:
        body = money_api.DisputeResolution.model_validate({"note": note})
        await money_api.resolve_dispute(dispute_id, body, principal, db, request)
    except ValidationError:
        errors = {"note": "Write what you found and did: whoever raised it reads this."}
        return await _disputes_page(request, principal, db, "open", form, errors, 422)
    except AppError as exc:
        return await _disputes_page(request, principal, db, "open", form,
                                    {"form": exc.detail}, exc.status)  # fmt: skip
    return RedirectResponse("/portal/ops/disputes", status_code=303)
