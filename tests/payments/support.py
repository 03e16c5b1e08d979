"""Stripe-side actions a test plays: the brand's browser tokenizing a card, the creator
finishing onboarding, Stripe signing a webhook."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import stripe

from nexus.settings import PaymentSettings

TEST_KEY = "sk_test_nexus_emulator"
WEBHOOK_SECRET = "whsec_nexus_test_secret"
VISA = "4242424242424242"
THREE_D_SECURE = "4000002500003155"


def payment_settings(base_url: str) -> PaymentSettings:
    """Stripe as the payment provider, pointed at the emulator at `base_url`."""
    return PaymentSettings(
        provider="stripe",
        stripe_api_key=TEST_KEY,
        stripe_api_base=base_url,
        stripe_webhook_secret=WEBHOOK_SECRET,
    )


def sdk(base_url: str) -> stripe.StripeClient:
    return stripe.StripeClient(TEST_KEY, base_addresses={"api": base_url})


def card(base_url: str, number: str = VISA) -> str:
    """What Stripe.js hands the client: a PaymentMethod id for the card."""
    method = sdk(base_url).v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"},
        }
    )
    return method.id


def pass_3d_secure(base_url: str, client_secret: str) -> str:
    """What Stripe.js does in the brand's browser once the card holder passes 3-D Secure;
    returns the PaymentIntent id."""
    intent_id = client_secret.split("_secret_")[0]
    response = httpx.post(
        f"{base_url}/v1/payment_intents/{intent_id}/_authenticate",
        data={"client_secret": client_secret, "success": "true"},
        headers={"Authorization": f"Bearer {TEST_KEY}"},
    )
    response.raise_for_status()
    assert response.json()["status"] == "succeeded"
    return intent_id


def finish_onboarding(base_url: str, account_ref: str, *, transfers: bool = True) -> None:
    """The creator completes onboarding; with `transfers=False` Stripe still reports payouts
    enabled but keeps the transfers capability inactive (a restricted account)."""
    response = httpx.post(
        f"{base_url}/_test/accounts/{account_ref}/enable",
        params={"transfers": "active" if transfers else "inactive"},
        headers={"Authorization": f"Bearer {TEST_KEY}"},
    )
    response.raise_for_status()


def transfers(base_url: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{base_url}/v1/transfers", headers={"Authorization": f"Bearer {TEST_KEY}"}
    )
    response.raise_for_status()
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def signed(event: object, secret: str = WEBHOOK_SECRET, at: int | None = None) -> tuple[bytes, str]:
    """The body and `Stripe-Signature` header Stripe would send (or whatever JSON is given,
    signed like it), signed with stripe-python's own signature computation."""
    payload = json.dumps(event)
    timestamp = int(time.time()) if at is None else at
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload}", secret)
    return payload.encode(), f"t={timestamp},v1={signature}"


def event(
    type_: str, obj: dict[str, Any], *, event_id: str | None = None, created: int | None = None
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{time.monotonic_ns()}",
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": created or int(time.time()),
        "type": type_,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }
