"""Money through Stripe (the local emulator): card funding with 3-D Secure confirmed by a
signed webhook, Connect onboarding that releases a waiting payout, transfers paid once, and
webhooks that are replayed, out of order, tampered with or unsigned."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from nexus.settings import Settings
from tests.e2e.money_support import BUDGET, PRICE, Deal, deal
from tests.e2e.support import ok, until
from tests.e2e.test_license_fees import FEE, PLATFORM_FEE, live_fee, payout_in, renew_with_fee
from tests.e2e.test_licensing import RIGHTS, approve_one
from tests.payments import support as ps
from tests.support import assert_ledger_balanced


@pytest.fixture
def settings(settings: Settings, stripe_emulator: str) -> Settings:
    """The test's settings with Stripe as the payment provider."""
    payments = ps.payment_settings(stripe_emulator)
    return settings.model_copy(update={"payments": payments})


async def webhook(http: httpx.AsyncClient, event: dict[str, Any]) -> httpx.Response:
    body, signature = ps.signed(event)
    return await http.post(
        "/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


async def card_funded(d: Deal, stripe_emulator: str) -> dict[str, Any]:
    """Fund with a 3-D Secure card; Stripe reports success by webhook once it passed."""
    path = f"/campaigns/{d.campaign_id}/fundings"
    method = ps.card(stripe_emulator, ps.THREE_D_SECURE)
    funding = ok(
        await d.http.post(path, json={"method": "card", "payment_method": method}, headers=d.b),
        201,
    )
    assert funding["status"] == "requires_action" and funding["client_secret"]
    refused = await d.http.post(f"/campaigns/{d.campaign_id}/publish", headers=d.b)
    assert refused.status_code == 409 and "campaign is not funded" in refused.json()["detail"]
    intent_id = ps.pass_3d_secure(stripe_emulator, funding["client_secret"])
    succeeded = ps.event("payment_intent.succeeded", {"id": intent_id, "status": "succeeded"})
    answer = ok(await webhook(d.http, succeeded))
    assert answer == {"received": True, "duplicate": False}
    # Stripe delivers at least once: the same event again is acknowledged and ignored.
    assert ok(await webhook(d.http, succeeded)) == {"received": True, "duplicate": True}
    return dict(funding)


async def test_card_3ds_funding_connect_onboarding_and_a_single_transfer(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str
) -> None:
    d = await deal(http, engine)
    await card_funded(d, stripe_emulator)
    statement = await d.statement()
    assert statement["totals"]["funding"] == {"USD": BUDGET}  # counted once despite the replay

    account = ok(await http.post("/creator/payout-account", headers=d.c))
    assert account["provider"] == "stripe" and not account["payouts_enabled"]
    assert account["onboarding_url"].startswith("https://connect.stripe.com/")
    # Opening it again is the same account, with a fresh onboarding link.
    assert (
        ok(await http.post("/creator/payout-account", headers=d.c))["account_ref"]
        == (account["account_ref"])
    )
    delivery_id = await d.approved_delivery()
    await d.payout_in("awaiting_onboarding")

    # The creator finishes onboarding at Stripe; Stripe tells the platform.
    ps.finish_onboarding(stripe_emulator, account["account_ref"])
    now = int(time.time())
    enabled = ps.event(
        "account.updated", {"id": account["account_ref"], "payouts_enabled": True}, created=now
    )
    ok(await webhook(http, enabled))
    paid = await d.payout_in("paid")
    transfers = [
        t for t in ps.transfers(stripe_emulator) if t["destination"] == account["account_ref"]
    ]
    assert [(t["id"], t["amount"]) for t in transfers] == [(paid["transfer_ref"], PRICE)]
    assert transfers[0]["transfer_group"] == f"payout-{delivery_id}"

    # An older event arriving late does not switch payouts off again.
    stale = ps.event(
        "account.updated",
        {"id": account["account_ref"], "payouts_enabled": False},
        created=now - 60,
    )
    assert ok(await webhook(http, stale))["duplicate"] is False
    again = ok(await http.post("/creator/payout-account", headers=d.c))
    assert again["payouts_enabled"] and again["onboarding_url"] is None

    creator_statement = ok(await http.get("/creator/statement", headers=d.c))
    assert creator_statement["totals"] == {"reserve": {"USD": PRICE}, "payout": {"USD": PRICE}}

    # Cancelling refunds the unspent escrow and its share of the fee to the brand's card.
    ok(await http.post(f"/campaigns/{d.campaign_id}/cancel", json={"reason": "x"}, headers=d.b))

    async def refunded() -> dict[str, Any]:
        totals: dict[str, Any] = (await d.statement())["totals"]
        return totals if "refund" in totals else {}

    totals = await until(refunded)
    unspent, fee = BUDGET - PRICE, BUDGET // 10 * (BUDGET - PRICE) // BUDGET
    assert (totals["refund"], totals["refund_fees"]) == ({"USD": unspent}, {"USD": fee})
    refunds = [r.to_dict() for r in ps.sdk(stripe_emulator).v1.refunds.list().data]
    ours = [r for r in refunds if r["metadata"].get("reference") == f"campaign-{d.campaign_id}"]
    assert [r["amount"] for r in ours] == [unspent + fee]


async def test_a_refused_transfer_releases_the_reservation_and_alerts_ops(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str
) -> None:
    d = await deal(http, engine)
    await card_funded(d, stripe_emulator)
    account = ok(await http.post("/creator/payout-account", headers=d.c))
    # A forged "enabled" state: the account cannot receive transfers at Stripe.
    ok(
        await webhook(
            http,
            ps.event("account.updated", {"id": account["account_ref"], "payouts_enabled": True}),
        )
    )
    await d.approved_delivery()
    failed = await d.payout_in("failed")
    assert "refused" in failed["failure"]
    assert all(t["destination"] != account["account_ref"] for t in ps.transfers(stripe_emulator))
    totals = (await d.statement())["totals"]
    assert totals["reserve"] == totals["release"] == {"USD": PRICE}

    async def ops_alerted() -> bool:
        inbox = ok(await http.get("/notifications", headers=d.ops))
        return "payout_failed" in [n["kind"] for n in inbox]

    await until(ops_alerted)


@pytest.mark.parametrize(
    "tamper",
    ["body", "secret", "stale", "missing", "garbage"],
)
async def test_unauthentic_webhooks_are_400_and_change_nothing(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str, tamper: str
) -> None:
    d = await deal(http, engine)
    method = ps.card(stripe_emulator, ps.THREE_D_SECURE)
    funding = ok(
        await http.post(
            f"/campaigns/{d.campaign_id}/fundings",
            json={"method": "card", "payment_method": method},
            headers=d.b,
        ),
        201,
    )
    intent_id = funding["client_secret"].split("_secret")[0]
    event = ps.event("payment_intent.succeeded", {"id": intent_id, "status": "succeeded"})
    body, signature = ps.signed(event)
    headers = {"Stripe-Signature": signature}
    if tamper == "body":
        body = body.replace(intent_id.encode(), b"pi_someone_else")
    elif tamper == "secret":
        body, headers["Stripe-Signature"] = ps.signed(event, secret="whsec_attacker")
    elif tamper == "stale":
        body, headers["Stripe-Signature"] = ps.signed(event, at=int(time.time()) - 3600)
    elif tamper == "missing":
        headers = {}
    else:
        headers["Stripe-Signature"] = f"t={uuid.uuid4()},v1=zz"
    refused = await http.post("/webhooks/stripe", content=body, headers=headers)
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "/problems/bad-webhook"
    assert (await d.statement())["lines"] == []
    fundings = ok(await http.get(f"/campaigns/{d.campaign_id}/fundings", headers=d.b))
    assert [f["status"] for f in fundings] == ["requires_action"]


async def test_a_license_fee_paid_by_card_after_3d_secure_goes_to_the_creator(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str
) -> None:
    a = await approve_one(http, engine, RIGHTS)
    await renew_with_fee(http, a)
    method = ps.card(stripe_emulator, ps.THREE_D_SECURE)
    funding = ok(
        await http.post(
            f"/licenses/{a.license_id}/fees/1/funding",
            json={"method": "card", "payment_method": method},
            headers=a.b,
        ),
        201,
    )
    assert (funding["status"], funding["total_minor"]) == ("requires_action", FEE + PLATFORM_FEE)
    intent_id = ps.pass_3d_secure(stripe_emulator, funding["client_secret"])
    succeeded = ps.event("payment_intent.succeeded", {"id": intent_id, "status": "succeeded"})
    assert ok(await webhook(http, succeeded))["duplicate"] is False
    fee = await live_fee(http, a, "paying")
    assert fee["funding_id"] == funding["id"]
    waiting = await payout_in(http, a.c, f"license-{a.license_id}-1", "awaiting_onboarding")
    assert (waiting["reason"], waiting["amount_minor"]) == ("license_fee", FEE)
    assert_ledger_balanced(engine)


async def test_a_card_payment_completing_after_cancellation_is_refunded_not_kept(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str
) -> None:
    d = await deal(http, engine)
    method = ps.card(stripe_emulator, ps.THREE_D_SECURE)
    funding = ok(
        await http.post(
            f"/campaigns/{d.campaign_id}/fundings",
            json={"method": "card", "payment_method": method},
            headers=d.b,
        ),
        201,
    )
    assert funding["status"] == "requires_action"
    ok(await http.post(f"/campaigns/{d.campaign_id}/cancel", json={"reason": "x"}, headers=d.b))
    # The brand passes 3-D Secure only now; Stripe reports the payment.
    intent_id = ps.pass_3d_secure(stripe_emulator, funding["client_secret"])
    succeeded = ps.event("payment_intent.succeeded", {"id": intent_id, "status": "succeeded"})
    ok(await webhook(http, succeeded))

    [row] = ok(await http.get(f"/campaigns/{d.campaign_id}/fundings", headers=d.b))
    assert row["status"] == "refunded"
    assert "after the campaign closed" in row["failure"]
    refunds = [r.to_dict() for r in ps.sdk(stripe_emulator).v1.refunds.list().data]
    ours = [r for r in refunds if r["metadata"].get("reference") == f"campaign-{d.campaign_id}"]
    assert [r["amount"] for r in ours] == [BUDGET + BUDGET // 10]
    assert "funding" not in (await d.statement())["totals"]
    assert_ledger_balanced(engine)


async def test_an_abandoned_3d_secure_payment_blocks_nothing_and_is_refunded_if_it_completes(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str
) -> None:
    d = await deal(http, engine)
    path = f"/campaigns/{d.campaign_id}/fundings"
    first = ok(
        await http.post(
            path,
            json={"method": "card", "payment_method": ps.card(stripe_emulator, ps.THREE_D_SECURE)},
            headers=d.b,
        ),
        201,
    )
    assert first["status"] == "requires_action"
    # The brand gives up on the 3-D Secure step and pays with another card.
    second = ok(
        await http.post(
            path,
            json={"method": "card", "payment_method": ps.card(stripe_emulator, ps.VISA)},
            headers=d.b,
        ),
        201,
    )
    assert second["status"] == "succeeded"
    ok(await http.post(f"/campaigns/{d.campaign_id}/publish", headers=d.b))
    # Then the first payment completes after all: it is given back, not counted twice.
    intent_id = ps.pass_3d_secure(stripe_emulator, first["client_secret"])
    succeeded = ps.event("payment_intent.succeeded", {"id": intent_id, "status": "succeeded"})
    ok(await webhook(http, succeeded))

    rows = {f["id"]: f for f in ok(await http.get(path, headers=d.b))}
    assert rows[first["id"]]["status"] == "refunded"
    assert "newer funding request" in rows[first["id"]]["failure"]
    assert rows[second["id"]]["status"] == "succeeded"
    assert (await d.statement())["totals"]["funding"] == {"USD": BUDGET}
    refunds = [r.to_dict() for r in ps.sdk(stripe_emulator).v1.refunds.list().data]
    ours = [r for r in refunds if r["metadata"].get("reference") == f"campaign-{d.campaign_id}"]
    assert [r["amount"] for r in ours] == [BUDGET + BUDGET // 10]
    assert_ledger_balanced(engine)
