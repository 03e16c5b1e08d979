"""Bad input to the money paths, over HTTP with Stripe (the local emulator) as the provider:
each answers a clear problem+json or is acknowledged and ignored, no money moves (the ledger
balances and escrow are unchanged, no transfer reaches Stripe) and nothing counts twice."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain import ledger, words
from models import money
from models.db import session_scope
from nexus.settings import Settings
from tests.e2e.money_support import BUDGET, PRICE, Deal, deal, webhook
from tests.e2e.support import draft_body, ok
from tests.payments import support as ps
from tests.support import assert_ledger_balanced, campaign_body, count_rows, fund
from workflows.contracts.payouts import PayoutRequest
from workflows.payout import workflow_id as payout_workflow_id

FEE = BUDGET // 10  # the default 10 % platform fee


@pytest.fixture
def settings(settings: Settings, stripe_emulator: str) -> Settings:
    """The test's settings with Stripe as the payment provider."""
    payments = ps.payment_settings(stripe_emulator)
    return settings.model_copy(update={"payments": payments})


# --- helpers ------------------------------------------------------------------------------


def problem(response: httpx.Response, status: int, *reason: str) -> dict[str, Any]:
    """A problem+json answer with `status` whose detail mentions each of `reason`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    for part in reason:
        assert part in body["detail"], body
    return body


def problem_fields(response: httpx.Response) -> set[str]:
    return {e["field"] for e in problem(response, 422)["errors"]}


def escrow(engine: Engine, campaign_id: str, currency: str = "USD") -> int:
    with session_scope(engine) as session:
        return money.balance(session, ledger.account(ledger.ESCROW, campaign_id), currency)


def entry_kinds(engine: Engine, campaign_id: str) -> list[str]:
    with session_scope(engine) as session:
        return [e.kind for e in money.entries(session, campaign_id=uuid.UUID(campaign_id))]


async def card_intent(d: Deal, stripe_emulator: str) -> tuple[dict[str, Any], str]:
    """A 3-D Secure card funding the brand completed at Stripe; Stripe has not told the
    platform yet. Returns the funding and its PaymentIntent id."""
    method = ps.card(stripe_emulator, ps.THREE_D_SECURE)
    funding = ok(
        await d.http.post(
            f"/campaigns/{d.campaign_id}/fundings",
            json={"method": "card", "payment_method": method},
            headers=d.b,
        ),
        201,
    )
    assert funding["status"] == "requires_action"
    return dict(funding), ps.pass_3d_secure(stripe_emulator, funding["client_secret"])


def succeeded(intent_id: str, amount: int, currency: str, **event: Any) -> dict[str, Any]:
    obj = {
        "id": intent_id,
        "object": "payment_intent",
        "status": "succeeded",
        "amount": amount,
        "amount_received": amount,
        "currency": currency,
    }
    return ps.event("payment_intent.succeeded", obj, **event)


async def fundings(d: Deal) -> list[dict[str, Any]]:
    return list(ok(await d.http.get(f"/campaigns/{d.campaign_id}/fundings", headers=d.b)))


async def not_publishable(d: Deal) -> None:
    refused = await d.http.post(f"/campaigns/{d.campaign_id}/publish", headers=d.b)
    problem(refused, 409, "campaign is not funded")


def transfers_to(stripe_emulator: str, account_ref: str) -> list[dict[str, Any]]:
    return [t for t in ps.transfers(stripe_emulator) if t["destination"] == account_ref]


# --- amounts ------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, -100_000])
async def test_a_zero_or_negative_budget_or_price_is_422_and_creates_nothing(
    http: httpx.AsyncClient, engine: Engine, amount: int
) -> None:
    d = await deal(http, engine)  # one campaign exists
    budget = campaign_body(d.brand.brand_id)
    budget["budget"]["amount_minor"] = amount
    assert problem_fields(await http.post("/campaigns", json=budget, headers=d.b)) == {
        "body.budget.amount_minor"
    }
    price = campaign_body(d.brand.brand_id)
    price["deliverables"][0]["price_minor"] = amount
    assert problem_fields(await http.post("/campaigns", json=price, headers=d.b)) == {
        "body.deliverables.0.price_minor"
    }
    assert count_rows(engine, "campaigns") == 1
    assert count_rows(engine, "fundings") == count_rows(engine, "ledger_entries") == 0


@pytest.mark.parametrize("amount", [0, -1])
def test_the_ledger_and_payout_contract_refuse_zero_or_negative_amounts(
    engine: Engine, amount: int
) -> None:
    campaign, workspace, creator = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with pytest.raises(ValidationError, match="amount_minor"):
        PayoutRequest(
            payout_id="p1", workspace_id=workspace, campaign_id=campaign, creator_id=creator,
            creator_user_id=creator, amount_minor=amount, currency="USD", reason="delivery",
            source_id="d1",
        )  # fmt: skip
    with pytest.raises(ledger.LedgerError, match="positive amount"):
        ledger.funding(
            "f1", campaign_id=campaign, workspace_id=workspace, currency="USD",
            budget_minor=amount, fee_minor=0,
        )  # fmt: skip
    with pytest.raises(ledger.LedgerError, match="positive amount"):
        ledger.reserve(
            "r1", payout_id="p1", campaign_id=campaign, workspace_id=workspace,
            creator_id=creator, currency="USD", amount_minor=amount,
        )  # fmt: skip
    # A hand-built entry with a negative movement out of an empty escrow is refused by the
    # database-backed ledger too, and nothing is written.
    overdraw = ledger.Entry(
        "raw",
        ledger.EntryKind.RESERVE,
        "USD",
        (
            ledger.Posting(ledger.account(ledger.ESCROW, campaign), -5),
            ledger.Posting(ledger.account(ledger.PAYABLE, "p1"), 5),
        ),
    )
    with pytest.raises(ledger.LedgerError, match="cannot pay 5"), session_scope(engine) as s:
        money.post_entry(s, overdraw)
    assert count_rows(engine, "ledger_entries") == 0


# --- funding requests ---------------------------------------------------------------------


async def test_funding_an_already_funded_or_closed_campaign_is_409_and_charges_nothing(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str
) -> None:
    d = await deal(http, engine)
    await fund(http, engine, d.b, d.campaign_id)
    path = f"/campaigns/{d.campaign_id}/fundings"
    card = {"method": "card", "payment_method": ps.card(stripe_emulator)}
    intents_before = len(ps.sdk(stripe_emulator).v1.payment_intents.list().data)
    for body in (card, {"method": "bank_transfer"}):
        problem(await http.post(path, json=body, headers=d.b), 409, "already funded")
    assert len(ps.sdk(stripe_emulator).v1.payment_intents.list().data) == intents_before
    assert [(f["status"], f["budget_minor"]) for f in await fundings(d)] == [("succeeded", BUDGET)]
    assert escrow(engine, d.campaign_id) == BUDGET

    # Once cancelled, the escrow is refunded and the campaign takes no new money.
    ok(await http.post(f"/campaigns/{d.campaign_id}/cancel", json={"reason": "x"}, headers=d.b))
    for body in (card, {"method": "bank_transfer"}):
        problem(await http.post(path, json=body, headers=d.b), 409, "the campaign is cancelled")
    assert len(await fundings(d)) == 1
    assert len(ps.sdk(stripe_emulator).v1.payment_intents.list().data) == intents_before


async def test_a_bad_funding_body_is_422_with_the_field_and_charges_nothing(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str
) -> None:
    d = await deal(http, engine)
    path = f"/campaigns/{d.campaign_id}/fundings"
    intents_before = len(ps.sdk(stripe_emulator).v1.payment_intents.list().data)
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"method": "cash"}, {"body.method"}),
        ({}, {"body.method"}),
        ({"method": "card", "payment_method": "4242424242424242"}, {"body.payment_method"}),
        ({"method": "card", "payment_method": "pm_" + "x" * 100}, {"body.payment_method"}),
        ({"method": "card"}, {"body.payment_method"}),
        # The amount comes from the campaign's budget; a client cannot set one.
        ({"method": "bank_transfer", "amount_minor": -5}, {"body.amount_minor"}),
    ]
    for body, expected in cases:
        assert problem_fields(await http.post(path, json=body, headers=d.b)) == expected, body
    assert await fundings(d) == []
    assert len(ps.sdk(stripe_emulator).v1.payment_intents.list().data) == intents_before
    # The campaign can still be funded properly afterwards.
    funded = await fund(http, engine, d.b, d.campaign_id)
    assert (funded["budget_minor"], funded["fee_minor"]) == (BUDGET, FEE)


# --- card webhooks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency"),
    [(BUDGET + FEE, "eur"), (100, "usd")],
    ids=["currency", "amount"],
)
async def test_a_webhook_body_claiming_another_amount_is_not_believed(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str, amount: int, currency: str
) -> None:
    """What the event says of the payment is never read: Stripe's record decides."""
    d = await deal(http, engine)
    _, intent_id = await card_intent(d, stripe_emulator)
    answer = await webhook(http, engine, succeeded(intent_id, amount, currency))
    assert answer == {"received": True, "duplicate": False}
    [row] = await fundings(d)
    assert (row["status"], row["total_minor"]) == ("succeeded", BUDGET + FEE)
    assert entry_kinds(engine, d.campaign_id) == ["funding"]
    assert escrow(engine, d.campaign_id) == BUDGET


