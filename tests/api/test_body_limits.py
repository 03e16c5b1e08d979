"""Request bodies are held to their limit before anything parses them, on every path: the
upload targets too, where only a streamed media body may be larger, never a form."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client

from api.app import close_app, create_app
from api.middleware import BodySizeLimit
from nexus.settings import Settings

CHUNK = 16 * 1024
FORM = "application/x-www-form-urlencoded"
PORTAL_UPLOAD = "/portal/uploads/content/uploads/any/x.mp4"


@dataclass
class Answer:
    status: int
    body: bytes
    read: int  # request bytes the app (and the middleware) took from the client
    messages: list[Message] = field(default_factory=list)

    def problem(self) -> dict[str, object]:
        parsed: dict[str, object] = json.loads(self.body)
        return parsed


async def call(
    app: ASGIApp,
    method: str,
    path: str,
    chunks: Iterable[bytes],
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request straight through ASGI, its body sent chunk by chunk as the app asks."""
    pending: Iterator[bytes] = iter(chunks)
    answer = Answer(status=0, body=b"", read=0)
    done = False

    async def receive() -> Message:
        nonlocal done
        if done:
            return {"type": "http.disconnect"}
        chunk = next(pending, None)
        if chunk is None:
            done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        answer.read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: Message) -> None:
        answer.messages.append(message)
        if message["type"] == "http.response.start":
            answer.status = message["status"]
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 50000),
        "server": ("nexus.test", 80),
        "state": {},
    }
    await app(scope, receive, send)
    return answer


def chunks(total: int) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        size = min(CHUNK, total - sent)
        sent += size
        yield b"a=" + b"x" * (size - 2)


@pytest.fixture
def app(settings: Settings, engine: Engine, client: Client) -> FastAPI:
    return create_app(settings, engine=engine, temporal=client)


@pytest.fixture
async def closing(app: FastAPI) -> AsyncIterator[None]:
    yield
    await close_app(app)


async def test_a_huge_declared_form_to_the_portal_upload_path_is_refused_unread(
    app: FastAPI, settings: Settings, closing: None
) -> None:
    answer = await call(
        app,
        "PUT",
        PORTAL_UPLOAD,
        chunks(64 * 1024),
        {"content-type": FORM, "content-length": str(1024**3)},
    )

    assert answer.status == 413
    assert answer.read == 0
    problem = answer.problem()
    assert problem["type"] == "/problems/payload-too-large"
    assert problem["detail"] == f"request body exceeds {settings.api.max_body_bytes} bytes"


async def test_a_streamed_form_to_the_portal_upload_path_stops_at_the_api_limit(
    app: FastAPI, settings: Settings, closing: None
) -> None:
    # Chunked, no Content-Length: 8 MiB of form, far over the limit, far under the media one.
    answer = await call(app, "PUT", PORTAL_UPLOAD, chunks(8 * 1024**2), {"content-type": FORM})

    assert answer.status == 413
    assert answer.read <= settings.api.max_body_bytes + CHUNK
    assert answer.problem()["status"] == 413


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/auth/login", "application/json"),
        ("POST", "/portal/login", FORM),
        ("POST", "/webhooks/stripe", "application/json"),
    ],
)
async def test_a_streamed_body_over_the_limit_is_refused_on_any_path(
    app: FastAPI, settings: Settings, closing: None, method: str, path: str, content_type: str
) -> None:
    answer = await call(app, method, path, chunks(2 * 1024**2), {"content-type": content_type})

    assert answer.status == 413
    assert answer.read <= settings.api.max_body_bytes + CHUNK


async def test_a_body_within_the_limit_still_reaches_the_app(app: FastAPI, closing: None) -> None:
    body = json.dumps({"email": "nobody@example.com", "password": "wrong"}).encode()
    answer = await call(app, "POST", "/auth/login", [body], {"content-type": "application/json"})

    assert answer.status == 401


# The middleware alone, around an app that reads what it is sent.


async def _reader(scope: Scope, receive: Receive, send: Send) -> None:
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RuntimeError("client went away")
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = str(size).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


LIMITED = BodySizeLimit(
    _reader, max_bytes=64 * 1024, media_prefixes=("/uploads/content/",), media_max_bytes=1024**2
)


async def test_only_media_to_an_upload_target_may_pass_the_api_limit() -> None:
    video = {"content-type": "video/mp4"}
    within_media = await call(LIMITED, "PUT", "/uploads/content/k", chunks(512 * 1024), video)
    over_media = await call(LIMITED, "PUT", "/uploads/content/k", chunks(2 * 1024**2), video)
    form = await call(
        LIMITED, "PUT", "/uploads/content/k", chunks(512 * 1024), {"content-type": FORM}
    )
    elsewhere = await call(LIMITED, "PUT", "/campaigns", chunks(512 * 1024), video)

    assert (within_media.status, within_media.body) == (200, str(512 * 1024).encode())
    assert over_media.status == 413
    assert over_media.read <= 1024**2 + CHUNK
    assert form.status == 413
    assert elsewhere.status == 413


async def test_an_answer_given_before_the_limit_is_kept() -> None:
    async def early(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 202, "headers": []})
        while (await receive())["type"] != "http.disconnect":
            pass
        await send({"type": "http.response.body", "body": b"early"})

    limited = BodySizeLimit(early, max_bytes=1024)
    answer = await call(limited, "POST", "/x", chunks(64 * 1024))

    assert (answer.status, answer.body) == (202, b"early")


async def test_a_declared_size_over_the_limit_through_http_is_a_problem(
    app: FastAPI, closing: None
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as http:
        response = await http.post(
            "/portal/uploads", content=b"x" * (1024 * 1024), headers={"content-type": FORM}
        )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-content-type-options"] == "nosniff"
