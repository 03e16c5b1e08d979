"""A contract server for OpenAI's chat completions API (`POST /v1/chat/completions`), as vLLM,
Ollama and hosted models serve it, written from OpenAI's API reference: it checks what the
real API checks and answers as it does.

- Authentication: `Authorization: Bearer <key>`; anything else is a 401 `invalid_api_key`.
- The body: JSON, a known `model` (else 404 `model_not_found`), `messages` a non-empty list of
  `{role, content}` with a known role (else 400 naming the parameter), and a `response_format`
  of type `json_schema` with a `name` of at most 64 letters, digits, `_` or `-` and a schema;
  a strict schema must list every property as required and forbid others (else 400
  `invalid_request_error`, as structured outputs refuse them).
- Limits: every answer carries `x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests`
  and `x-ratelimit-reset-requests`; past the limit, a 429 `rate_limit_exceeded` with
  `retry-after`.
- Slow and lost outcomes: the test may delay answers (`delay_s`) past the client's timeout, or
  fail the next answers with a 500 `server_error`.

The verdict is the test's: `in_category` for the texts containing one of `flagged`."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support import free_port

API_KEY = "sk-test-judge"
MODEL = "judge-small"
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ROLES = {"system", "user", "assistant", "developer", "tool"}


def _error(
    status: int,
    message: str,
    kind: str,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status, headers=headers)


def _strict_problem(schema: Any) -> str | None:
    """Why a strict JSON schema is refused, as structured outputs refuse it; None if fine."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return "the schema must be an object"
    properties = schema.get("properties", {})
    if schema.get("additionalProperties") is not False:
        return "'additionalProperties' is required to be supplied and to be false"
    if set(schema.get("required", [])) != set(properties):
        return "'required' is required to be supplied and to be an array including every key"
    return None


@dataclass
class ChatServer:
    url: str
    flagged: tuple[str, ...] = ()
    limit: int = 1000
    delay_s: float = 0.0
    fail_next: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    _used: int = 0

    def _limits(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit-requests": str(self.limit),
            "x-ratelimit-remaining-requests": str(max(0, self.limit - self._used)),
            "x-ratelimit-reset-requests": "1s",
        }

    async def completions(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return _error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
        if self._used >= self.limit:
            return _error(
                429,
                "Rate limit reached for requests.",
                "requests",
                "rate_limit_exceeded",
                headers={**self._limits(), "retry-after": "1"},
            )
        self._used += 1
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(
                400, "We could not parse the JSON body of your request.", "invalid_request_error"
            )
        if not isinstance(body, dict):
            return _error(400, "The body must be a JSON object.", "invalid_request_error")
        self.requests.append(body)
        if body.get("model") != MODEL:
            return _error(
                404,
                f"The model `{body.get('model')}` does not exist.",
                "invalid_request_error",
                "model_not_found",
            )
        messages = body.get("messages")
        if (
            not isinstance(messages, list)
            or not messages
            or not all(
                isinstance(m, dict)
                and m.get("role") in _ROLES
                and isinstance(m.get("content"), str)
                for m in messages
            )
        ):
            return _error(
                400,
                "Invalid 'messages': a non-empty array of {role, content}.",
                "invalid_request_error",
                param="messages",
            )
        wanted = body.get("response_format", {})
        schema = wanted.get("json_schema", {}) if isinstance(wanted, dict) else {}
        if wanted and (
            wanted.get("type") != "json_schema" or not _NAME.match(str(schema.get("name", "")))
        ):
            return _error(
                400,
                "Invalid 'response_format.json_schema.name'.",
                "invalid_request_error",
                param="response_format",
            )
        if schema.get("strict") and (problem := _strict_problem(schema.get("schema"))):
            return _error(
                400,
                f"Invalid schema for response_format: {problem}.",
                "invalid_request_error",
                param="response_format",
            )
        if self.fail_next > 0:
            self.fail_next -= 1
            return _error(
                500, "The server had an error while processing your request.", "server_error"
            )
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        text = messages[-1]["content"].rsplit("Text: ", 1)[-1]
        inside = any(word in text for word in self.flagged)
        verdict = {"in_category": inside, "reason": "named plainly" if inside else "not so"}
        answer = {
            "id": f"chatcmpl-{secrets.token_hex(8)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": json.dumps(verdict)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132},
        }
        return JSONResponse(answer, headers=self._limits())


@contextmanager
def running_chat_server() -> Iterator[ChatServer]:
    """The server under uvicorn on a free port, in a thread of its own (the judge's client is
    synchronous, as the activities that use it are)."""
    port = free_port()
    chat = ChatServer(url=f"http://127.0.0.1:{port}/v1")
    app = Starlette(routes=[Route("/v1/chat/completions", chat.completions, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the chat server did not start"
        time.sleep(0.02)
    try:
        yield chat
    finally:
        server.should_exit = True
        thread.join(10)
