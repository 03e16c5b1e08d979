"""Self-serve sign-up over the JSON API: a brand and an agency get their workspace, first
brand and admin role; a creator signs up through the same route; an e-mail that has an
account gets the same answer, as fast, and its owner is told; bad input is refused by field
and creates nothing."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from nexus.settings import Settings
from tests.api.signup_support import (
    PASSWORD,
    brand_body,
    caught_mail,
    mail_client,
    mails_to,
    sign_up,
    unique_email,
    user_of,
)
from tests.api.test_auth import assert_problem, bearer, fields
from tests.support import count_rows, make_creator, make_tenant


@pytest.fixture
async def web(
    settings: Settings, engine: Engine, client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    async with mail_client(settings, engine, client) as http:
        yield http


async def token_of(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    signed_in = await http.post("/auth/login", json={"email": email, "password": password})
    assert signed_in.status_code == 200, signed_in.text
    return bearer(signed_in.json()["access_token"])


async def test_a_brand_signs_up_as_the_admin_of_its_new_workspace_and_brand(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    email = unique_email("bea")
    answer = await sign_up(web, brand_body(email))

    assert answer.status_code == 202, answer.text
    assert answer.json() == {"detail": answer.json()["detail"]}
    assert "Check your e-mail" in answer.json()["detail"]
    headers = await token_of(web, email)
    me = (await web.get("/auth/me", headers=headers)).json()
    assert me["role"] == "brand_admin"
    assert [(m["name"], m["kind"], m["role"]) for m in me["memberships"]] == [
        ("Glow Botanics", "brand", "brand_admin")
    ]
    brands = (await web.get("/brands", headers=headers)).json()
    assert [b["name"] for b in brands] == ["Glow Botanics"]
    # Signed up, not verified: the e-mail with the link is on its way, the inbox says so.
    assert user_of(engine, email).email_verified_at is None
    mail = await caught_mail(engine, email, "verify your e-mail address")
    assert "/portal/verify?token=" in mail.text
    assert "Hi Bea Brand" in mail.text
    inbox = (await web.get("/notifications", headers=headers)).json()
    assert [n["title"] for n in inbox] == ["Welcome to NEXUS"]
    assert "token" not in inbox[0]["link"]  # the link is only in the mailbox


async def test_an_agency_signs_up_with_its_own_name_and_a_first_client_brand(
    web: httpx.AsyncClient,
) -> None:
    email = unique_email("agency")
    body = brand_body(
        email, kind="agency", workspace_name="Northwind Creative", brand_name="Acme Tea"
    )
    assert (await sign_up(web, body)).status_code == 202

    headers = await token_of(web, email)
    me = (await web.get("/auth/me", headers=headers)).json()
    assert [(m["name"], m["kind"], m["role"]) for m in me["memberships"]] == [
        ("Northwind Creative", "agency", "brand_admin")
    ]
    assert [b["name"] for b in (await web.get("/brands", headers=headers)).json()] == ["Acme Tea"]


async def test_a_creator_signs_up_through_the_same_route(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    email = unique_email("cara")
    body = {"kind": "creator", "email": email, "name": "Cara Creates", "password": PASSWORD,
            "handle": "cara.creates", "country": "GB", "niches": ["Beauty", "skincare"],
            "platforms": ["tiktok"]}  # fmt: skip
    assert (await sign_up(web, body)).status_code == 202

    headers = await token_of(web, email)
    assert (await web.get("/auth/me", headers=headers)).json()["role"] == "creator"
    profile = (await web.get("/creator/profile", headers=headers)).json()
    assert (profile["handle"], profile["country"], profile["niches"]) == (
        "cara.creates", "GB", ["beauty", "skincare"],
    )  # fmt: skip
    await caught_mail(engine, email, "verify your e-mail address")

    # Handles are public: a taken one is refused by name, and nothing is made.
    users = count_rows(engine, "users")
    again = await sign_up(web, body | {"email": unique_email("copy")})
    problem = assert_problem(again, 409, "handle-taken")
    assert fields(problem) == ["body.handle"]
    assert count_rows(engine, "users") == users
    # The longest name a person may give fits their workspace's name too (it was a 500).
    longest = body | {"email": unique_email("long"), "name": "N" * 200, "handle": "n.long"}
    assert (await sign_up(web, longest)).status_code == 202


async def test_an_email_with_an_account_gets_the_same_answer_and_its_owner_is_told(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    known = make_tenant(engine)
    new = await sign_up(web, brand_body(unique_email("fresh")))
    users = count_rows(engine, "users")
    workspaces = count_rows(engine, "workspaces")

    existing = await sign_up(web, brand_body(known.email.upper(), password="another passphrase!"))

    assert existing.status_code == new.status_code == 202
    assert existing.json() == new.json()
    assert existing.headers["content-type"] == new.headers["content-type"]
    assert (count_rows(engine, "users"), count_rows(engine, "workspaces")) == (users, workspaces)
    # The owner hears of it, by e-mail and in the inbox; their password is as it was.
    await caught_mail(engine, known.email, "Someone tried to sign up with your e-mail")
    assert "verify" not in " ".join(mails_to(engine, known.email)).lower()
    refused = await web.post(
        "/auth/login", json={"email": known.email, "password": "another passphrase!"}
    )
    assert refused.status_code == 401
    # A creator's sign-up with a known e-mail answers alike too.
    creator = make_creator(engine)
    body = {"kind": "creator", "email": creator.tenant.email, "name": "Copy", "password": PASSWORD,
            "handle": "copy.cat", "country": "US"}  # fmt: skip
    copied = await sign_up(web, body)
    assert (copied.status_code, copied.json()) == (202, new.json())


async def test_a_known_email_takes_as_long_to_answer_as_a_new_one(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    known = make_tenant(engine)

    async def fastest(email: str) -> float:
        started = time.perf_counter()
        response = await sign_up(web, brand_body(email))
        assert response.status_code == 202, response.text
        return time.perf_counter() - started

    new = min([await fastest(unique_email("timing")) for _ in range(2)])
    existing = min([await fastest(known.email) for _ in range(2)])

    # Both hash the password (tens of milliseconds); a lookup alone would take a few.
    assert existing > 0.5 * new, (existing, new)
    assert new > 0.3 * existing, (existing, new)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "short pass"}, "body.brand.password"),
        ({"email": "not-an-email"}, "body.brand.email"),
        ({"brand_name": "   "}, "body.brand.brand_name"),
        ({"name": "Bea\x00"}, "body.brand.name"),
        ({"kind": "ops"}, "body"),
        ({"workspace_name": "x" * 201}, "body.brand.workspace_name"),
    ],
)
async def test_bad_sign_up_input_is_refused_by_field_and_creates_nothing(
    web: httpx.AsyncClient, engine: Engine, change: dict[str, object], field: str
) -> None:
    users = count_rows(engine, "users")
    response = await sign_up(web, brand_body(unique_email("bad")) | change)

    problem = assert_problem(response, 422, "validation-failed")
    assert any(f.startswith(field) for f in fields(problem)), problem
    assert count_rows(engine, "users") == users


async def test_a_common_password_or_the_email_itself_is_refused_in_words(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    known = make_tenant(engine)
    users = count_rows(engine, "users")

    for email in (unique_email("weak"), known.email):
        common = await sign_up(web, brand_body(email, password="Sunshine2024!"))
        own = await sign_up(web, brand_body(email, password=email))

        # The same refusal whether or not the e-mail has an account.
        for refused, words in ((common, "commonly used password"), (own, "e-mail address")):
            problem = assert_problem(refused, 422, "validation-failed")
            assert [(e["field"], words in e["reason"]) for e in problem["errors"]] == [
                ("body.brand.password", True)
            ], problem
    assert count_rows(engine, "users") == users