@pytest.mark.parametrize(
    ("amount", "currency"),
    [(BUDGET + FEE, "eur"), (100, "usd")],
    ids=["currency", "amount"],
)
async def test_a_payment_stripe_records_for_another_amount_moves_no_money(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str, amount: int, currency: str
) -> None:
    d = await deal(http, engine)
    funding, _ = await card_intent(d, stripe_emulator)
    assert funding["total_minor"] == BUDGET + FEE and funding["currency"] == "USD"
    # Stripe holds a succeeded payment for this funding, of another amount or currency.
    other = ps.sdk(stripe_emulator).v1.payment_intents.create(
        params={
            "amount": amount, "currency": currency, "payment_method": ps.card(stripe_emulator),
            "confirm": True, "metadata": {"funding_id": funding["id"]},
        }
    )  # fmt: skip
    with session_scope(engine) as session:
        row = money.get_funding(session, uuid.UUID(funding["id"]))
        assert row is not None
        row.provider_ref = other.id
    answer = await webhook(http, engine, succeeded(other.id, BUDGET + FEE, "usd"))
    assert answer == {"received": True, "duplicate": False}
    [row_public] = await fundings(d)
    assert row_public["status"] == "failed"
    assert f"reported {words.money(amount, currency)}, not" in row_public["failure"]
    assert f"the {words.money(BUDGET + FEE, 'USD')} asked for" in row_public["failure"]
    assert entry_kinds(engine, d.campaign_id) == []
    assert escrow(engine, d.campaign_id) == 0
    await not_publishable(d)


