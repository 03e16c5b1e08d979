"""Money with the embedded manual provider: a bank transfer funds the campaign once ops see
it, the creator is paid from the batch file ops settle, and closing the campaign refunds the
unspent escrow with its share of the fee."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain import bank
from tests.e2e.money_support import BUDGET, PRICE, deal, give_bank_details, verified_once
from tests.e2e.support import ok, until
from tests.e2e.test_license_fees import renew_with_fee
from tests.e2e.test_licensing import RIGHTS, approve_one
from tests.support import assert_ledger_balanced, fund
from workflows.contracts.license import FeeFunded
from workflows.license import LicenseWorkflow
from workflows.license import workflow_id as license_workflow_id
from workflows.payout import PayoutWorkflow

FEE = BUDGET // 10  # the default 10 % platform fee


async def test_bank_transfer_funding_payout_batch_and_refund(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    d = await deal(http, engine)
    cid = d.campaign_id

    funding = ok(
        await http.post(
            f"/campaigns/{cid}/fundings", json={"method": "bank_transfer"}, headers=d.b
        ),
        201,
    )
    assert (funding["status"], funding["budget_minor"], funding["fee_minor"]) == (
        "awaiting_transfer", BUDGET, FEE,
    )  # fmt: skip
    # The invoice: a checked reference, a number, and the platform's bank details to pay to.
    reference = funding["reference"]
    assert bank.parse_reference(reference) == reference
    assert funding["invoice_number"].startswith("INV-")
    for shown in (reference, "GB33 BUKB 2020 1555 5555 55", "BUKBGB22", "$5,500.00", "EXAMPLE"):
        assert shown in funding["instructions"], shown
    listed = ok(await http.get(f"/campaigns/{cid}/fundings", headers=d.b))
    assert listed[0]["instructions"] == funding["instructions"]
    # Asking again while the transfer is on its way would double the money: refused.
    again = await http.post(
        f"/campaigns/{cid}/fundings", json={"method": "bank_transfer"}, headers=d.b
    )
    assert again.status_code == 409
    assert (await d.statement())["lines"] == []  # nothing arrived yet

    # Brands cannot confirm their own transfer; ops can, and twice counts once.
    assert (
        await http.post(f"/ops/fundings/{funding['id']}/confirm", headers=d.b)
    ).status_code == 403
    for _ in range(2):
        confirmed = ok(await http.post(f"/ops/fundings/{funding['id']}/confirm", headers=d.ops))
        assert confirmed["status"] == "succeeded"
    delivery_id = await d.approved_delivery()

    # No payout account yet: the payout waits and the creator is asked to connect one.
    waiting = await d.payout_in("awaiting_onboarding")
    assert (waiting["id"], waiting["amount_minor"], waiting["reason"]) == (
        delivery_id, PRICE, "delivery",
    )  # fmt: skip

    async def asked_to_connect() -> bool:
        # The notice follows the payout's recorded state.
        inbox = ok(await http.get("/notifications", headers=d.c))
        return "payout_account_needed" in [n["kind"] for n in inbox]

    assert await until(asked_to_connect, timeout_s=30)

    # Manual payouts need bank details: until the creator gives them, the payout waits.
    account = ok(await http.post("/creator/payout-account", headers=d.c))
    assert (account["provider"], account["payouts_enabled"]) == ("manual", False)
    assert account["onboarding_url"].endswith("/portal/earnings#bank-details")
    bad = await http.put(
        "/creator/payout-account/bank-details",
        json={"holder_name": "Ada Lovelace", "iban": "DE89 3704 0044 0532 0130 01"},
        headers=d.c,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.iban"
    assert "check digits" in bad.json()["errors"][0]["reason"]
    await d.payout_in("awaiting_onboarding")
    account = ok(
        await http.put(
            "/creator/payout-account/bank-details",
            json={"holder_name": "Ada Lovelace", "iban": "DE89 3704 0044 0532 0130 00"},
            headers=d.c,
        )
    )
    assert (account["payouts_enabled"], account["bank_details"]) == (True, "IBAN DE·· ···· 3000")
    await d.payout_in("awaiting_settlement")

    batch = await http.get("/ops/manual-transfers?format=csv", headers=d.ops)
    assert batch.status_code == 200 and batch.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(batch.text)))
    assert [(x["kind"], x["amount_minor"], x["reference"], x["payee"]) for x in lines] == [
        ("payout", str(PRICE), f"payout-{delivery_id}", "IBAN DE·· ···· 3000")
    ]
    for _ in range(2):  # a repeated confirmation changes nothing
        settled = ok(
            await http.post(f"/ops/manual-transfers/{lines[0]['id']}/settled", headers=d.ops)
        )
        assert settled["status"] == "settled"
    paid = await d.payout_in("paid")
    assert paid["transfer_ref"] == f"manual:payout-{delivery_id}:transfer"

    creator_statement = ok(await http.get("/creator/statement", headers=d.c))
    assert creator_statement["totals"] == {"reserve": {"USD": PRICE}, "payout": {"USD": PRICE}}

    # Cancelling keeps the approved work paid and returns the rest with its share of the fee.
    ok(await http.post(f"/campaigns/{cid}/cancel", json={"reason": "season over"}, headers=d.b))
    unspent = BUDGET - PRICE
    fee_back = FEE * unspent // BUDGET

    async def refunded() -> dict[str, object]:
        statement = await d.statement()
        return statement if "refund" in statement["totals"] else {}

    statement = await until(refunded)
    assert statement["totals"] == {
        "funding": {"USD": BUDGET},
        "funding_fees": {"USD": FEE},
        "reserve": {"USD": PRICE},
        "payout": {"USD": PRICE},
        "refund": {"USD": unspent},
        "refund_fees": {"USD": fee_back},
    }
    refunds = [
        x
        for x in ok(await http.get("/ops/manual-transfers", headers=d.ops))
        if x["kind"] == "refund"
    ]
    assert [(x["amount_minor"], x["payee"]) for x in refunds] == [
        (unspent + fee_back, str(d.brand.workspace_id))
    ]
    brand_csv = await http.get(f"/campaigns/{cid}/statement?format=csv", headers=d.b)
    kinds = [row["kind"] for row in csv.DictReader(io.StringIO(brand_csv.text))]
    assert kinds == ["funding", "reserve", "payout", "refund"]


async def test_card_funding_needs_a_card_and_the_stripe_provider(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    d = await deal(http, engine)
    path = f"/campaigns/{d.campaign_id}/fundings"
    missing = await http.post(path, json={"method": "card"}, headers=d.b)
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {"field": "body.payment_method", "reason": "required for method card"}
    ]
    manual = await http.post(path, json={"method": "card", "payment_method": "pm_x"}, headers=d.b)
    assert (
        manual.status_code == 422 and manual.headers["content-type"] == "application/problem+json"
    )
    bogus = await http.post(path, json={"method": "card", "payment_method": "4242"}, headers=d.b)
    assert bogus.status_code == 422
    other = await http.post(path, json={"method": "cash"}, headers=d.b)
    assert other.status_code == 422
    assert ok(await http.get(path, headers=d.b)) == []


async def test_a_transfer_arriving_after_cancellation_is_not_taken_into_escrow(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    d = await deal(http, engine)
    path = f"/campaigns/{d.campaign_id}/fundings"
    funding = ok(await http.post(path, json={"method": "bank_transfer"}, headers=d.b), 201)
    ok(await http.post(f"/campaigns/{d.campaign_id}/cancel", json={"reason": "x"}, headers=d.b))
    late = await http.post(f"/ops/fundings/{funding['id']}/confirm", headers=d.ops)
    assert late.status_code == 409 and "send the transfer back" in late.json()["detail"]
    assert (await d.statement())["lines"] == []
    assert (await http.post(path, json={"method": "bank_transfer"}, headers=d.b)).status_code == 409


async def test_two_funding_requests_at_once_fund_the_budget_once(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    d = await deal(http, engine)
    path = f"/campaigns/{d.campaign_id}/fundings"
    answers = await asyncio.gather(
        *(http.post(path, json={"method": "bank_transfer"}, headers=d.b) for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    assert [f["budget_minor"] for f in ok(await http.get(path, headers=d.b))] == [BUDGET]


async def test_ops_abandon_a_waiting_payout_and_the_money_returns_to_escrow(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    d = await deal(http, engine)
    await fund(http, engine, d.b, d.campaign_id)
    delivery_id = await d.approved_delivery()
    await d.payout_in("awaiting_onboarding")
    waiting = ok(await http.get("/ops/payouts?status=awaiting_onboarding", headers=d.ops))
    assert delivery_id in [p["id"] for p in waiting]
    path = f"/ops/payouts/{delivery_id}/abandon"
    assert (await http.post(path, json={"reason": "x"}, headers=d.b)).status_code == 403
    assert (await http.post(path, json={"reason": ""}, headers=d.ops)).status_code == 422
    ok(await http.post(path, json={"reason": "creator closed their account"}, headers=d.ops), 202)
    failed = await d.payout_in("failed")
    assert failed["failure"] == "creator closed their account"
    totals = (await d.statement())["totals"]
    assert totals["reserve"] == totals["release"] == {"USD": PRICE}
    again = await http.post(path, json={"reason": "again"}, headers=d.ops)
    assert again.status_code == 409 and "failed" in again.json()["detail"]
    unknown = await http.post("/ops/payouts/nope/abandon", json={"reason": "x"}, headers=d.ops)
    assert unknown.status_code == 404


async def test_a_fee_funded_signal_sent_straight_to_temporal_pays_the_creator_nothing(
    http: httpx.AsyncClient, engine: Engine, client: Client
) -> None:
    a = await approve_one(http, engine, RIGHTS)
    await renew_with_fee(http, a)
    handle = client.get_workflow_handle(license_workflow_id(a.license_id))
    await handle.signal(LicenseWorkflow.fee_funded, FeeFunded(number=1, funding_id=uuid.uuid4()))
    await verified_once(handle)
    state = await handle.query(LicenseWorkflow.state)
    assert [(f.number, f.status) for f in state.fees] == [(1, "pending")]
    with pytest.raises(RPCError) as missing:
        await client.get_workflow_handle(f"payout-license-{a.license_id}-1").describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND
    payouts = ok(await http.get("/creator/payouts", headers=a.c))
    assert [p["reason"] for p in payouts] == ["delivery"]  # the approved video's, no fee


async def test_a_settled_signal_sent_straight_to_temporal_pays_nothing_until_the_bank_settles(
    http: httpx.AsyncClient, engine: Engine, client: Client
) -> None:
    d = await deal(http, engine)
    await fund(http, engine, d.b, d.campaign_id)
    delivery_id = await d.approved_delivery()
    await give_bank_details(http, d.c)
    await d.payout_in("awaiting_settlement")

    handle = client.get_workflow_handle(f"payout-{delivery_id}")
    await handle.signal(PayoutWorkflow.settled)
    await verified_once(handle, "money.transfer_settled")
    assert (await d.payout_in("awaiting_settlement"))["id"] == delivery_id
    creator_statement = ok(await http.get("/creator/statement", headers=d.c))
    assert creator_statement["totals"] == {"reserve": {"USD": PRICE}}
    inbox = ok(await http.get("/notifications", headers=d.c))
    assert "payout_sent" not in [n["kind"] for n in inbox]

    pending = ok(await http.get("/ops/manual-transfers", headers=d.ops))
    [transfer] = [x for x in pending if x["reference"] == f"payout-{delivery_id}"]
    ok(await http.post(f"/ops/manual-transfers/{transfer['id']}/settled", headers=d.ops))
    await d.payout_in("paid")
    creator_statement = ok(await http.get("/creator/statement", headers=d.c))
    assert creator_statement["totals"] == {"reserve": {"USD": PRICE}, "payout": {"USD": PRICE}}
    assert_ledger_balanced(engine)
