"""The Stripe adapter, through the official SDK: PaymentIntents for card funding (3-D Secure
surfaces as `requires_action`), Connect Express accounts and transfers for creators, refunds,
and signed webhooks. Every write carries the caller's idempotency key."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import stripe

from integrations.payments import (
    BadSignature,
    Charge,
    ChargeRequest,
    MalformedEvent,
    Payment,
    PaymentStatus,
    PayoutAccount,
    Refund,
    RefundRequest,
    Refused,
    Transfer,
    TransferRequest,
    Unavailable,
    WebhookEvent,
)
from nexus.settings import PaymentSettings

_CHARGE_STATUS = {"succeeded": "succeeded", "requires_action": "requires_action"}
# A PaymentIntent's status as the platform reads it; `requires_payment_method` after a
# confirmation is a failed attempt (Stripe's lifecycle).
_PAYMENT_STATUS: dict[str, PaymentStatus] = {
    "succeeded": "succeeded",
    "requires_action": "requires_action",
    "requires_confirmation": "requires_action",
    "requires_capture": "processing",
    "processing": "processing",
    "requires_payment_method": "failed",
    "canceled": "canceled",
}
# What the platform stores of an event (provider_events.id, .type; fundings.provider_ref).
_EVENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_EVENT_TYPE = re.compile(r"^[a-z0-9_.]{1,100}$")
_OBJECT_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
# Stripe's `created` is Unix seconds; later than 2100 is not an event time.
_LATEST = 4_102_444_800


def _error(exc: stripe.StripeError) -> Exception:
    """Client errors (4xx) are refusals; the rest may pass if tried again."""
    status = exc.http_status or 0
    refusal = isinstance(exc, stripe.CardError | stripe.InvalidRequestError) or status >= 400
    if refusal and status < 500 and status not in (409, 429):
        return Refused(exc.user_message or str(exc))
    return Unavailable(str(exc))


class StripePayments:
    name = "stripe"

    def __init__(self, settings: PaymentSettings) -> None:
        addresses: dict[str, str] = {}
        if settings.stripe_api_base:
            addresses = {"api": settings.stripe_api_base, "connect": settings.stripe_api_base}
        self._client = stripe.StripeClient(
            settings.stripe_api_key.get_secret_value(),
            base_addresses=addresses,  # type: ignore[arg-type]
            max_network_retries=2,
        )
        self._webhook_secret = settings.stripe_webhook_secret.get_secret_value()
        self._tolerance = settings.webhook_tolerance_s
        self._return_url = settings.onboarding_return_url

    def charge(self, request: ChargeRequest) -> Charge:
        params: dict[str, Any] = {
            "amount": request.amount_minor,
            "currency": request.currency.lower(),
            "metadata": request.metadata,
            "payment_method_types": ["card"],
        }
        if request.payment_method:
            params |= {"payment_method": request.payment_method, "confirm": True}
        try:
            intent = self._client.v1.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": request.key},
            )
        except stripe.CardError as exc:
            # A declined card is an outcome for the brand, not a failure of the platform.
            declined = exc.error.payment_intent if exc.error else None
            intent_id = declined.id if isinstance(declined, stripe.PaymentIntent) else request.key
            return Charge("failed", intent_id, failure=exc.user_message or "")
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        status = _CHARGE_STATUS.get(intent.status, "processing")
        if intent.status == "requires_payment_method" and request.payment_method:
            status = "failed"
        error = intent.last_payment_error
        return Charge(
            status,  # type: ignore[arg-type]
            intent.id,
            client_secret=intent.client_secret if intent.status != "succeeded" else None,
            failure=(error.message or "") if error else "",
        )

    def payment(self, provider_ref: str) -> Payment:
        try:
            intent = self._client.v1.payment_intents.retrieve(provider_ref).to_dict()
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        status = _PAYMENT_STATUS.get(str(intent.get("status")), "processing")
        # The emulator's 2017-era shape has no `amount_received`; Stripe's has.
        received = intent.get("amount_received")
        amount = received if status == "succeeded" and received is not None else intent["amount"]
        error = intent.get("last_payment_error") or {}
        return Payment(
            provider_ref=str(intent["id"]),
            status=status,
            amount_minor=int(amount),
            currency=str(intent["currency"]).upper(),
            metadata={str(k): str(v) for k, v in (intent.get("metadata") or {}).items()},
            failure=str(error.get("message") or "")[:500],
        )

    def open_account(
        self, key: str, creator_id: uuid.UUID, email: str, country: str
    ) -> PayoutAccount:
        try:
            account = self._client.v1.accounts.create(
                params={
                    "type": "express",
                    "country": country,
                    "email": email,
                    "capabilities": {"transfers": {"requested": True}},
                    "metadata": {"creator_id": str(creator_id)},
                },
                options={"idempotency_key": key},
            )
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        return PayoutAccount(account.id, bool(account.payouts_enabled))

    def onboarding_link(self, account_ref: str) -> str | None:
        try:
            link = self._client.v1.account_links.create(
                params={
                    "account": account_ref,
                    "refresh_url": self._return_url,
                    "return_url": self._return_url,
                    "type": "account_onboarding",
                }
            )
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        return link.url

    def account(self, account_ref: str) -> PayoutAccount:
        try:
            account = self._client.v1.accounts.retrieve(account_ref)
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        return PayoutAccount(account.id, bool(account.payouts_enabled))

    def transfer(self, request: TransferRequest) -> Transfer:
        try:
            transfer = self._client.v1.transfers.create(
                params={
                    "amount": request.amount_minor,
                    "currency": request.currency.lower(),
                    "destination": request.account_ref,
                    "transfer_group": request.reference,
                    "metadata": {"reference": request.reference},
                },
                options={"idempotency_key": request.key},
            )
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        return Transfer("paid", transfer.id)

    def transfer_status(self, transfer_ref: str) -> Transfer:
        # A Connect transfer is in the account's balance once created: none is ever pending.
        try:
            transfer = self._client.v1.transfers.retrieve(transfer_ref)
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        return Transfer("paid", transfer.id)

    def refund(self, request: RefundRequest) -> Refund:
        try:
            refund = self._client.v1.refunds.create(
                params={
                    "payment_intent": request.charge_ref,
                    "amount": request.amount_minor,
                    "metadata": {"reference": request.reference},
                },
                options={"idempotency_key": request.key},
            )
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        return Refund("refunded" if refund.status == "succeeded" else "pending", refund.id)

    def parse_webhook(self, payload: bytes, signature: str | None) -> WebhookEvent:
        try:
            text = payload.decode("utf-8")
            stripe.WebhookSignature.verify_header(
                text, signature or "", self._webhook_secret, self._tolerance
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
            raise BadSignature(str(exc) or "the signature does not match") from exc
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:  # nested past the parser's depth
            raise MalformedEvent("body", "not JSON") from exc
        return _event(data)


def _event(data: Any) -> WebhookEvent:
    """The parts of a signed event the platform stores, checked field by field."""
    if not isinstance(data, dict):
        raise MalformedEvent("body", "must be a JSON object")
    event_id = _text(data.get("id"), "body.id", _EVENT_ID, "at most 255 letters, digits, _ or -")
    type_ = _text(data.get("type"), "body.type", _EVENT_TYPE, "at most 100 of a-z 0-9 _ .")
    created = data.get("created")
    if type(created) is not int:
        raise MalformedEvent("body.created", "required, Unix seconds as an integer")
    if not 0 < created <= _LATEST:
        raise MalformedEvent("body.created", "not a plausible event time")
    obj = data.get("data", {}).get("object") if isinstance(data.get("data"), dict) else None
    if not isinstance(obj, dict):
        raise MalformedEvent("body.data.object", "required, an object")
    object_id = _text(
        obj.get("id"), "body.data.object.id", _OBJECT_ID, "at most 200 letters, digits, _ or -"
    )
    return WebhookEvent(
        id=event_id,
        type=type_,
        occurred_at=datetime.fromtimestamp(created, UTC),
        object_id=object_id,
    )


def _text(value: object, field: str, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise MalformedEvent(field, f"required, a string of {what}")
    return value