async def test_replayed_duplicate_and_out_of_order_payment_webhooks_count_once(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str
) -> None:
    d = await deal(http, engine)
    _, intent_id = await card_intent(d, stripe_emulator)
    total = BUDGET + FEE
    first = succeeded(intent_id, total, "usd", event_id=f"evt_{uuid.uuid4().hex}")
    assert await webhook(http, engine, first) == {"received": True, "duplicate": False}
    # The same event again (Stripe delivers at least once), even re-signed later: ignored.
    assert await webhook(http, engine, first) == {"received": True, "duplicate": True}
    # A replay of its id carrying something else is the same event: ignored too.
    assert await webhook(http, engine, first | {"type": "payment_intent.payment_failed"}) == {
        "received": True,
        "duplicate": True,
    }
    # A second, distinct success event for the same payment: processed, counted once.
    assert (await webhook(http, engine, succeeded(intent_id, total, "usd")))["duplicate"] is False
    # A failure that Stripe sent earlier but arrives last does not undo the payment.
    late_failure = ps.event(
        "payment_intent.payment_failed",
        {
            "id": intent_id,
            "status": "requires_payment_method",
            "last_payment_error": {"message": "Your card was declined."},
        },
        created=int(time.time()) - 120,
    )
    assert (await webhook(http, engine, late_failure))["duplicate"] is False
    # A success for a payment the platform never asked for changes nothing.
    assert (await webhook(http, engine, succeeded("pi_unknown", total, "usd")))[
        "duplicate"
    ] is False

    assert [(f["status"], f["failure"]) for f in await fundings(d)] == [("succeeded", "")]
    assert entry_kinds(engine, d.campaign_id) == ["funding"]
    assert escrow(engine, d.campaign_id) == BUDGET
    totals = (await d.statement())["totals"]
    assert totals == {"funding": {"USD": BUDGET}, "funding_fees": {"USD": FEE}}
    campaign = ok(await http.post(f"/campaigns/{d.campaign_id}/publish", headers=d.b))
    assert campaign["stage"] == "published"


# --- payouts ------------------------------------------------------------------------------


