"""Rate limits with the platform's own limits (nexus.settings.RateLimitSettings defaults),
counted in the real Redis of the test harness, and in memory when Redis does not answer."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client

import api.rate_limits
from api.app import close_app, create_app
from api.rate_limits import RateClass, RateLimiter, rate_class
from domain.enums import Role
from nexus.redis import LocalRedis
from nexus.settings import RateLimitSettings, Settings
from tests.api.authorization_table import TABLE
from tests.support import PASSWORD, free_port, make_tenant

PROBLEM = "application/problem+json"


def limited(settings: Settings, **overrides: Any) -> Settings:
    """The test's settings with the platform's default limits, counted apart from other tests.
    Redis gets seconds to answer, not production's quarter second: on a loaded machine a first
    connection can take longer, and a test of counting must not fall back to memory for that."""
    section = {
        "storage_url": settings.rate_limits.storage_url,
        "key_prefix": uuid.uuid4().hex,
        "redis_timeout_s": 5.0,
    }
    return settings.model_copy(
        update={"rate_limits": RateLimitSettings(**{**section, **overrides})}
    )


@asynccontextmanager
async def serving(
    settings: Settings, engine: Engine, client: Client
) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """The app, and a way to call it from a given client address."""
    app: FastAPI = create_app(settings, engine=engine, temporal=client)
    opened: list[httpx.AsyncClient] = []

    def from_address(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 40000))
        http = httpx.AsyncClient(transport=transport, base_url="http://nexus.test")
        opened.append(http)
        return http

    try:
        yield from_address
    finally:
        for http in opened:
            await http.aclose()
        await close_app(app)


async def fresh_window(needed_s: float = 8) -> None:
    """Windows are aligned to the clock's minutes: start a count with `needed_s` left in one."""
    left = 60 - time.time() % 60
    if left < needed_s:
        await asyncio.sleep(left + 0.05)


def assert_refused(response: httpx.Response, what: str) -> dict[str, Any]:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == "/problems/too-many-requests"
    assert body["title"] == "Too many requests"
    assert body["status"] == 429
    assert body["detail"].startswith(f"Too many {what} in a short time. Try again in ")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert response.headers["ratelimit-remaining"] == "0"
    assert 1 <= int(response.headers["ratelimit-reset"]) <= 60
    return body


async def test_sign_in_is_refused_past_ten_a_minute_from_one_address_and_not_from_another(
    settings: Settings, engine: Engine, client: Client
) -> None:
    tenant = make_tenant(engine)
    await fresh_window()
    async with serving(limited(settings), engine, client) as connect:
        attacker, owner = connect("203.0.113.7"), connect("198.51.100.20")
        remaining = []
        for _ in range(10):
            response = await attacker.post(
                "/auth/login", json={"email": "nobody@example.com", "password": "guess"}
            )
            assert response.status_code == 401, response.text
            assert response.headers["ratelimit-limit"] == "10"
            assert response.headers["ratelimit-policy"] == "10;w=60, 50;w=3600"
            remaining.append(int(response.headers["ratelimit-remaining"]))
        assert remaining == list(range(9, -1, -1))

        # The eleventh is refused before any password is checked, even the right one.
        refused = await attacker.post(
            "/auth/login", json={"email": tenant.email, "password": PASSWORD}
        )
        assert_refused(refused, "sign-in attempts")
        assert "access_token" not in refused.text

        # Another address is counted apart: the owner signs in.
        signed_in = await owner.post(
            "/auth/login", json={"email": tenant.email, "password": PASSWORD}
        )
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.headers["ratelimit-remaining"] == "9"


