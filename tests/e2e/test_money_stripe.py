"""Money through Stripe (the local emulator): card funding with 3-D Secure confirmed by a
signed webhook, Connect onboarding that releases a waiting payout, transfers paid once, and
webhooks that are replayed, out of order, tampered with or unsigned."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from activities.money.fundings import FundingActivities
from integrations.payments.manual import ManualPayments
from models import money
from models.db import session_scope
from nexus.settings import Settings
from tests.e2e.money_support import BUDGET, PRICE, Deal, deal, handled, verified_once, webhook
from tests.e2e.support import ok, until
from tests.e2e.test_license_fees import FEE, PLATFORM_FEE, live_fee, payout_in, renew_with_fee
from tests.e2e.test_licensing import RIGHTS, approve_one
from tests.payments import support as ps
from tests.support import assert_ledger_balanced, count_rows
from workflows.campaign import CampaignWorkflow
from workflows.contracts.payments import SettlePayment
from workflows.contracts.payouts import FundingConfirmed
from workflows.payment_events import PaymentEventSweepWorkflow
from workflows.task_queues import cpu_queue


@pytest.fixture
def settings(settings: Settings, stripe_emulator: str) -> Settings:
    """The test's settings with Stripe as the payment provider."""
    payments = ps.payment_settings(stripe_emulator)
    return settings.model_copy(update={"payments": payments})


async def card_funded(d: Deal, engine: Engine, stripe_emulator: str) -> dict[str, Any]:
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
    answer = await webhook(d.http, engine, succeeded)
    assert answer == {"received": True, "duplicate": False}
    # Stripe delivers at least once: the same event again is acknowledged and ignored.
    assert await webhook(d.http, engine, succeeded) == {"received": True, "duplicate": True}
    return dict(funding)


async def test_card_3ds_funding_connect_onboarding_and_a_single_transfer(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str
) -> None:
    d = await deal(http, engine)
    await card_funded(d, engine, stripe_emulator)
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
    await webhook(http, engine, enabled)
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
    assert (await webhook(http, engine, stale))["duplicate"] is False
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
    await card_funded(d, engine, stripe_emulator)
    account = ok(await http.post("/creator/payout-account", headers=d.c))
    # Stripe reports payouts enabled, but the account cannot receive transfers.
    ps.finish_onboarding(stripe_emulator, account["account_ref"], transfers=False)
    await webhook(http, engine, ps.event("account.updated", {"id": account["account_ref"]}))
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
    assert (await webhook(http, engine, succeeded))["duplicate"] is False
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
    await webhook(http, engine, succeeded)

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
    await webhook(http, engine, succeeded)

    rows = {f["id"]: f for f in ok(await http.get(path, headers=d.b))}
    assert rows[first["id"]]["status"] == "refunded"
    assert "newer funding request" in rows[first["id"]]["failure"]
    assert rows[second["id"]]["status"] == "succeeded"
    assert (await d.statement())["totals"]["funding"] == {"USD": BUDGET}
    refunds = [r.to_dict() for r in ps.sdk(stripe_emulator).v1.refunds.list().data]
    ours = [r for r in refunds if r["metadata"].get("reference") == f"campaign-{d.campaign_id}"]
    assert [r["amount"] for r in ours] == [BUDGET + BUDGET // 10]
    assert_ledger_balanced(engine)


# --- provider truth, shapes, recovery, signals ----------------------------------------------


async def test_a_signed_success_for_a_payment_stripe_still_holds_for_3d_secure_funds_nothing(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str
) -> None:
    """The event is authentic in form (signed with the webhook secret) but Stripe's own
    record says the card holder has not passed 3-D Secure: nothing is funded."""
    d = await deal(http, engine)
    method = ps.card(stripe_emulator, ps.THREE_D_SECURE)
    path = f"/campaigns/{d.campaign_id}/fundings"
    funding = ok(
        await http.post(path, json={"method": "card", "payment_method": method}, headers=d.b),
        201,
    )
    intent_id = funding["client_secret"].split("_secret_")[0]
    forged = ps.event(
        "payment_intent.succeeded",
        {"id": intent_id, "status": "succeeded", "amount": BUDGET + BUDGET // 10,
         "amount_received": BUDGET + BUDGET // 10, "currency": "usd",
         "metadata": {"funding_id": funding["id"]}},
    )  # fmt: skip
    assert await webhook(http, engine, forged) == {"received": True, "duplicate": False}
    [row] = ok(await http.get(path, headers=d.b))
    assert row["status"] == "requires_action"
    assert (await d.statement())["lines"] == []
    refused = await http.post(f"/campaigns/{d.campaign_id}/publish", headers=d.b)
    assert refused.status_code == 409 and "campaign is not funded" in refused.json()["detail"]


def _odd(event: dict[str, Any], case: str) -> None:
    if case == "no id":
        event.pop("id")
    elif case == "no created":
        event.pop("created")
    elif case == "300-character id":
        event["id"] = "evt_" + "a" * 296
    elif case == "numeric id":
        event["id"] = 42
    elif case == "created as text":
        event["created"] = "yesterday"
    elif case == "created far away":
        event["created"] = 10**20
    elif case == "no object":
        event["data"] = {"object": None}
    else:
        event["data"]["object"]["id"] = {"nested": True}


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("no id", "body.id"),
        ("no created", "body.created"),
        ("300-character id", "body.id"),
        ("numeric id", "body.id"),
        ("created as text", "body.created"),
        ("created far away", "body.created"),
        ("no object", "body.data.object"),
        ("object id of the wrong type", "body.data.object.id"),
    ],
)
async def test_a_signed_webhook_of_an_odd_shape_is_a_400_naming_the_field(
    http: httpx.AsyncClient, engine: Engine, case: str, field: str
) -> None:
    event = ps.event("payment_intent.succeeded", {"id": "pi_odd", "status": "succeeded"})
    _odd(event, case)
    body, signature = ps.signed(event)
    refused = await http.post(
        "/webhooks/stripe", content=body, headers={"Stripe-Signature": signature}
    )
    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"] == "/problems/bad-webhook"
    assert [e["field"] for e in problem["errors"]] == [field]
    assert count_rows(engine, "provider_events") == 0


