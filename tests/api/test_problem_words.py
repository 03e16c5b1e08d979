"""The API's validation problems say what is wrong in words a person understands, naming the
field: "Enter a whole number.", not "Input should be a valid integer"."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import Engine

from api.problems import human_reason
from domain.enums import Role
from tests.support import login, make_tenant


async def test_a_422_names_the_field_and_says_what_to_do(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    brand = await login(http, make_tenant(engine))
    listed = await http.get("/deliveries", params={"limit": "ten"}, headers=brand)
    assert listed.status_code == 422
    assert listed.headers["content-type"] == "application/problem+json"
    assert listed.json()["errors"] == [{"field": "query.limit", "reason": "Enter a whole number."}]

    ops = await login(http, make_tenant(engine, Role.OPS))
    refused = await http.post(
        f"/moderation/{uuid.uuid4()}/review",
        json={"decision": "maybe", "reason": "", "extra": 1},
        headers=ops,
    )
    assert refused.status_code == 422
    reasons = {e["field"]: e["reason"] for e in refused.json()["errors"]}
    assert reasons == {
        "body.decision": "Choose 'pass' or 'block'.",
        "body.reason": "This can't be empty.",
        "body.extra": "This field isn't accepted here.",
    }


def test_every_common_validation_error_reads_as_a_sentence() -> None:
    cases = [
        ("int_parsing", None, "Enter a whole number."),
        ("string_too_short", {"min_length": 3}, "Use at least 3 characters."),
        ("string_too_long", {"max_length": 4000}, "Use at most 4,000 characters."),
        ("greater_than", {"gt": 0}, "Enter a number above 0."),
        ("less_than_equal", {"le": 10}, "Enter 10 or less."),
        ("missing", None, "This is required."),
        ("uuid_parsing", {"error": "x"}, "This isn't a valid ID."),
        ("timezone_aware", None, "Add the time zone, e.g. 2026-12-04T14:00:00Z."),
    ]
    for kind, ctx, words in cases:
        assert human_reason({"type": kind, "msg": "Input should be …", "ctx": ctx}) == words
    own = {"type": "value_error", "msg": "Value error, the end must be after the start"}
    assert human_reason(own) == "The end must be after the start."