async def test_the_portal_sign_in_form_counts_too_and_comes_back_with_a_message(
    settings: Settings, engine: Engine, client: Client
) -> None:
    await fresh_window()
    async with serving(limited(settings), engine, client) as connect:
        browser = connect("203.0.113.8")
        page = await browser.get("/portal/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        form = {"email": "someone@example.com", "password": "guess", "csrf_token": token}
        for _ in range(10):
            answered = await browser.post("/portal/login", data=form)
            assert answered.status_code == 400
        refused = await browser.post("/portal/login", data=form)

    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")
    assert "Too many sign-in attempts in a short time. Try again in " in refused.text
    assert 'value="someone@example.com"' in refused.text
    assert int(refused.headers["retry-after"]) >= 1


async def test_a_portal_page_past_the_read_limit_says_when_to_come_back(
    settings: Settings, engine: Engine, client: Client
) -> None:
    await fresh_window(20)
    async with serving(limited(settings), engine, client) as connect:
        browser = connect("203.0.113.12")
        for _ in range(600):
            assert (await browser.get("/portal/login")).status_code == 200
        refused = await browser.get("/portal/login", headers={"Accept": "text/html"})

    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")
    assert "<h1>Too many requests</h1>" in refused.text
    assert "Too many requests in a short time. Try again in " in refused.text
    assert 'href="/portal"' in refused.text
    # The page asked for was not shown.
    assert 'action="/portal/login"' not in refused.text


@pytest.mark.parametrize(
    ("path", "limit", "what"),
    [
        ("/auth/signup", 5, "sign-ups"),
        ("/auth/password/forgot", 5, "password reset requests"),
        ("/auth/verify-email", 10, "verification requests"),
    ],
)
async def test_sign_up_reset_and_verification_are_strict_and_apart(
    settings: Settings, engine: Engine, client: Client, path: str, limit: int, what: str
) -> None:
    await fresh_window()
    async with serving(limited(settings), engine, client) as connect:
        visitor = connect("203.0.113.9")
        for _ in range(limit):
            answered = await visitor.post(path, json={})
            assert answered.status_code != 429, answered.text
            assert answered.headers["ratelimit-limit"] == str(limit)
        assert_refused(await visitor.post(path, json={}), what)
        # The other classes keep their own counts.
        signing_in = await visitor.post("/auth/login", json={"email": "a@b.co", "password": "x"})
        assert signing_in.status_code == 401
        assert signing_in.headers["ratelimit-remaining"] == "9"


async def test_writes_are_counted_per_user_so_one_tenant_does_not_limit_another(
    settings: Settings, engine: Engine, client: Client
) -> None:
    busy, other = make_tenant(engine), make_tenant(engine)
    await fresh_window(15)
    async with serving(limited(settings), engine, client) as connect:
        # Both tenants call from the same address (one office, one gateway).
        http = connect("192.0.2.10")

        async def bearer(email: str) -> dict[str, str]:
            response = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
            return {"Authorization": f"Bearer {response.json()['access_token']}"}

        busy_headers, other_headers = await bearer(busy.email), await bearer(other.email)
        for _ in range(120):
            answered = await http.post("/api-keys", headers=busy_headers, json={})
            assert answered.status_code == 422, answered.text
        assert answered.headers["ratelimit-policy"] == "120;w=60"
        assert_refused(await http.post("/api-keys", headers=busy_headers, json={}), "changes")

        # The other tenant's writes, and the busy tenant's reads, are not held back.
        theirs = await http.post(
            "/api-keys", headers=other_headers, json={"name": "Sync", "scopes": ["campaigns:read"]}
        )
        assert theirs.status_code == 201, theirs.text
        assert theirs.headers["ratelimit-remaining"] == "119"
        reading = await http.get("/auth/me", headers=busy_headers)
        assert reading.status_code == 200
        assert reading.headers["ratelimit-policy"] == "600;w=60"


async def test_reads_are_generous_then_limited_per_user(
    settings: Settings, engine: Engine, client: Client
) -> None:
    reader = make_tenant(engine, Role.BRAND_MEMBER)
    await fresh_window(20)
    async with serving(limited(settings), engine, client) as connect:
        http = connect("192.0.2.11")
        login = await http.post("/auth/login", json={"email": reader.email, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        statuses = [(await http.get("/auth/me", headers=headers)).status_code for _ in range(600)]
        assert statuses == [200] * 600
        assert_refused(await http.get("/auth/me", headers=headers), "requests")
        # Signed out, from the same address: counted per address, not as that user.
        anonymous = await http.get("/auth/me")
        assert anonymous.status_code == 401
        assert anonymous.headers["ratelimit-remaining"] == "599"


async def test_reads_far_from_their_limit_reach_redis_in_batches(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.rate_limits, "BATCH_S", 3600.0)
    await fresh_window()
    limiter = RateLimiter(limited(settings, reads="1000/minute").rate_limits, settings.auth)
    [item] = limiter.limits[RateClass.READS]
    start = int(time.time() // 60 * 60)
    key = item.key_for(RateClass.READS.value, "user:ada", str(start))
    try:
        verdicts = [await limiter.hit(RateClass.READS, "user:ada") for _ in range(100)]
        assert all(v.allowed for v in verdicts)
        assert verdicts[-1].remaining == 900
        # Only the first hit made a round trip: the other 99 are held by this process.
        assert await limiter.counter.incr(key, 60, 0) == 1
        monkeypatch.setattr(api.rate_limits, "BATCH_S", 0.0)
        await limiter.hit(RateClass.READS, "user:ada")
        assert await limiter.counter.incr(key, 60, 0) == 101
    finally:
        await limiter.close()


async def test_near_the_limit_every_read_is_counted_exactly_across_processes(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.rate_limits, "BATCH_S", 3600.0)
    await fresh_window()
    shared = limited(settings, reads="100/minute").rate_limits
    one, other = RateLimiter(shared, settings.auth), RateLimiter(shared, settings.auth)
    try:
        first = [await one.hit(RateClass.READS, "user:ada") for _ in range(95)]
        # From 90 on, each hit of the first process reached Redis: the second sees them.
        second = [await other.hit(RateClass.READS, "user:ada") for _ in range(10)]
        assert [v.allowed for v in first + second] == [True] * 100 + [False] * 5
        assert not (await one.hit(RateClass.READS, "user:ada")).allowed
    finally:
        await one.close()
        await other.close()


async def test_a_portal_session_is_counted_as_its_user(
    settings: Settings, engine: Engine, client: Client
) -> None:
    tenant = make_tenant(engine)
    await fresh_window()
    async with serving(limited(settings), engine, client) as connect:
        browser, neighbour = connect("192.0.2.15"), connect("192.0.2.15")
        page = await browser.get("/portal/login")
        assert page.headers["ratelimit-remaining"] == "599"
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        form = {"email": tenant.email, "password": PASSWORD, "csrf_token": token}
        assert (await browser.post("/portal/login", data=form)).status_code == 303

        home = await browser.get("/portal/campaigns")
        assert home.status_code == 200
        assert home.headers["ratelimit-remaining"] == "599"  # the user's own count
        signed_out = await neighbour.get("/portal/login")
        assert signed_out.headers["ratelimit-remaining"] == "598"  # the address's


async def test_api_keys_are_counted_per_key(
    settings: Settings, engine: Engine, client: Client
) -> None:
    admin = make_tenant(engine)
    await fresh_window(15)
    async with serving(limited(settings), engine, client) as connect:
        http = connect("192.0.2.12")
        login = await http.post("/auth/login", json={"email": admin.email, "password": PASSWORD})
        user = {"Authorization": f"Bearer {login.json()['access_token']}"}
        keys = []
        for name in ("First", "Second"):
            made = await http.post(
                "/api-keys", headers=user, json={"name": name, "scopes": ["campaigns:write"]}
            )
            keys.append({"Authorization": f"Bearer {made.json()['key']}"})
        for _ in range(120):
            answered = await http.post("/campaigns", headers=keys[0], json={})
            assert answered.status_code == 422, answered.text
        assert_refused(await http.post("/campaigns", headers=keys[0], json={}), "changes")
        second = await http.post("/campaigns", headers=keys[1], json={})
        assert second.status_code == 422
        assert second.headers["ratelimit-remaining"] == "119"
        # The user who made the keys has a count of their own.
        mine = await http.post("/api-keys", headers=user, json={})
        assert mine.status_code == 422
        assert mine.headers["ratelimit-remaining"] == "117"


async def test_probes_and_static_files_are_not_counted(
    settings: Settings, engine: Engine, client: Client
) -> None:
    async with serving(limited(settings), engine, client) as connect:
        http = connect("192.0.2.13")
        for path in ("/healthz", "/static/portal.css"):
            response = await http.get(path)
            assert response.status_code == 200
            assert "ratelimit-limit" not in response.headers


async def test_without_redis_the_api_answers_and_each_process_still_limits(
    settings: Settings, engine: Engine, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    dead = limited(settings, storage_url=f"redis://127.0.0.1:{free_port()}/0")
    await fresh_window()
    caplog.set_level(logging.WARNING, logger="api.rate_limits")
    async with (
        serving(dead, engine, client) as first_process,
        serving(dead, engine, client) as second_process,
    ):
        http = first_process("203.0.113.30")
        for _ in range(10):
            answered = await http.post("/auth/login", json={"email": "a@b.co", "password": "x"})
            assert answered.status_code == 401
        assert_refused(
            await http.post("/auth/login", json={"email": "a@b.co", "password": "x"}),
            "sign-in attempts",
        )
        # Another process keeps its own count: a client is held to the limit per process.
        elsewhere = await second_process("203.0.113.30").post(
            "/auth/login", json={"email": "a@b.co", "password": "x"}
        )
        assert elsewhere.status_code == 401
        assert elsewhere.headers["ratelimit-remaining"] == "9"

    outages = [r for r in caplog.records if "does not answer" in r.getMessage()]
    assert len(outages) == 2, [r.getMessage() for r in outages]  # once per process


async def test_counting_goes_back_to_redis_when_it_answers_again(
    settings: Settings, engine: Engine, client: Client, tmp_path: Any
) -> None:
    redis = LocalRedis(tmp_path / "redis", free_port())
    flaky = limited(settings, storage_url=redis.url, redis_retry_s=0.2)
    await fresh_window()
    async with serving(flaky, engine, client) as connect:
        http = connect("203.0.113.31")
        down = await http.post("/auth/login", json={"email": "a@b.co", "password": "x"})
        assert down.status_code == 401
        redis.start()
        try:
            await asyncio.sleep(0.3)
            up = await http.post("/auth/login", json={"email": "a@b.co", "password": "x"})
            # Redis had not counted the first attempt: the count starts there again.
            assert up.headers["ratelimit-remaining"] == "9"
        finally:
            redis.stop()


async def test_limits_can_be_turned_off_or_kept_in_memory_when_asked(
    settings: Settings, engine: Engine, client: Client
) -> None:
    await fresh_window()
    async with serving(limited(settings, enabled=False), engine, client) as connect:
        http = connect("203.0.113.40")
        for _ in range(12):
            answered = await http.post("/auth/login", json={"email": "a@b.co", "password": "x"})
            assert answered.status_code == 401
            assert "ratelimit-limit" not in answered.headers
    async with serving(limited(settings, storage_url="memory://"), engine, client) as connect:
        http = connect("203.0.113.41")
        for _ in range(10):
            answered = await http.post("/auth/login", json={"email": "a@b.co", "password": "x"})
            assert answered.status_code == 401
        assert_refused(
            await http.post("/auth/login", json={"email": "a@b.co", "password": "x"}),
            "sign-in attempts",
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [("storage_url", "http://127.0.0.1:6379"), ("storage_url", ""), ("sign_in", "ten a minute")],
)
def test_settings_refuse_an_unknown_store_or_unreadable_limits(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=field):
        RateLimitSettings(**{field: value})


# Every route in a strict class, by name; any other route is a read (GET) or a write.
STRICT_ROUTES = {
    "POST /auth/login": RateClass.SIGN_IN,
    "POST /portal/login": RateClass.SIGN_IN,
    # They check the signed-in user's current password.
    "POST /auth/password/change": RateClass.SIGN_IN,
    "POST /portal/account/password": RateClass.SIGN_IN,
    "POST /auth/signup": RateClass.SIGN_UP,
    "POST /portal/signup": RateClass.SIGN_UP,
    "POST /portal/signup/brand": RateClass.SIGN_UP,
    "POST /auth/password/forgot": RateClass.PASSWORD_RESET,
    "POST /auth/password/reset": RateClass.PASSWORD_RESET,
    "POST /portal/password/forgot": RateClass.PASSWORD_RESET,
    "POST /portal/password/reset/{token}": RateClass.PASSWORD_RESET,
    "POST /auth/verify-email": RateClass.VERIFICATION,
    "POST /auth/verify-email/resend": RateClass.VERIFICATION,
    "GET /portal/verify": RateClass.VERIFICATION,
    "POST /portal/verify/resend": RateClass.VERIFICATION,
}
NOT_COUNTED = {"GET /healthz", "GET /readyz"}


def test_every_route_of_the_app_is_counted_in_its_class() -> None:
    for route in TABLE:
        method, path = route.split(" ", 1)
        expected = STRICT_ROUTES.get(route) or (
            None
            if route in NOT_COUNTED or path.startswith("/static/")
            else RateClass.READS
            if method == "GET"
            else RateClass.WRITES
        )
        assert rate_class(method, path) == expected, route
    # The ledger's own verification is a read, not an e-mail verification.
    assert rate_class("GET", "/ledger/verify") == RateClass.READS
