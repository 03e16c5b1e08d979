"""Money run from the portal: a bank transfer's invoice (PDF), bank details and reference; ops
confirming it only when amount and reference match; creators' payout bank details checked,
kept encrypted and shown masked; bank batches exported and settled; payouts stopped with a
reason; disputes; and every CSV link answering with the portal's session."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from pypdf import PdfReader
from sqlalchemy import Engine, text
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowHandle

from domain import bank
from domain.enums import CampaignStage, Role
from models import money
from models.campaigns import Brief, Campaign, CampaignRecord, insert_campaign_if_absent
from models.db import session_scope
from models.notifications import Notification
from nexus.settings import Settings
from tests.api.test_portal import csrf_from, sign_in
from tests.e2e.support import ok, until
from tests.support import (
    CreatorAccount,
    Tenant,
    campaign_body,
    fund_in_ledger,
    login,
    make_creator,
    make_tenant,
)
from workflows.contracts.payouts import PayoutRequest, PayoutState
from workflows.payout import PayoutWorkflow, workflow_id
from workflows.task_queues import cpu_queue

IBAN = "DE89 3704 0044 0532 0130 00"
PRICE = 40_000


async def as_user(http: httpx.AsyncClient, tenant: Tenant) -> str:
    """Sign `http` in as `tenant` (alone); the CSRF token of its pages."""
    http.cookies.clear()
    await sign_in(http, tenant)
    return csrf_from(await http.get("/portal/workspaces"))


def error_of(page: httpx.Response, field_id: str) -> str:
    match = re.search(rf'<p id="{re.escape(field_id)}-error" class="error">([^<]*)</p>', page.text)
    assert match, f"no error shown for {field_id}"
    return html.unescape(match.group(1))


@dataclass
class Funded:
    brand: Tenant
    campaign_id: str
    funding_id: str
    reference: str


async def bank_transfer(http: httpx.AsyncClient, engine: Engine) -> Funded:
    """A brand funds a campaign by bank transfer from the campaign page."""
    brand = make_tenant(engine)
    headers = await login(http, brand)
    body = campaign_body(brand.brand_id, title="Glow <launch>")
    campaign_id = ok(await http.post("/campaigns", json=body, headers=headers), 201)["id"]
    csrf = await as_user(http, brand)
    funded = await http.post(
        f"/portal/campaigns/{campaign_id}/fundings",
        data={"csrf_token": csrf, "method": "bank_transfer"},
    )
    assert funded.status_code == 303, funded.text
    [funding] = ok(await http.get(f"/campaigns/{campaign_id}/fundings", headers=headers))
    return Funded(brand, campaign_id, funding["id"], funding["reference"])


async def test_a_bank_transfer_shows_its_invoice_bank_details_and_reference(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    f = await bank_transfer(http, engine)
    assert bank.parse_reference(f.reference) == f.reference
    page = await http.get(f"/portal/campaigns/{f.campaign_id}")
    for shown in (f.reference, "GB33 BUKB 2020 1555 5555 55", "BUKBGB22", "$5,500.00",
                  "Example bank details", "Download invoice (PDF)"):  # fmt: skip
        assert shown in page.text, shown

    invoice = await http.get(
        f"/portal/campaigns/{f.campaign_id}/fundings/{f.funding_id}/invoice.pdf"
    )
    assert invoice.status_code == 200 and invoice.headers["content-type"] == "application/pdf"
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(invoice.content)).pages)
    brand_name = f"Brand {f.brand.email.split('-')[1].split('@')[0]}"
    for shown in (brand_name, "Glow <launch>", f.reference, "$5,000.00", "$500.00",
                  "$5,500.00", "GB33 BUKB 2020 1555 5555 55", "INV-", "EXAMPLE"):  # fmt: skip
        assert shown in words, shown
    assert "minor units" not in words and f.funding_id not in words

    # The same invoice through the API; another workspace finds none.
    headers = await login(http, f.brand)
    api = await http.get(
        f"/campaigns/{f.campaign_id}/fundings/{f.funding_id}/invoice.pdf", headers=headers
    )
    assert api.status_code == 200 and api.content[:5] == b"%PDF-"
    other = await login(http, make_tenant(engine))
    hidden = await http.get(
        f"/campaigns/{f.campaign_id}/fundings/{f.funding_id}/invoice.pdf", headers=other
    )
    assert hidden.status_code == 404
    stranger = make_tenant(engine)
    await as_user(http, stranger)
    page = await http.get(f"/portal/campaigns/{f.campaign_id}/fundings/{f.funding_id}/invoice.pdf")
    assert page.status_code == 404 and f.reference not in page.text


async def test_ops_confirm_a_transfer_only_when_amount_and_reference_match(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    f = await bank_transfer(http, engine)
    other = await bank_transfer(http, engine)
    ops = make_tenant(engine, Role.OPS)
    csrf = await as_user(http, ops)
    listing = await http.get("/portal/ops/fundings")
    row = listing.text[listing.text.index(f'id="funding-{f.funding_id}"') :]
    row = row[: row.index("</tr>")]
    for shown in (f"Brand {f.brand.email.split('-')[1].split('@')[0]}", "Glow &lt;launch&gt;",
                  "$5,500.00", f.reference, "bank transfer", "awaiting transfer",
                  "just now"):  # fmt: skip
        assert shown in row, shown

    confirm = f"/portal/ops/fundings/{f.funding_id}/confirm"
    short = await http.post(
        confirm, data={"csrf_token": csrf, "amount": "5,400.00", "reference": f.reference}
    )
    assert short.status_code == 422
    assert "the invoice asks for $5,500.00, not $5,400.00" in error_of(
        short, f"amount-{f.funding_id}"
    ).replace("The", "the")
    assert 'value="5,400.00"' in short.text  # what ops typed stays
    typo = f.reference[:-1] + ("0" if f.reference[-1] != "0" else "1")
    mistyped = await http.post(
        confirm, data={"csrf_token": csrf, "amount": "5500", "reference": typo}
    )
    assert mistyped.status_code == 422
    assert "typo" in error_of(mistyped, f"reference-{f.funding_id}")
    wrong = await http.post(
        confirm, data={"csrf_token": csrf, "amount": "5500", "reference": other.reference}
    )
    assert "is not this invoice's reference" in error_of(wrong, f"reference-{f.funding_id}")
    with session_scope(engine) as session:
        funding = money.get_funding(session, uuid.UUID(f.funding_id))
        assert funding is not None and funding.status == "awaiting_transfer"

    # Found by the reference on the bank statement, however it was typed; then confirmed.
    found = await http.get("/portal/ops/fundings", params={"reference": f.reference.lower()})
    assert f.funding_id in found.text and other.funding_id not in found.text
    done = await http.post(
        confirm,
        data={"csrf_token": csrf, "amount": "5,500.00", "reference": f.reference.replace("-", " ")},
    )
    assert done.status_code == 303
    assert "confirmed" in (await http.get(done.headers["location"])).text
    with session_scope(engine) as session:
        funding = money.get_funding(session, uuid.UUID(f.funding_id))
        assert funding is not None and funding.status == "succeeded"
    # The brand's statement says what came in, in words.
    await as_user(http, f.brand)
    statement = await http.get(f"/portal/campaigns/{f.campaign_id}/statement")
    assert f"Bank transfer {f.reference}" in statement.text and "manual:" not in statement.text


async def test_creator_bank_details_are_checked_kept_encrypted_and_shown_masked(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    creator = make_creator(engine)
    csrf = await as_user(http, creator.tenant)
    page = await http.get("/portal/earnings")
    assert 'id="bank-details"' in page.text and "Save bank details" in page.text
    save = "/portal/payout-account/bank-details"

    bad = await http.post(
        save,
        data={"csrf_token": csrf, "holder_name": "Ada Lovelace", "scheme": "iban",
              "iban": "DE89 3704 0044 0532 0130 01", "bic": "DEUT"},
    )  # fmt: skip
    assert bad.status_code == 422
    assert "check digits do not match" in error_of(bad, "iban")
    assert "8 or 11" in error_of(bad, "bic")
    assert 'value="DE89 3704 0044 0532 0130 01"' in bad.text
    us = await http.post(
        save,
        data={"csrf_token": csrf, "holder_name": " ", "scheme": "us",
              "routing_number": "021000022", "account_number": "12"},
    )  # fmt: skip
    assert us.status_code == 422
    assert "routing number" in error_of(us, "routing_number")
    assert "4 to 17 digits" in error_of(us, "account_number")
    assert "name on the account" in error_of(us, "holder_name")
    assert 'id="scheme-us" name="scheme" value="us" checked' in us.text
    with session_scope(engine) as session:
        assert money.bank_details(session, creator.creator_id) is None

    saved = await http.post(
        save,
        data={"csrf_token": csrf, "holder_name": "Ada Lovelace", "scheme": "iban",
              "iban": IBAN.lower(), "bic": "cobadeffxxx"},
    )  # fmt: skip
    assert saved.status_code == 303
    page = await http.get(saved.headers["location"])
    assert "IBAN DE·· ···· 3000" in page.text
    assert "0532" not in page.text and "COBADEFF" not in page.text

    # At rest: neither the IBAN, the BIC nor the holder's name is in the database as text.
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT * FROM payout_bank_details")).one()
        audit_rows = conn.execute(text("SELECT details::text FROM audit_events")).all()
    dumped = repr(tuple(stored)).encode() + bytes(stored.sealed)
    for secret in (b"370400440532013000", b"DE89370400440532013000", b"COBADEFF", b"Lovelace"):
        assert secret not in dumped
    assert "0532" not in repr(audit_rows)
    assert (stored.scheme, stored.country, stored.last4) == ("iban", "DE", "3000")

    # Changed to a US account: checked by the ABA checksum, shown by its last four digits.
    changed = await http.post(
        save,
        data={"csrf_token": csrf, "holder_name": "Ada Lovelace", "scheme": "us",
              "routing_number": "021000021", "account_number": "000123456789"},
    )  # fmt: skip
    assert changed.status_code == 303
    assert "US account ···· 6789" in (await http.get("/portal/earnings")).text


async def start_payout(
    client: Client, settings: Settings, engine: Engine, creator: CreatorAccount
) -> tuple[WorkflowHandle[PayoutWorkflow, PayoutState], PayoutRequest]:
    """A payout of PRICE for the creator out of a funded campaign."""
    brand = make_tenant(engine)
    campaign_id = uuid.uuid4()
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        insert_campaign_if_absent(
            session,
            CampaignRecord(
                campaign=Campaign(
                    id=campaign_id, workspace_id=brand.workspace_id, brand_id=brand.brand_id,
                    title="Glow launch", stage=CampaignStage.IN_PRODUCTION,
                    currency="USD", budget_minor=100_000, created_by=brand.user_id,
                    created_at=now, updated_at=now,
                ),
                brief=Brief(
                    campaign_id=campaign_id, workspace_id=brand.workspace_id, product="p",
                    objective="o", usage_rights={},
                ),
                deliverables=[],
            ),
        )  # fmt: skip
    fund_in_ledger(engine, campaign_id, brand.workspace_id, 100_000, "USD")
    request = PayoutRequest(
        payout_id=str(uuid.uuid4()), workspace_id=brand.workspace_id, campaign_id=campaign_id,
        creator_id=creator.creator_id, creator_user_id=creator.user_id, amount_minor=PRICE,
        currency="USD", reason="delivery", source_id="delivery-1",
    )  # fmt: skip
    handle = await client.start_workflow(
        PayoutWorkflow.run,
        request,
        id=workflow_id(request.payout_id),
        task_queue=cpu_queue(settings.temporal.task_queue),
        execution_timeout=timedelta(minutes=10),
    )
    return handle, request


async def status_is(handle: WorkflowHandle[PayoutWorkflow, PayoutState], status: str) -> None:
    async def check() -> bool:
        return (await handle.query(PayoutWorkflow.state)).status == status

    await until(check, timeout_s=30)


def store_details(engine: Engine, settings: Settings, creator: CreatorAccount) -> None:
    with session_scope(engine) as session:
        money.store_bank_details(
            session, creator.creator_id, bank.IbanAccount("Ada Lovelace", bank.compact(IBAN)),
            settings.payments.details_key(),
        )  # fmt: skip


async def test_ops_pay_a_bank_batch_from_its_csv_and_settle_it(
    http: httpx.AsyncClient, engine: Engine, client: Client, settings: Settings
) -> None:
    creator = make_creator(engine)
    store_details(engine, settings, creator)
    handle, request = await start_payout(client, settings, engine, creator)
    await status_is(handle, "awaiting_settlement")

    csrf = await as_user(http, make_tenant(engine, Role.OPS))
    due = await http.get("/portal/ops/payouts")
    section = due.text[due.text.index('id="due-title"') : due.text.index('id="batches-title"')]
    for shown in (f"Creator {creator.email.split('-')[1].split('@')[0]}", "Glow launch",
                  "IBAN DE·· ···· 3000", "$400.00"):  # fmt: skip
        assert shown in section, shown
    assert "0532" not in due.text

    made = await http.post("/portal/ops/batches", data={"csrf_token": csrf})
    assert made.status_code == 303
    batch_page = await http.get(made.headers["location"])
    assert "$400.00" in batch_page.text and "1 to pay" in batch_page.text
    batch_id = made.headers["location"].rsplit("/", 1)[1]
    exported = await http.get(f"/portal/ops/batches/{batch_id}/transfers.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    [line] = list(csv.DictReader(io.StringIO(exported.text)))
    assert (line["payee"], line["iban"], line["amount"], line["currency"]) == (
        "Ada Lovelace", "DE89370400440532013000", "400.00", "USD",
    )  # fmt: skip
    assert line["reference"].startswith("NEXUS payout ") and line["reference"].endswith(
        "Glow launch"
    )
    assert line["internal reference"] == f"payout-{request.payout_id}"
    with engine.connect() as conn:
        actions = conn.execute(
            text("SELECT action FROM audit_events WHERE action = 'transfer_batch.exported'")
        ).all()
    assert len(actions) == 1

    settled = await http.post(f"/portal/ops/batches/{batch_id}/settled", data={"csrf_token": csrf})
    assert settled.status_code == 303
    assert (await handle.result()).status == "paid"
    assert "settled" in (await http.get(f"/portal/ops/batches/{batch_id}")).text
    # Nothing is due any more, and a second batch has nothing to take.
    again = await http.post("/portal/ops/batches", data={"csrf_token": csrf})
    assert again.headers["location"].endswith("notice=nothing-due")


def told(engine: Engine, user_id: uuid.UUID, kind: str) -> list[Notification]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Notification).where(
                    Notification.user_id == user_id, Notification.kind == kind
                )
            )
        )


async def test_ops_stop_a_payout_that_cannot_be_paid_and_the_creator_is_told(
    http: httpx.AsyncClient, engine: Engine, client: Client, settings: Settings
) -> None:
    creator = make_creator(engine)
    handle, request = await start_payout(client, settings, engine, creator)
    await status_is(handle, "awaiting_onboarding")
    csrf = await as_user(http, make_tenant(engine, Role.OPS))
    waiting = await http.get("/portal/ops/payouts")
    assert f'id="payout-{request.payout_id}"' in waiting.text
    path = f"/portal/ops/payouts/{request.payout_id}/abandon"
    empty = await http.post(path, data={"csrf_token": csrf, "reason": "  "})
    assert empty.status_code == 422
    assert "Say why it cannot be paid" in error_of(empty, f"reason-{request.payout_id}")
    stopped = await http.post(
        path, data={"csrf_token": csrf, "reason": "No bank details after 60 days"}
    )
    assert stopped.status_code == 303
    done = await handle.result()
    assert (done.status, done.failure) == ("failed", "No bank details after 60 days")
    [message] = told(engine, creator.user_id, "payout_abandoned")
    assert "$400.00" in message.title and "No bank details after 60 days" in message.body
    page = await http.get("/portal/ops/payouts")
    failed = page.text[page.text.index('id="failed-title"') :]
    assert "No bank details after 60 days" in failed


async def test_disputes_are_raised_shown_to_ops_and_answered(
    http: httpx.AsyncClient, engine: Engine, client: Client, settings: Settings
) -> None:
    creator, ops = make_creator(engine), make_tenant(engine, Role.OPS)
    store_details(engine, settings, creator)
    handle, request = await start_payout(client, settings, engine, creator)
    await status_is(handle, "awaiting_settlement")

    csrf = await as_user(http, creator.tenant)
    earnings = await http.get("/portal/earnings")
    assert "Report a problem" in earnings.text
    empty = await http.post(
        "/portal/payouts/dispute",
        data={"csrf_token": csrf, "payout_id": request.payout_id, "reason": ""},
    )
    assert empty.status_code == 422 and "Say what is wrong" in error_of(empty, "reason")
    raised = await http.post(
        "/portal/payouts/dispute",
        data={"csrf_token": csrf, "payout_id": request.payout_id,
              "reason": "My bank shows nothing after two weeks"},
    )  # fmt: skip
    assert raised.status_code == 303
    twice = await http.post(
        "/portal/payouts/dispute",
        data={"csrf_token": csrf, "payout_id": request.payout_id, "reason": "again"},
    )
    assert twice.status_code == 409 and "open already" in twice.text

    f = await bank_transfer(http, engine)
    brand_csrf = csrf_from(
        await http.get(f"/portal/campaigns/{f.campaign_id}/fundings/{f.funding_id}")
    )
    disputed = await http.post(
        f"/portal/campaigns/{f.campaign_id}/fundings/{f.funding_id}/disputes",
        data={"csrf_token": brand_csrf, "reason": "We paid on Monday, still not confirmed"},
    )
    assert disputed.status_code == 303

    csrf = await as_user(http, ops)
    listing = await http.get("/portal/ops/disputes")
    creator_name = f"Creator {creator.email.split('-')[1].split('@')[0]}"
    for shown in (creator_name, "My bank shows nothing after two weeks", "Payout of $400.00",
                  "We paid on Monday, still not confirmed", f.reference):  # fmt: skip
        assert shown in listing.text, shown
    assert len(told(engine, ops.user_id, "dispute_opened")) == 2
    [dispute] = [
        d
        for d in ok(await http.get("/ops/disputes", headers=await login(http, ops)))
        if d["subject"] == "payout"
    ]
    path = f"/portal/ops/disputes/{dispute['id']}/resolution"
    assert (await http.post(path, data={"csrf_token": csrf, "note": ""})).status_code == 422
    answer = "The bank batch went out today; it reaches you in 1-2 days."
    assert (await http.post(path, data={"csrf_token": csrf, "note": answer})).status_code == 303
    assert answer not in (await http.get("/portal/ops/disputes")).text  # open ones only
    assert answer in (await http.get("/portal/ops/disputes?show=resolved")).text

    await as_user(http, creator.tenant)
    assert answer in (await http.get("/portal/earnings")).text
    [note] = told(engine, creator.user_id, "dispute_resolved")
    assert note.body == answer


async def test_every_csv_link_of_the_portal_answers_with_the_session(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    f = await bank_transfer(http, engine)
    statement = await http.get(f"/portal/campaigns/{f.campaign_id}/statement")
    [link] = re.findall(r'href="([^"]+\.csv)"', statement.text)
    assert link == f"/portal/campaigns/{f.campaign_id}/statement.csv"
    assert "Authorization" not in http.headers
    answer = await http.get(link)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert next(csv.reader(io.StringIO(answer.text)))[:3] == ["date (UTC)", "what", "details"]
    # Another workspace's statement is not found.
    await as_user(http, make_tenant(engine))
    assert (await http.get(link)).status_code == 404

    creator = make_creator(engine)
    await as_user(http, creator.tenant)
    earnings = await http.get("/portal/earnings")
    [link] = re.findall(r'href="([^"]+\.csv)"', earnings.text)
    answer = await http.get(link)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")

    await as_user(http, make_tenant(engine, Role.OPS))
    audit = await http.get("/portal/ops/audit")
    [export] = re.findall(r'href="(/portal/ops/audit\?[^"]*export=true)"', audit.text)
    answer = await http.get(export.replace("&amp;", "&"))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