async def test_a_delivery_sent_back_for_revision_starts_no_payout_and_reserves_nothing(
    http: httpx.AsyncClient, engine: Engine, client: Client
) -> None:
    d = await deal(http, engine)
    await fund(http, engine, d.b, d.campaign_id)
    campaign = ok(await http.post(f"/campaigns/{d.campaign_id}/publish", headers=d.b))
    app = ok(
        await http.post(
            f"/marketplace/campaigns/{d.campaign_id}/applications",
            json={
                "deliverable_id": campaign["deliverables"][0]["id"],
                "pitch": "Serums are my thing",
                "price_minor": PRICE,
            },
            headers=d.c,
        ),
        201,
    )
    decided = ok(
        await http.post(
            f"/campaigns/{d.campaign_id}/applications/{app['id']}/decision",
            json={"action": "accept"},
            headers=d.b,
        )
    )
    delivery_id = str(decided["delivery_id"])
    await d.delivery_in(delivery_id, "awaiting_brief_acceptance")
    ok(await http.post(f"/deliveries/{delivery_id}/brief-acceptance", headers=d.c))
    draft = await draft_body(http, d.c)
    ok(await http.post(f"/deliveries/{delivery_id}/drafts", json=draft, headers=d.c))
    await d.delivery_in(delivery_id, "in_review")
    revised = ok(
        await http.post(
            f"/deliveries/{delivery_id}/review",
            json={"decision": "revise", "notes": "Closer on the texture"},
            headers=d.b,
        )
    )
    assert revised["handoffs"] == {}  # nothing was handed to a payout
    await d.delivery_in(delivery_id, "revising")
    # Approving work that is not in review is refused: it cannot start a payout either.
    problem(
        await http.post(
            f"/deliveries/{delivery_id}/review", json={"decision": "approve"}, headers=d.b
        ),
        409,
    )

    # No payout process, no payout row, nothing reserved: the fee is still in escrow.
    with pytest.raises(RPCError) as missing:
        await client.get_workflow_handle(payout_workflow_id(delivery_id)).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND
    assert ok(await http.get("/creator/payouts", headers=d.c)) == []
    assert delivery_id not in [p["id"] for p in ok(await http.get("/ops/payouts", headers=d.ops))]
    assert entry_kinds(engine, d.campaign_id) == ["funding"]
    assert escrow(engine, d.campaign_id) == BUDGET
    # There is no way to pay it by hand: ops endpoints do not know the payout.
    abandon = f"/ops/payouts/{delivery_id}/abandon"
    problem(await http.post(abandon, json={"reason": "x"}, headers=d.ops), 404, "no such payout")
    statement = ok(await http.get("/creator/statement", headers=d.c))
    assert statement == {"lines": [], "totals": {}}


async def test_a_payout_to_an_account_that_is_not_enabled_waits_and_transfers_nothing(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str
) -> None:
    d = await deal(http, engine)
    await fund(http, engine, d.b, d.campaign_id)
    account = ok(await http.post("/creator/payout-account", headers=d.c))
    ref = account["account_ref"]
    assert not account["payouts_enabled"]
    delivery_id = await d.approved_delivery()
    waiting = await d.payout_in("awaiting_onboarding")
    assert (waiting["id"], waiting["amount_minor"]) == (delivery_id, PRICE)

    # Stripe says the account still cannot be paid (requirements due); then an older
    # "enabled" state arrives late: neither lets money out.
    now = int(time.time())
    disabled = ps.event("account.updated", {"id": ref, "payouts_enabled": False}, created=now)
    stale = ps.event("account.updated", {"id": ref, "payouts_enabled": True}, created=now - 60)
    for event in (disabled, stale):
        assert (await webhook(http, engine, event))["duplicate"] is False
    again = ok(await http.post("/creator/payout-account", headers=d.c))
    assert not again["payouts_enabled"] and again["onboarding_url"]
    await asyncio.sleep(1)  # time for a (wrongly) woken payout to reach Stripe
    assert transfers_to(stripe_emulator, ref) == []
    [payout] = ok(await http.get("/creator/payouts", headers=d.c))
    assert (payout["status"], payout["transfer_ref"]) == ("awaiting_onboarding", None)
    # The fee is reserved (owed to the creator), not paid.
    assert entry_kinds(engine, d.campaign_id) == ["funding", "reserve"]
    assert escrow(engine, d.campaign_id) == BUDGET - PRICE
    with session_scope(engine) as session:
        assert money.balance(session, ledger.account(ledger.PAYABLE, delivery_id), "USD") == PRICE
        paid = ledger.account(ledger.CREATOR_PAID, d.creator.creator_id)
        assert money.balance(session, paid, "USD") == 0

    # Ops give it up: the reservation returns to escrow, still nothing transferred.
    path = f"/ops/payouts/{delivery_id}/abandon"
    ok(await http.post(path, json={"reason": "account never enabled"}, headers=d.ops), 202)
    failed = await d.payout_in("failed")
    assert failed["failure"] == "account never enabled"
    assert entry_kinds(engine, d.campaign_id) == ["funding", "reserve", "release"]
    assert escrow(engine, d.campaign_id) == BUDGET
    assert transfers_to(stripe_emulator, ref) == []
    assert_ledger_balanced(engine)
