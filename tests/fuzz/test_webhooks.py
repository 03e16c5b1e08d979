"""Fuzzing the Stripe webhook path with hypothesis: the provider's parser (signature, then the
event's shape) and the HTTP endpoint through the app. A correctly signed body of any shape
is an event or a named malformation; anything else is a bad signature; over HTTP every
answer is 2xx or a 4xx problem+json, never a server error."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from datetime import UTC
from typing import Any

import httpx
import hypothesis
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st
from temporalio.worker import Worker

from integrations.payments import BadSignature, MalformedEvent, WebhookEvent
from integrations.payments.stripe_connect import StripePayments
from nexus.settings import Settings
from tests.payments import support as ps

FUZZ = hypothesis.settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
PARSER = StripePayments(ps.payment_settings("http://127.0.0.1:9"))  # parsing calls nothing

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
_ids = st.text(max_size=300) | st.from_regex(r"\A[A-Za-z0-9_-]{1,300}\Z") | json_values
_types = st.sampled_from(
    ["payment_intent.succeeded", "payment_intent.payment_failed", "account.updated",
     "charge.refunded", "transfer.reversed"]
) | st.text(max_size=120) | json_values  # fmt: skip
_created = (
    st.integers()
    | st.floats()
    | st.sampled_from([None, True, "1700000000"])
    | st.just(int(time.time()))
)
_objects = st.fixed_dictionaries(
    {},
    optional={
        "id": _ids,
        "object": st.sampled_from(["payment_intent", "account", "charge"]),
        "amount": st.integers(),
        "amount_received": st.integers(),
        "currency": st.text(max_size=5),
        "status": st.text(max_size=20),
        "metadata": st.dictionaries(st.text(max_size=20), json_values, max_size=3),
    },
)
# Stripe-shaped events with every field fuzzed or left out, and any JSON at all.
events = (
    st.fixed_dictionaries(
        {},
        optional={
            "id": _ids,
            "type": _types,
            "created": _created,
            "data": st.fixed_dictionaries({}, optional={"object": _objects | json_values})
            | json_values,
            "object": st.just("event"),
        },
    )
    | json_values
)
# Well-formed events, with fuzzed objects: the ones the platform stores and hands on.
good_events = st.builds(
    lambda type_, event_id, obj, object_id: ps.event(
        type_, {**obj, "id": object_id}, event_id=event_id
    ),
    st.sampled_from(["payment_intent.succeeded", "payment_intent.payment_failed", "x.y"]),
    st.from_regex(r"\Aevt_[A-Za-z0-9]{1,40}\Z"),
    _objects,
    st.from_regex(r"\A(pi|acct)_[A-Za-z0-9_-]{1,40}\Z"),
)
# A body that is no JSON, or nested past any parser's recursion limit.
raw_bodies = st.binary(max_size=300) | st.integers(1, 60_000).map(lambda n: b"[" * n)


def _sign(payload: bytes, secret: str = ps.WEBHOOK_SECRET, at: int | None = None) -> str:
    """Stripe's signature: HMAC-SHA256 of "<timestamp>.<body>", over any bytes at all."""
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _parsed(payload: bytes, signature: str | None) -> WebhookEvent | MalformedEvent | BadSignature:
    try:
        return PARSER.parse_webhook(payload, signature)
    except (MalformedEvent, BadSignature) as refused:
        return refused


@FUZZ
@example(event={"id": "evt_1", "type": "x", "created": 1, "data": {"object": {"id": "a" * 300}}})
@example(event={"type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1"}}})
@given(event=events)
def test_a_signed_event_of_any_shape_is_an_event_or_a_named_malformation(event: Any) -> None:
    payload = json.dumps(event).encode()
    parsed = _parsed(payload, _sign(payload))
    if isinstance(parsed, MalformedEvent):
        assert parsed.field.startswith("body") and parsed.reason
        return
    assert isinstance(parsed, WebhookEvent), parsed
    assert 1 <= len(parsed.id) <= 255 and 1 <= len(parsed.object_id) <= 200
    assert parsed.occurred_at.tzinfo is UTC
    assert parsed.id == event["id"] and parsed.object_id == event["data"]["object"]["id"]


@FUZZ
@example(payload=b"[" * 50_000)
@example(payload=b"\xff\xfe")
@given(payload=raw_bodies)
def test_a_signed_body_that_is_no_event_is_a_malformation(payload: bytes) -> None:
    parsed = _parsed(payload, _sign(payload))
    assert isinstance(parsed, (MalformedEvent, BadSignature, WebhookEvent)), parsed


signatures = (
    st.none()
    | st.text(max_size=200)
    | st.builds(
        lambda secret, age: (secret, age),
        st.sampled_from(["whsec_other", ps.WEBHOOK_SECRET]),
        st.integers(min_value=301, max_value=10**6),
    )
)


@FUZZ
@example(payload=b"{}", header="t=abc,v1=def")
@example(payload=b"{}", header="v1")
@example(payload=b"{}", header="t=,v1=")
@given(payload=raw_bodies | events.map(lambda e: json.dumps(e).encode()), header=signatures)
def test_a_body_without_its_signature_is_refused(payload: bytes, header: Any) -> None:
    if isinstance(header, tuple):
        secret, age = header
        # Signed with another secret, or by the right one too long ago (a replay).
        if secret == ps.WEBHOOK_SECRET:
            header = _sign(payload, secret, at=int(time.time()) - age)
        else:
            header = _sign(payload, secret)
    assert isinstance(_parsed(payload, header), BadSignature)


@pytest.fixture
def settings(settings: Settings, stripe_emulator: str) -> Settings:
    """The test's settings with Stripe (the local emulator) as the payment provider."""
    return settings.model_copy(update={"payments": ps.payment_settings(stripe_emulator)})


async def test_any_signed_body_gets_2xx_or_a_problem(
    http: httpx.AsyncClient, workers: list[Worker]
) -> None:
    loop = asyncio.get_running_loop()
    answers: dict[int, int] = {}

    def post(payload: bytes) -> httpx.Response:
        request = http.post(
            "/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": _sign(payload), "Content-Type": "application/json"},
        )
        return asyncio.run_coroutine_threadsafe(request, loop).result(timeout=60)

    @hypothesis.settings(FUZZ, max_examples=100)
    @example(body=b"[" * 50_000)
    @example(body=json.dumps({"id": "evt_x", "type": "payment_intent.succeeded"}).encode())
    @given(body=raw_bodies | (good_events | events).map(lambda e: json.dumps(e).encode()))
    def check(body: bytes) -> None:
        answer = post(body)
        answers[answer.status_code] = answers.get(answer.status_code, 0) + 1
        assert answer.status_code < 500, answer.text
        if answer.status_code >= 400:
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["status"] == answer.status_code

    await asyncio.to_thread(check)
    assert set(answers) & {200, 201, 202}, answers  # some bodies were events it took
