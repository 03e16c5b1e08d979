"""Request rate limits: a pure ASGI middleware in front of every route, counting in Redis
through the `limits` library so that every API process shares the counts.

Each request falls in one class (nexus.settings.RateLimitSettings holds their limits):
sign-in, sign-up, password reset and e-mail verification are strict and counted per client
address; other writes (moderate) and reads (generous) are counted per user (the subject of a
verified access token, bearer or portal cookie: no database query), per API key (its prefix),
or, for anyone else, per client address. Health probes and static files are not counted.

The counts are fixed windows aligned to the clock. A strict class makes one Redis round trip
per limit on every request. Reads and writes are counted in batches: a process adds the hits
it holds for a counter to Redis with its first hit once `BATCH_S` has passed since it last did,
and with every hit once the count comes within a tenth of the limit. Far from a limit a request
costs no round trip; near it each process counts exactly, so a limit is passed only by the hits
other processes took in their last `BATCH_S` and have not added yet.

Answers carry the fields of draft-ietf-httpapi-ratelimit-headers-06:
`RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds) for the limit
closest to running out, and `RateLimit-Policy` with every limit of the class ("10;w=60").
Past a limit the answer is 429 problem+json with `Retry-After`; a portal page gets a page.

When Redis does not answer, each process counts in its own memory (the library's
MemoryStorage) and says so in its log once, trying Redis again every `redis_retry_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.errors import StorageError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.docs import REDOC, SWAGGER_UI
from api.problems import problem_response
from api.security import API_KEY_PREFIX, decode_access_token, split_api_key
from nexus.errors import Unauthenticated
from nexus.settings import AuthSettings, RateLimitSettings

log = logging.getLogger(__name__)

SESSION_COOKIE = b"nexus_session"
NOT_COUNTED = ("/healthz", "/readyz", "/static/", "/favicon.ico", SWAGGER_UI, REDOC)


class RateClass(StrEnum):
    SIGN_IN = "sign_in"
    SIGN_UP = "sign_up"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a class of requests
    VERIFICATION = "verification"
    WRITES = "writes"
    READS = "reads"


STRICT = frozenset(
    {RateClass.SIGN_IN, RateClass.SIGN_UP, RateClass.PASSWORD_RESET, RateClass.VERIFICATION}
)
# What was asked too often, in a person's words.
_WHAT = {
    RateClass.SIGN_IN: "sign-in attempts",
    RateClass.SIGN_UP: "sign-ups",
    RateClass.PASSWORD_RESET: "password reset requests",
    RateClass.VERIFICATION: "verification requests",
    RateClass.WRITES: "changes",
    RateClass.READS: "requests",
}
_RESET_WORDS = frozenset({"forgot", "reset"})
_SIGN_UP_WORDS = frozenset({"signup", "sign-up"})
# E-mail verification: a link opened (GET) or a token posted, and a new link asked for.
_VERIFICATION = ("/auth/verify", "/portal/verify")
# Forms that check the signed-in user's current password count as signing in.
_PASSWORD_CHECKS = ("/auth/password/change", "/portal/account/password")


def rate_class(method: str, path: str) -> RateClass | None:
    """The class a request is counted in; None for what is not counted."""
    if method == "OPTIONS" or path.startswith(NOT_COUNTED):
        return None
    # Opening a verification link consumes a token whatever the method.
    if path.startswith(_VERIFICATION):
        return RateClass.VERIFICATION
    if method in ("GET", "HEAD"):
        return RateClass.READS
    segments = set(path.strip("/").split("/"))
    if path.rstrip("/").endswith("/login") or path.startswith(_PASSWORD_CHECKS):
        return RateClass.SIGN_IN
    if segments & _SIGN_UP_WORDS:
        return RateClass.SIGN_UP
    if "password" in segments and segments & _RESET_WORDS:
        return RateClass.PASSWORD_RESET
    return RateClass.WRITES


def client_address(scope: Scope) -> str:
    """The client's address (uvicorn puts the forwarded one here behind a trusted proxy)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _subject(auth: AuthSettings, token: str) -> str | None:
    """Who an access token names, once its signature and expiry are checked (remembered per
    token by api.security, so a client's requests are not each verified again)."""
    try:
        return f"user:{decode_access_token(auth, token).user_id}"
    except Unauthenticated:
        return None


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _cookie(scope: Scope, name: bytes) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(b";"):
        key, _, value = part.strip().partition(b"=")
        if key == name and value:
            return value.decode("latin-1")
    return None


# How long a process may keep hits of the batched classes before adding them to Redis.
BATCH_S = 1.0


@dataclass
class _Batch:
    """A process's view of one counter: the count Redis last answered and hits not yet added."""

    known: int = 0
    pending: int = 0
    synced_at: float = 0.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int
    policy: str
    retry_after_s: int


