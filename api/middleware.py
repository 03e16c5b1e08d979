"""Pure ASGI middleware that must see every request and response: the body limit (413 in
problem+json before anything parses the body; Starlette's own answers in plain text) and the
security headers."""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import MEDIA_TYPE

# Bodies a parser reads whole (into memory or spooled files): never given the media limit.
_FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")


class BodySizeLimit:
    """Refuses bodies over `max_bytes` with 413: at once by Content-Length, and while the app
    reads a streamed (chunked) body, after at most `max_bytes` + one chunk. Only non-form
    bodies sent to `media_prefixes` (the upload targets, which stream to disk) get the larger
    `media_max_bytes`."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        media_prefixes: tuple[str, ...] = (),
        media_max_bytes: int = 0,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.media_prefixes = media_prefixes
        self.media_max_bytes = max(media_max_bytes, max_bytes)

    def limit_for(self, scope: Scope) -> int:
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        media = scope.get("path", "").startswith(self.media_prefixes)
        return self.media_max_bytes if media and content_type not in _FORM_TYPES else self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(scope, send, limit)
            return

        received = 0
        exceeded = False
        started = False
        # Whether the app had answered before the body passed the limit (then its answer stands).
        answered_first = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded, answered_first
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # The app stops reading as if the client had gone; its answer becomes ours.
                    exceeded, answered_first = True, started
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not answered_first:
                if not started:
                    started = True
                    await self._reject(scope, send, limit)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            # What the cut-off body made the app raise (a disconnect) is answered with 413.
            if not exceeded:
                raise
        if exceeded and not started:
            await self._reject(scope, send, limit)

    @staticmethod
    async def _reject(scope: Scope, send: Send, limit: int) -> None:
        body = json.dumps(
            {
                "type": "/problems/payload-too-large",
                "title": "Payload too large",
                "status": 413,
                "detail": f"request body exceeds {limit} bytes",
                "instance": scope.get("path", ""),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


# API answers, static files and anything else that is not a page: nothing may load, frame or
# run from them.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The interactive docs load Swagger UI / ReDoc from the platform (api/docs.py) and start them
# inline; both style themselves inline and ReDoc searches in a blob: worker. Nothing from
# another origin.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


def portal_csp(*, stripe: bool, storage_origin: str | None) -> str:
    """The portal's pages: their own scripts and styles (htmx, portal.js, portal.css), media
    from the portal or the object store's presigned URLs, and Stripe.js with its frames only
    where cards are taken through Stripe."""
    extra = f" {storage_origin}" if storage_origin else ""
    script = "'self' https://js.stripe.com" if stripe else "'self'"
    frames = "https://js.stripe.com https://hooks.stripe.com" if stripe else "'none'"
    connect = f"'self'{extra} https://api.stripe.com" if stripe else f"'self'{extra}"
    return (
        f"default-src 'self'; script-src {script}; style-src 'self'; "
        f"img-src 'self' data:{extra}; media-src 'self' blob:{extra}; connect-src {connect}; "
        f"frame-src {frames}; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


class SecurityHeaders:
    """Adds the security headers to every response (pages, API answers, static files, errors,
    404s) where the route has not set them itself: a media route's stricter CSP stays."""

    def __init__(self, app: ASGIApp, *, page_csp: str, hsts: bool) -> None:
        self.app = app
        self.page_csp = page_csp.encode()
        common: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (
                b"permissions-policy",
                b"camera=(), microphone=(), geolocation=(), usb=(), "
                b'payment=(self "https://js.stripe.com")',
            ),
        ]
        if hsts:
            common.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        self.common = common

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path", "") in DOCS_PATHS

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                csp = self._csp(headers, docs)
                wanted = [*self.common, (b"content-security-policy", csp)]
                headers.extend((n, v) for n, v in wanted if n not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)

    def _csp(self, headers: Iterable[tuple[bytes, bytes]], docs: bool) -> bytes:
        if docs:
            return DOCS_CSP.encode()
        content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
        return self.page_csp if content_type.startswith(b"text/html") else API_CSP.encode()
