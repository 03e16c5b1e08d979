"""License fees over HTTP on the real dev server: a fee agreed in an accepted renewal is charged
to the brand (bank transfer that ops confirm), lands in the campaign's escrow, and is paid to
the creator through a payout of its own; an ended license still owes it; the campaign's closing
refund never returns a fee on its way to the creator; bad input moves no money."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine
from temporalio.client import Client

from domain.enums import Role
from models import money
from models.db import session_scope
from tests.e2e.money_support import give_bank_details
from tests.e2e.support import Headers, ok, until
from tests.e2e.test_licensing import RIGHTS, Approved, approve_one
from tests.support import assert_ledger_balanced, count_rows, login, make_tenant

FEE = 40_000
PLATFORM_FEE = FEE // 10  # the default 10 % platform fee applies, as on campaign funding
BUDGET, PRICE = 500_000, 90_000  # approve_one's campaign and the creator's agreed price


async def renew_with_fee(http: httpx.AsyncClient, a: Approved) -> dict[str, Any]:
    lic = ok(await http.get(f"/licenses/{a.license_id}", headers=a.b))
    ends = datetime.fromisoformat(lic["terms"]["ends_at"]) + timedelta(days=365)
    renewal = {"ends_at": ends.isoformat(), "fee_minor": FEE}
    ok(await http.post(f"/licenses/{a.license_id}/changes", json=renewal, headers=a.b))
    answer = {"accept": True}
    path = f"/licenses/{a.license_id}/changes/answer"
    return dict(ok(await http.post(path, json=answer, headers=a.c)))


async def payout_in(http: httpx.AsyncClient, c: Headers, payout_id: str, status: str) -> Any:
    async def check() -> dict[str, Any]:
        rows = ok(await http.get("/creator/payouts", headers=c))
        row: dict[str, Any] = next((p for p in rows if p["id"] == payout_id), {})
        return dict(row) if row.get("status") == status else {}

    return await until(check)


async def live_fee(http: httpx.AsyncClient, a: Approved, status: str) -> Any:
    async def check() -> dict[str, Any]:
        live = ok(await http.get(f"/licenses/{a.license_id}", headers=a.b))["live"]
        fee = live["fees"][0] if live and live["fees"] else {}
        return dict(fee) if fee.get("status") == status else {}

    return await until(check)


async def test_a_renewal_fee_is_charged_to_the_brand_and_paid_to_the_creator(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    a = await approve_one(http, engine, RIGHTS)
    ops = await login(http, make_tenant(engine, Role.OPS))
    renewed = await renew_with_fee(http, a)
    assert (
        renewed["live"]["fees"][0] | {"amount_minor": FEE, "status": "pending"}
        == (renewed["live"]["fees"][0])
    )
    path = f"/licenses/{a.license_id}/fees/1/funding"
    body = {"method": "bank_transfer", "currency": "USD"}
    funding = ok(await http.post(path, json=body, headers=a.b), 201)
    assert (funding["status"], funding["budget_minor"], funding["fee_minor"]) == (
        "awaiting_transfer", FEE, PLATFORM_FEE,
    )  # fmt: skip
    assert (funding["license_id"], funding["fee_number"]) == (a.license_id, 1)
    twice = await http.post(path, json={"method": "bank_transfer"}, headers=a.b)
    assert twice.status_code == 409
    assert twice.headers["content-type"] == "application/problem+json"
    assert twice.json()["detail"] == "fee 1 is paid already, or its payment is under way"

    for _ in range(2):  # a repeated confirmation counts once
        ok(await http.post(f"/ops/fundings/{funding['id']}/confirm", headers=ops))
    payout_id = f"license-{a.license_id}-1"
    fee = await live_fee(http, a, "paying")
    assert (fee["funding_id"], fee["payout_workflow_id"]) == (funding["id"], f"payout-{payout_id}")
    waiting = await payout_in(http, a.c, payout_id, "awaiting_onboarding")
    assert (waiting["reason"], waiting["amount_minor"]) == ("license_fee", FEE)

    await give_bank_details(http, a.c)
    await payout_in(http, a.c, payout_id, "awaiting_settlement")
    batch = ok(await http.get("/ops/manual-transfers", headers=ops))
    line = next(x for x in batch if x["reference"] == f"payout-{payout_id}")
    assert (line["kind"], line["amount_minor"]) == ("payout", FEE)
    ok(await http.post(f"/ops/manual-transfers/{line['id']}/settled", headers=ops))
    paid = await payout_in(http, a.c, payout_id, "paid")
    assert paid["transfer_ref"] == f"manual:payout-{payout_id}:transfer"

    statement = ok(await http.get("/creator/statement", headers=a.c))
    mine = [
        (x["kind"], x["amount_minor"])
        for x in statement["lines"]
        if x["reference"] in (payout_id, paid["transfer_ref"])
    ]
    assert mine == [("reserve", FEE), ("payout", FEE)]
    campaign = ok(await http.get(f"/licenses/{a.license_id}", headers=a.b))["campaign_id"]
    brand = ok(await http.get(f"/campaigns/{campaign}/statement", headers=a.b))
    assert brand["totals"]["funding"] == {"USD": BUDGET + FEE}
    assert brand["totals"]["funding_fees"] == {"USD": BUDGET // 10 + PLATFORM_FEE}
    listed = ok(await http.get(f"/campaigns/{campaign}/fundings", headers=a.b))
    assert [(f["license_id"], f["status"]) for f in listed] == [
        (None, "succeeded"), (a.license_id, "succeeded"),
    ]  # fmt: skip
    paid_fee = await http.post(path, json={"method": "bank_transfer"}, headers=a.b)
    assert paid_fee.status_code == 409
    assert_ledger_balanced(engine)


async def test_bad_fee_payments_move_nothing_and_an_ended_license_still_owes_its_fee(
    http: httpx.AsyncClient, engine: Engine, client: Client
) -> None:
    a = await approve_one(http, engine, RIGHTS)
    path = f"/licenses/{a.license_id}/fees/1/funding"
    transfer = {"method": "bank_transfer"}
    none_yet = await http.post(path, json=transfer, headers=a.b)
    assert none_yet.status_code == 404
    assert none_yet.json()["detail"] == "the license has no fee number 1"
    await renew_with_fee(http, a)

    wrong = await http.post(path, json=transfer | {"currency": "EUR"}, headers=a.b)
    assert wrong.status_code == 422
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["errors"] == [
        {"field": "body.currency", "reason": "the fee is in USD, not EUR"}
    ]
    second = await http.post(f"/licenses/{a.license_id}/fees/2/funding", json=transfer, headers=a.b)
    assert second.status_code == 404
    card = await http.post(path, json={"method": "card", "payment_method": "pm_x"}, headers=a.b)
    assert card.status_code == 422  # the embedded manual provider takes no cards
    stranger = await login(http, make_tenant(engine))
    assert (await http.post(path, json=transfer, headers=stranger)).status_code == 404
    assert (await http.post(path, json=transfer, headers=a.c)).status_code == 403
    unknown = f"/licenses/{uuid.uuid4()}/fees/1/funding"
    assert (await http.post(unknown, json=transfer, headers=a.b)).status_code == 404
    assert count_rows(engine, "fundings") == 1  # the campaign's own: nothing was opened

    # Terminated, and its process closed: the fee it agreed to is still owed and paid.
    reason = {"reason": "Campaign pulled"}
    ok(await http.post(f"/licenses/{a.license_id}/termination", json=reason, headers=a.b))
    await client.get_workflow_handle(f"license-{a.license_id}").result()
    funding = ok(await http.post(path, json=transfer, headers=a.b), 201)
    ops = await login(http, make_tenant(engine, Role.OPS))
    for _ in range(2):  # the repeat finds the payout started and answers the same
        ok(await http.post(f"/ops/fundings/{funding['id']}/confirm", headers=ops))
    waiting = await payout_in(http, a.c, f"license-{a.license_id}-1", "awaiting_onboarding")
    assert (waiting["reason"], waiting["amount_minor"]) == ("license_fee", FEE)
    fee = ok(await http.get(f"/licenses/{a.license_id}", headers=a.b))["live"]["fees"][0]
    assert (fee["status"], fee["funding_id"], fee["payout_workflow_id"]) == (
        "paying", funding["id"], f"payout-license-{a.license_id}-1",
    )  # fmt: skip
    assert_ledger_balanced(engine)


async def test_the_campaigns_closing_refund_keeps_a_fee_on_its_way_to_the_creator(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    a = await approve_one(http, engine, RIGHTS)
    await renew_with_fee(http, a)
    path = f"/licenses/{a.license_id}/fees/1/funding"
    funding = ok(await http.post(path, json={"method": "bank_transfer"}, headers=a.b), 201)
    # The fee is in the escrow, but its announcement is still to come (the API was cut off
    # right after the money arrived): no payout has reserved it when the campaign closes.
    with session_scope(engine) as session:
        money.confirm_funding(session, uuid.UUID(funding["id"]))
    campaign = ok(await http.get(f"/licenses/{a.license_id}", headers=a.b))["campaign_id"]
    ok(await http.post(f"/campaigns/{campaign}/cancel", json={"reason": "x"}, headers=a.b))

    async def refunded() -> dict[str, Any]:
        statement = ok(await http.get(f"/campaigns/{campaign}/statement", headers=a.b))
        return dict(statement) if "refund" in statement["totals"] else {}

    totals = (await until(refunded))["totals"]
    assert totals["refund"] == {"USD": BUDGET - PRICE}  # the fee stayed for the creator

    ops = await login(http, make_tenant(engine, Role.OPS))
    ok(await http.post(f"/ops/fundings/{funding['id']}/confirm", headers=ops))
    await payout_in(http, a.c, f"license-{a.license_id}-1", "awaiting_onboarding")
    assert_ledger_balanced(engine)