class Counter:
    """Counts hits in Redis, or, while Redis does not answer (and when memory:// is asked
    for), in this process's memory."""

    def __init__(self, settings: RateLimitSettings) -> None:
        self.settings = settings
        self._redis: Storage | None = None
        self._memory: MemoryStorage | None = None
        self._redis_down_until = 0.0
        self._outage = False

    def _redis_storage(self) -> Storage | None:
        url = self.settings.storage_url
        if url == "memory://":
            return None
        if self._redis is None:
            # Made on first use, inside the event loop that serves requests.
            self._redis = RedisStorage(
                "async+" + url,
                implementation="redispy",
                wrap_exceptions=True,
                key_prefix=self.settings.key_prefix,
                socket_timeout=self.settings.redis_timeout_s,
                socket_connect_timeout=self.settings.redis_timeout_s,
            )
        return self._redis

    def _memory_storage(self) -> MemoryStorage:
        if self._memory is None:
            self._memory = MemoryStorage()
        return self._memory

    @property
    def degraded(self) -> bool:
        """Whether counts are kept in this process only because Redis did not answer."""
        return self._outage

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        redis = self._redis_storage()
        if redis is not None and time.monotonic() >= self._redis_down_until:
            try:
                count = await redis.incr(key, expiry, amount)
            except (StorageError, OSError) as exc:
                self._redis_down_until = time.monotonic() + self.settings.redis_retry_s
                if not self._outage:
                    self._outage = True
                    log.warning(
                        "rate limits: Redis at %s does not answer (%s); counting in this "
                        "process's memory until it does",
                        self.settings.storage_url,
                        exc,
                    )
            else:
                if self._outage:
                    self._outage = False
                    log.warning("rate limits: Redis answers again; counting there")
                return count
        return await self._memory_storage().incr(key, expiry, amount)

    async def close(self) -> None:
        if self._redis is not None:
            bridge = getattr(self._redis, "bridge", None)
            storage = getattr(bridge, "storage", None)
            close = getattr(storage, "aclose", None)
            if close is not None:
                with contextlib.suppress(OSError, RuntimeError):
                    await close()
            self._redis = None


class RateLimiter:
    """The limits of each class and the counter they are kept in."""

    def __init__(self, settings: RateLimitSettings, auth: AuthSettings) -> None:
        self.settings = settings
        self.counter = Counter(settings)
        self.auth = auth
        self.limits: dict[RateClass, list[RateLimitItem]] = {
            cls: list(parse_many(getattr(settings, cls.value))) for cls in RateClass
        }
        # Per window length: the start of the current window and its batches by counter key
        # (those of an ended window go with it: their hits counted in a window that is over).
        self._batches: dict[int, tuple[int, dict[str, _Batch]]] = {}
        self.policies = {
            cls: ", ".join(f"{i.amount};w={i.get_expiry()}" for i in items)
            for cls, items in self.limits.items()
        }

    def who(self, scope: Scope, cls: RateClass) -> str:
        """Whose count a request adds to: the client address for the strict classes and for
        anyone not signed in, else the user or the API key."""
        if cls not in STRICT:
            authorization = _header(scope, b"authorization")
            if authorization and authorization[:7].lower() == b"bearer ":
                token = authorization[7:].strip().decode("latin-1")
                if token.startswith(API_KEY_PREFIX):
                    try:
                        return f"key:{split_api_key(token)[0]}"
                    except Unauthenticated:
                        pass
                elif subject := _subject(self.auth, token):
                    return subject
            cookie = _cookie(scope, SESSION_COOKIE)
            if cookie and (subject := _subject(self.auth, cookie)):
                return subject
        return f"ip:{client_address(scope)}"

    async def hit(self, cls: RateClass, who: str) -> Verdict:
        now = time.time()
        closest: tuple[int, int, int] | None = None  # (remaining, reset, limit)
        retry_after = 0
        allowed = True
        for item in self.limits[cls]:
            window = item.get_expiry()
            start = math.floor(now / window) * window
            reset = max(1, math.ceil(start + window - now))
            key = item.key_for(cls.value, who, str(start))
            if cls in STRICT:
                count = await self.counter.incr(key, window)
            else:
                count = await self._batched(key, window, start, item.amount)
            remaining = max(0, item.amount - count)
            if count > item.amount:
                allowed = False
                retry_after = max(retry_after, reset)
            if closest is None or (remaining, -reset) < (closest[0], -closest[1]):
                closest = (remaining, reset, item.amount)
        assert closest is not None
        return Verdict(allowed, closest[2], closest[0], closest[1], self.policies[cls], retry_after)

    async def _batched(self, key: str, window: int, start: int, amount: int) -> int:
        started, batches = self._batches.get(window, (None, {}))
        if started != start:
            batches = {}
            self._batches[window] = (start, batches)
        batch = batches.setdefault(key, _Batch())
        batch.pending += 1
        count = batch.known + batch.pending
        now = time.monotonic()
        if count * 10 < amount * 9 and now - batch.synced_at < BATCH_S:
            return count
        # Taken before the round trip: hits arriving meanwhile stay pending for the next one.
        adding, batch.pending, batch.synced_at = batch.pending, 0, now
        batch.known = max(batch.known, await self.counter.incr(key, window, adding))
        return batch.known + batch.pending

    async def close(self) -> None:
        await self.counter.close()