async def _stored_not_handled(d: Deal, engine: Engine, stripe_emulator: str) -> dict[str, Any]:
    """A 3-D Secure funding completed at Stripe whose success event the API stored and then
    stopped before starting its process (the start is skipped here)."""
    path = f"/campaigns/{d.campaign_id}/fundings"
    method = ps.card(stripe_emulator, ps.THREE_D_SECURE)
    funding = ok(
        await d.http.post(path, json={"method": "card", "payment_method": method}, headers=d.b),
        201,
    )
    intent_id = ps.pass_3d_secure(stripe_emulator, funding["client_secret"])
    event = ps.event("payment_intent.succeeded", {"id": intent_id})
    with session_scope(engine) as session:
        occurred = datetime.fromtimestamp(event["created"], UTC)
        stored = money.store_event(session, event["id"], event["type"], occurred, intent_id)
        assert stored == (True, False)
    return event


async def test_an_event_stored_but_never_handled_is_handled_by_the_sweep(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str, client: Client,
    settings: Settings,
) -> None:  # fmt: skip
    d = await deal(http, engine)
    event = await _stored_not_handled(d, engine, stripe_emulator)

    async def sweep() -> list[str]:
        return await client.execute_workflow(
            PaymentEventSweepWorkflow.run,
            id=f"sweep-{uuid.uuid4()}",
            task_queue=cpu_queue(settings.temporal.task_queue),
            execution_timeout=timedelta(minutes=1),
        )

    # Events only just stored are left to the request handling them.
    assert await sweep() == []
    with session_scope(engine) as session:
        row = session.get(money.ProviderEvent, event["id"])
        assert row is not None
        row.received_at -= timedelta(minutes=5)
    assert await sweep() == [event["id"]]
    await handled(engine, event["id"])
    [row_public] = ok(await http.get(f"/campaigns/{d.campaign_id}/fundings", headers=d.b))
    assert row_public["status"] == "succeeded"
    assert (await d.statement())["totals"]["funding"] == {"USD": BUDGET}
    ok(await http.post(f"/campaigns/{d.campaign_id}/publish", headers=d.b))


async def test_stripe_delivering_a_stored_unhandled_event_again_handles_it_once(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str
) -> None:
    d = await deal(http, engine)
    event = await _stored_not_handled(d, engine, stripe_emulator)
    # Stored already, so a duplicate; but not handled yet, so its process starts now.
    assert await webhook(http, engine, event) == {"received": True, "duplicate": True}
    assert await webhook(http, engine, event) == {"received": True, "duplicate": True}
    assert (await d.statement())["totals"]["funding"] == {"USD": BUDGET}


async def test_a_funded_signal_sent_straight_to_temporal_does_not_publish_the_campaign(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str, client: Client
) -> None:
    d = await deal(http, engine)
    # A real funding, still waiting for 3-D Secure, and one made up.
    method = ps.card(stripe_emulator, ps.THREE_D_SECURE)
    path = f"/campaigns/{d.campaign_id}/fundings"
    waiting = ok(
        await http.post(path, json={"method": "card", "payment_method": method}, headers=d.b),
        201,
    )
    handle = client.get_workflow_handle(f"campaign-{d.campaign_id}")
    for funding_id in (uuid.UUID(waiting["id"]), uuid.uuid4()):
        forged = FundingConfirmed(
            funding_id=funding_id, budget_minor=BUDGET, fee_minor=0, currency="USD"
        )
        await handle.signal(CampaignWorkflow.funded, forged)
        await verified_once(handle)
    refused = await http.post(f"/campaigns/{d.campaign_id}/publish", headers=d.b)
    assert refused.status_code == 409 and "campaign is not funded" in refused.json()["detail"]
    status = await handle.query(CampaignWorkflow.status)
    assert status.funded_minor == 0 and status.stage == "draft"


async def test_a_signed_event_naming_a_bank_transfer_confirms_nothing(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    """Only ops see a bank transfer arrive: no provider event can confirm one."""
    d = await deal(http, engine)
    path = f"/campaigns/{d.campaign_id}/fundings"
    funding = ok(await http.post(path, json={"method": "bank_transfer"}, headers=d.b), 201)
    with session_scope(engine) as session:
        row = money.get_funding(session, uuid.UUID(funding["id"]))
        assert row is not None and row.provider_ref is not None
        ref = row.provider_ref
    body, signature = ps.signed(ps.event("payment_intent.succeeded", {"id": ref}))
    refused = await http.post(
        "/webhooks/stripe", content=body, headers={"Stripe-Signature": signature}
    )
    assert refused.status_code == 400
    assert [e["field"] for e in refused.json()["errors"]] == ["body.data.object.id"]
    # Nor does its process, should one be started for the bank transfer's reference.
    fundings = FundingActivities(engine, ManualPayments(engine))
    assert fundings.settle_payment(SettlePayment(provider_ref=ref)).outcome == "ignored"
    [after] = ok(await http.get(path, headers=d.b))
    assert after["status"] == "awaiting_transfer"
    assert (await d.statement())["lines"] == []
