"""Wrong passwords in a row pause sign-in for an account, for longer each time, then lock it;
the answer never tells whether the e-mail has an account; a password reset lets the owner in.

The attempts come from many client addresses (a spread-out guesser, which the per-address rate
limits do not stop), with the platform's own rate limits on."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text
from temporalio.client import Client

from api.app import close_app, create_app
from models import workspaces
from models.db import session_scope
from nexus.settings import RateLimitSettings, Settings
from tests.api.test_inbox import PUBLIC_URL, running_catcher, with_mail
from tests.api.test_passwords import NEW_PASSWORD, reset_link_for
from tests.support import PASSWORD, Tenant, free_port, make_tenant


class Guesser:
    """Calls the app from a new client address each time (a spread-out guesser)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.calls = 0

    async def post(self, path: str, body: dict[str, str]) -> httpx.Response:
        self.calls += 1
        n = self.calls
        address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        transport = httpx.ASGITransport(
            app=self.app, raise_app_exceptions=False, client=(address, 1)
        )
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
            return await http.post(path, json=body)

    async def __call__(self, email: str, password: str) -> httpx.Response:
        return await self.post("/auth/login", {"email": email, "password": password})


@pytest.fixture
async def attempt(settings: Settings, engine: Engine, client: Client) -> AsyncIterator[Guesser]:
    """Sign in through the API with the platform's own rate limits and e-mail through the
    real mail catcher (for the reset link)."""
    port = free_port()
    limits = RateLimitSettings(
        storage_url=settings.rate_limits.storage_url, key_prefix=uuid.uuid4().hex
    )
    async with running_catcher(settings, port):
        app = create_app(
            with_mail(settings, port).model_copy(update={"rate_limits": limits}),
            engine=engine,
            temporal=client,
        )
        yield Guesser(app)
        await close_app(app)


def standing(engine: Engine, tenant: Tenant) -> tuple[int, datetime | None]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT failed_sign_ins, locked_until FROM users WHERE id = :id"),
            {"id": tenant.user_id},
        ).one()
    return int(row[0]), row[1]


def let_the_pause_pass(engine: Engine, tenant: Tenant) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE users SET locked_until = now() - interval '1 second' WHERE id = :id"),
            {"id": tenant.user_id},
        )


def refusal(response: httpx.Response) -> tuple[int, str, dict[str, Any]]:
    return response.status_code, response.headers["content-type"], response.json()


async def test_a_hundred_wrong_passwords_are_mostly_refused_unchecked_until_a_reset(
    attempt: Guesser, engine: Engine
) -> None:
    owner = make_tenant(engine)
    wrong = refusal(await attempt("nobody@example.com", "not the password"))

    answers = []
    started = time.monotonic()
    for n in range(100):
        answers.append(refusal(await attempt(owner.email, f"guess number {n}")))
    elapsed = time.monotonic() - started
    checked, paused_until = standing(engine, owner)
    assert paused_until is not None
    assert elapsed < 60, f"the loop outlasted the first pause ({elapsed:.0f} s)"
    print(
        f"\n100 wrong passwords in {elapsed:.1f} s: {checked} checked, "
        f"{100 - checked} refused unchecked; sign-in paused until {paused_until:%H:%M:%S}"
    )

    # Every answer is the one an unknown e-mail gets: nothing says the account exists.
    assert answers == [wrong] * 100
    assert wrong[0] == 401 and wrong[2]["detail"] == "e-mail or password is wrong"
    # Five were checked; the fifth paused sign-in for a minute, and the other 95 were not.
    assert checked == workspaces.SIGN_IN_FREE_FAILURES == 5
    assert timedelta(0) < paused_until - datetime.now(UTC) <= timedelta(seconds=60)
    # While paused, even the owner's right password is refused, in the same words.
    assert refusal(await attempt(owner.email, PASSWORD)) == wrong

    # Each pause that passes allows one more guess, and the pause doubles; the tenth wrong
    # password in a row locks the account for an hour.
    pauses = []
    for _ in range(5):
        let_the_pause_pass(engine, owner)
        assert refusal(await attempt(owner.email, "still guessing")) == wrong
        assert refusal(await attempt(owner.email, "and again")) == wrong  # refused unchecked
        failures, until = standing(engine, owner)
        assert until is not None
        pauses.append((failures, round((until - datetime.now(UTC)).total_seconds() / 60)))
    # Minutes: 2, 4, 8 and 16, then an hour.
    assert pauses == [(6, 2), (7, 4), (8, 8), (9, 16), (10, 60)]
    assert refusal(await attempt(owner.email, PASSWORD)) == wrong

    # The owner resets the password by the link e-mailed to them, and gets in at once.
    assert (await attempt.post("/auth/password/forgot", {"email": owner.email})).status_code == 202
    token = (await reset_link_for(engine, owner.email)).rsplit("/", 1)[1]
    reset = await attempt.post("/auth/password/reset", {"token": token, "password": NEW_PASSWORD})
    assert reset.status_code == 204, reset.text
    assert standing(engine, owner) == (0, None)
    back = await attempt(owner.email, NEW_PASSWORD)
    assert back.status_code == 200, back.text
    assert back.json()["access_token"]