def _in_words(seconds: int) -> str:
    if seconds < 60:
        return "1 second" if seconds == 1 else f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    hours = math.ceil(minutes / 60)
    return "1 hour" if hours == 1 else f"{hours} hours"


def _headers(verdict: Verdict) -> dict[str, str]:
    headers = {
        "RateLimit-Limit": str(verdict.limit),
        "RateLimit-Remaining": str(verdict.remaining),
        "RateLimit-Reset": str(verdict.reset_s),
        "RateLimit-Policy": verdict.policy,
    }
    if not verdict.allowed:
        headers["Retry-After"] = str(verdict.retry_after_s)
    return headers


def _wants_page(scope: Scope) -> bool:
    path: str = scope["path"]
    if not (path == "/portal" or path.startswith("/portal/")) or path.startswith("/portal/uploads"):
        return False
    accept = (_header(scope, b"accept") or b"").decode("latin-1")
    return "text/html" in accept or "json" not in accept


async def _form(receive: Receive, limit: int = 64 * 1024) -> dict[str, str]:
    """The urlencoded form of a refused portal post, to show it again (at most `limit`)."""
    body = b""
    while len(body) <= limit:
        message = await receive()
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    try:
        fields = parse_qs(body[:limit].decode(), max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in fields.items() if v}


async def refusal(scope: Scope, receive: Receive, cls: RateClass, verdict: Verdict) -> Response:
    """429: problem+json for the API, the sign-in form again or a page for the portal."""
    request = Request(scope, receive)
    wait = _in_words(verdict.retry_after_s)
    detail = f"Too many {_WHAT[cls]} in a short time. Try again in {wait}."
    headers = _headers(verdict)
    if _wants_page(scope):
        from api.portal.web import local_path, render

        if cls is RateClass.SIGN_IN and scope["path"].rstrip("/") == "/portal/login":
            form = await _form(receive)
            context: dict[str, object] = {
                "email": form.get("email", "")[:320],
                "errors": {"form": detail},
                "next": local_path(form.get("next", "")[:2000]) or "",
            }
            response: Response = render(request, "portal/login.html", context, 429)
        else:
            response = render(
                request, "portal/too_many_requests.html", {"detail": detail, "wait": wait}, 429
            )
        response.headers.update(headers)
        return response
    return problem_response(
        request,
        status=429,
        title="Too many requests",
        slug="too-many-requests",
        detail=detail,
        headers=headers,
    )


class RateLimits:
    """The middleware: counts each request in its class, refuses past a limit, and adds the
    RateLimit fields to every counted answer."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limiter.settings.enabled:
            await self.app(scope, receive, send)
            return
        cls = rate_class(scope["method"], scope["path"])
        if cls is None:
            await self.app(scope, receive, send)
            return
        counting = self.limiter.hit(cls, self.limiter.who(scope, cls))
        if cls is RateClass.READS:
            # A read changes nothing: it runs while Redis counts it, and past the limit its
            # answer is replaced by the refusal before anything of it is sent.
            await self._read(scope, receive, send, asyncio.ensure_future(counting))
            return
        verdict = await counting
        if not verdict.allowed:
            response = await refusal(scope, receive, cls, verdict)
            await response(scope, receive, send)
            return

        async def send_with_fields(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *_fields(verdict)]
            await send(message)

        await self.app(scope, receive, send_with_fields)

    async def _read(
        self, scope: Scope, receive: Receive, send: Send, counting: asyncio.Future[Verdict]
    ) -> None:
        refused = False

        async def send_with_fields(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start":
                verdict = await counting
                if not verdict.allowed:
                    refused = True
                    response = await refusal(scope, receive, RateClass.READS, verdict)
                    await response(scope, receive, send)
                    return
                message["headers"] = [*message.get("headers", ()), *_fields(verdict)]
            if not refused:
                await send(message)

        try:
            await self.app(scope, receive, send_with_fields)
        finally:
            # Counted whatever became of the answer (the app may have sent none).
            with contextlib.suppress(StorageError, OSError):
                await counting


def _fields(verdict: Verdict) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode()) for k, v in _headers(verdict).items()]
