"""The Stripe adapter through the real SDK against the local emulator."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from integrations.payments import (
    BadSignature,
    ChargeRequest,
    MalformedEvent,
    RefundRequest,
    Refused,
    TransferRequest,
)
from integrations.payments.stripe_connect import StripePayments
from tests.payments import support as ps


@pytest.fixture
def stripe_payments(stripe_emulator: str) -> StripePayments:
    return StripePayments(ps.payment_settings(stripe_emulator))


def charge(payments: StripePayments, method: str | None, key: str | None = None) -> ChargeRequest:
    return ChargeRequest(
        key=key or str(uuid.uuid4()),
        amount_minor=550_000,
        currency="USD",
        payment_method=method,
    )


def test_a_card_payment_succeeds(stripe_payments: StripePayments, stripe_emulator: str) -> None:
    result = stripe_payments.charge(charge(stripe_payments, ps.card(stripe_emulator)))
    assert result.status == "succeeded"
    assert result.provider_ref.startswith("pi_")
    assert result.client_secret is None


def test_3d_secure_surfaces_requires_action_with_a_client_secret(
    stripe_payments: StripePayments, stripe_emulator: str
) -> None:
    result = stripe_payments.charge(
        charge(stripe_payments, ps.card(stripe_emulator, ps.THREE_D_SECURE))
    )
    assert result.status == "requires_action"
    assert result.client_secret and result.client_secret.startswith(result.provider_ref)


def test_an_onboarded_account_is_paid_once_per_idempotency_key(
    stripe_payments: StripePayments, stripe_emulator: str
) -> None:
    creator = uuid.uuid4()
    account = stripe_payments.open_account(f"acct-{creator}", creator, "c@example.com", "US")
    again = stripe_payments.open_account(f"acct-{creator}", creator, "c@example.com", "US")
    assert account == again and not account.payouts_enabled
    link = stripe_payments.onboarding_link(account.account_ref)
    assert link and link.startswith("https://connect.stripe.com/")

    request = TransferRequest(
        key=f"payout-{creator}:transfer", account_ref=account.account_ref, amount_minor=90_000,
        currency="USD", reference="payout-x",
    )  # fmt: skip
    with pytest.raises(Refused, match="capabilities"):
        stripe_payments.transfer(request)  # not onboarded yet: refused, nothing paid

    ps.finish_onboarding(stripe_emulator, account.account_ref)
    assert stripe_payments.account(account.account_ref).payouts_enabled
    first = stripe_payments.transfer(request)
    second = stripe_payments.transfer(request)  # a retry after a crash
    assert first == second and first.status == "paid"
    paid = [t for t in ps.transfers(stripe_emulator) if t["destination"] == account.account_ref]
    assert [(t["id"], t["amount"]) for t in paid] == [(first.transfer_ref, 90_000)]
    assert stripe_payments.transfer_status(first.transfer_ref) == first
    with pytest.raises(Refused):
        stripe_payments.transfer_status("tr_unknown")


def test_a_refund_against_a_card_payment(
    stripe_payments: StripePayments, stripe_emulator: str
) -> None:
    paid = stripe_payments.charge(charge(stripe_payments, ps.card(stripe_emulator)))
    refund = stripe_payments.refund(
        RefundRequest(
            key="refund-1", charge_ref=paid.provider_ref, payee="brand", amount_minor=100_000,
            currency="USD", reference="campaign-x",
        )
    )  # fmt: skip
    assert refund.status == "refunded" and refund.refund_ref


def test_webhooks_verify_with_stripes_own_signature(stripe_payments: StripePayments) -> None:
    body, header = ps.signed(ps.event("account.updated", {"id": "acct_1", "payouts_enabled": True}))
    parsed = stripe_payments.parse_webhook(body, header)
    assert (parsed.type, parsed.object_id) == ("account.updated", "acct_1")
    with pytest.raises(BadSignature):
        stripe_payments.parse_webhook(body.replace(b"true", b"false"), header)
    with pytest.raises(BadSignature):
        stripe_payments.parse_webhook(body, ps.signed({}, secret="whsec_other")[1])
    stale_body, stale = ps.signed(ps.event("account.updated", {"id": "a"}), at=1_000_000_000)
    with pytest.raises(BadSignature, match="tolerance"):
        stripe_payments.parse_webhook(stale_body, stale)


def test_a_payment_is_read_back_as_the_provider_has_it(
    stripe_payments: StripePayments, stripe_emulator: str
) -> None:
    request = ChargeRequest(
        key=str(uuid.uuid4()), amount_minor=550_000, currency="USD",
        payment_method=ps.card(stripe_emulator, ps.THREE_D_SECURE), metadata={"funding_id": "f-1"},
    )  # fmt: skip
    waiting = stripe_payments.charge(request)
    read = stripe_payments.payment(waiting.provider_ref)
    assert (read.status, read.amount_minor, read.currency) == ("requires_action", 550_000, "USD")
    assert read.metadata == {"funding_id": "f-1"}
    assert waiting.client_secret is not None
    ps.pass_3d_secure(stripe_emulator, waiting.client_secret)
    assert stripe_payments.payment(waiting.provider_ref).status == "succeeded"
    with pytest.raises(Refused):
        stripe_payments.payment("pi_nobody")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.pop("id"), "body.id"),
        (lambda e: e.update(id="evt_" + "x" * 296), "body.id"),
        (lambda e: e.update(id=12), "body.id"),
        (lambda e: e.update(id="evt 1; drop"), "body.id"),
        (lambda e: e.pop("created"), "body.created"),
        (lambda e: e.update(created="1733333333"), "body.created"),
        (lambda e: e.update(created=True), "body.created"),
        (lambda e: e.update(created=10**30), "body.created"),
        (lambda e: e.update(created=-5), "body.created"),
        (lambda e: e.pop("type"), "body.type"),
        (lambda e: e.update(type=["account.updated"]), "body.type"),
        (lambda e: e.update(data=[]), "body.data.object"),
        (lambda e: e["data"].update(object="acct_1"), "body.data.object"),
        (lambda e: e["data"]["object"].pop("id"), "body.data.object.id"),
        (lambda e: e["data"]["object"].update(id="acct_" + "1" * 300), "body.data.object.id"),
    ],
)
def test_a_signed_event_of_an_odd_shape_names_the_field(
    stripe_payments: StripePayments, change: Callable[[dict[str, Any]], object], field: str
) -> None:
    event = ps.event("account.updated", {"id": "acct_1"})
    change(event)
    with pytest.raises(MalformedEvent) as excinfo:
        stripe_payments.parse_webhook(*ps.signed(event))
    assert excinfo.value.field == field


def test_a_signed_body_that_is_not_an_event_object_is_malformed(
    stripe_payments: StripePayments,
) -> None:
    for body in ([1, 2], "just text", None):
        with pytest.raises(MalformedEvent, match="body"):
            stripe_payments.parse_webhook(*ps.signed(body))