def test_clearing_the_lock_lifts_it_and_forgets_the_wrong_passwords(engine: Engine) -> None:
    owner = make_tenant(engine)
    start = datetime.now(UTC)
    with session_scope(engine) as session:
        # Ten wrong passwords, each after the pause the one before it earned.
        for n in range(workspaces.SIGN_IN_LOCK_AFTER):
            assert workspaces.claim_sign_in(session, owner.user_id, start + timedelta(hours=2 * n))
        later = start + timedelta(hours=18, minutes=30)
        assert not workspaces.claim_sign_in(session, owner.user_id, later)
    failures, until = standing(engine, owner)
    assert failures == 10 and until == start + timedelta(hours=19)

    with session_scope(engine) as session:
        workspaces.clear_sign_in_lock(session, owner.user_id)
    assert standing(engine, owner) == (0, None)


async def test_a_right_password_forgets_the_wrong_ones_before_it(
    attempt: Guesser, engine: Engine
) -> None:
    owner = make_tenant(engine)
    for _ in range(4):
        assert (await attempt(owner.email, "typo")).status_code == 401
    assert standing(engine, owner) == (4, None)

    assert (await attempt(owner.email, PASSWORD)).status_code == 200
    assert standing(engine, owner) == (0, None)
    for _ in range(4):
        assert (await attempt(owner.email, "typo")).status_code == 401
    assert (await attempt(owner.email, PASSWORD)).status_code == 200


async def test_guesses_sent_at_once_are_each_counted(attempt: Guesser, engine: Engine) -> None:
    owner = make_tenant(engine)

    answers = await asyncio.gather(*(attempt(owner.email, f"guess {n}") for n in range(12)))

    assert [a.status_code for a in answers] == [401] * 12
    # Counted before their passwords were checked: no more than five got checked.
    failures, until = standing(engine, owner)
    assert failures == 5 and until is not None


async def test_a_locked_account_takes_as_long_to_refuse_as_an_unknown_email(
    attempt: Guesser, engine: Engine
) -> None:
    owner = make_tenant(engine)
    for _ in range(5):
        await attempt(owner.email, "wrong")
    assert standing(engine, owner)[1] is not None

    async def fastest(email: str) -> float:
        times = []
        for _ in range(4):
            started = time.perf_counter()
            assert (await attempt(email, PASSWORD)).status_code == 401
            times.append(time.perf_counter() - started)
        return min(times)

    locked, unknown = await fastest(owner.email), await fastest("nobody-" + owner.email)
    # Both verify a password hash (tens of milliseconds) before answering.
    assert unknown > 0.5 * locked and locked > 0.5 * unknown, (locked, unknown)


async def test_the_portal_refuses_a_paused_account_as_a_wrong_password_and_says_why_it_may(
    settings: Settings, engine: Engine, client: Client
) -> None:
    owner = make_tenant(engine)
    app = create_app(settings, engine=engine, temporal=client)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as http:

        async def portal_sign_in(password: str) -> httpx.Response:
            page = await http.get("/portal/login")
            match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert match
            form = {"email": owner.email, "password": password, "csrf_token": match.group(1)}
            return await http.post("/portal/login", data=form)

        for _ in range(5):
            wrong = await portal_sign_in("wrong")
        paused = await portal_sign_in(PASSWORD)
    await close_app(app)

    assert wrong.status_code == paused.status_code == 400
    for page in (wrong, paused):
        assert (
            "e-mail or password is wrong. After 5 wrong passwords in a row, signing in "
            "pauses for a while: wait a few minutes, or reset your password."
        ) in page.text
    assert "nexus_session" not in paused.headers.get("set-cookie", "")
