"""RFC 9457 problem+json rendering for every error the API returns."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from nexus.errors import AppError, FieldProblem

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"


class FieldReason(BaseModel):
    field: str
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details: the body of every error answer."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldReason] | None = None


def problem_response(
    request: Request | None,
    *,
    status: int,
    title: str,
    slug: str,
    detail: str,
    errors: Sequence[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    if errors:
        body["errors"] = [{"field": e.field, "reason": e.reason} for e in errors]
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def _number(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _expected(ctx: Mapping[str, Any]) -> str:
    return str(ctx.get("expected", "one of the listed values"))


def _at_least(one: str, many: str) -> Callable[[Mapping[str, Any]], str]:
    """The words for a minimum length: `one` where at least one is asked for, else `many`
    with the number in its {}."""

    def reason(ctx: Mapping[str, Any]) -> str:
        least = ctx.get("min_length")
        return one if least == 1 else many.format(_number(least))

    return reason


# pydantic's error types -> what a person reads; `ctx` fills the {braces}.
_REASONS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda c: "This is required.",
    "string_too_short": _at_least("This can't be empty.", "Use at least {} characters."),
    "string_too_long": lambda c: f"Use at most {_number(c.get('max_length'))} characters.",
    "string_type": lambda c: "Enter text.",
    "string_pattern_mismatch": lambda c: "This isn't in the expected format.",
    "int_parsing": lambda c: "Enter a whole number.",
    "int_type": lambda c: "Enter a whole number.",
    "int_from_float": lambda c: "Enter a whole number, without decimals.",
    "float_parsing": lambda c: "Enter a number.",
    "float_type": lambda c: "Enter a number.",
    "decimal_parsing": lambda c: "Enter a number.",
    "decimal_type": lambda c: "Enter a number.",
    "finite_number": lambda c: "Enter a finite number.",
    "greater_than": lambda c: f"Enter a number above {_number(c.get('gt'))}.",
    "greater_than_equal": lambda c: f"Enter {_number(c.get('ge'))} or more.",
    "less_than": lambda c: f"Enter a number below {_number(c.get('lt'))}.",
    "less_than_equal": lambda c: f"Enter {_number(c.get('le'))} or less.",
    "multiple_of": lambda c: f"Enter a multiple of {_number(c.get('multiple_of'))}.",
    "bool_parsing": lambda c: "Choose yes or no.",
    "bool_type": lambda c: "Choose yes or no.",
    "literal_error": lambda c: f"Choose {_expected(c)}.",
    "enum": lambda c: f"Choose {_expected(c)}.",
    "uuid_parsing": lambda c: "This isn't a valid ID.",
    "uuid_type": lambda c: "This isn't a valid ID.",
    "date_parsing": lambda c: "Enter a date like 2026-12-04.",
    "date_type": lambda c: "Enter a date like 2026-12-04.",
    "date_from_datetime_parsing": lambda c: "Enter a date like 2026-12-04.",
    "datetime_parsing": lambda c: "Enter a date and time like 2026-12-04T14:00:00Z.",
    "datetime_type": lambda c: "Enter a date and time like 2026-12-04T14:00:00Z.",
    "datetime_from_date_parsing": lambda c: "Enter a date and time like 2026-12-04T14:00:00Z.",
    "timezone_aware": lambda c: "Add the time zone, e.g. 2026-12-04T14:00:00Z.",
    "datetime_future": lambda c: "Choose a moment in the future.",
    "date_future": lambda c: "Choose a date in the future.",
    "too_short": _at_least("Add at least one.", "Add at least {}."),
    "too_long": lambda c: f"Add at most {_number(c.get('max_length'))}.",
    "list_type": lambda c: "Send a list.",
    "dict_type": lambda c: "Send an object with the expected fields.",
    "model_type": lambda c: "Send an object with the expected fields.",
    "model_attributes_type": lambda c: "Send an object with the expected fields.",
    "extra_forbidden": lambda c: "This field isn't accepted here.",
    "json_invalid": lambda c: "This isn't valid JSON.",
    "json_type": lambda c: "This isn't valid JSON.",
    "url_parsing": lambda c: "Enter a full web address, like https://example.com.",
    "url_type": lambda c: "Enter a full web address, like https://example.com.",
    "url_scheme": lambda c: "Use a web address that starts with https://.",
}


def human_reason(error: Mapping[str, Any]) -> str:
    """One of pydantic's validation errors as a sentence a person understands: "Input
    should be a valid integer" -> "Enter a whole number."; a validator's own message
    ("Value error, ...") is already written for people and is kept, as a sentence."""
    kind = str(error.get("type", ""))
    reason = _REASONS.get(kind)
    if reason is not None:
        return reason(error.get("ctx") or {})
    message = (
        str(error.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    )
    message = message.strip() or "This value isn't accepted."
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return problem_response(
        request,
        status=exc.status,
        title=exc.title,
        slug=exc.type_slug,
        detail=exc.detail,
        errors=exc.errors,
        headers=headers,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [FieldProblem(_field(e["loc"]), human_reason(e)) for e in exc.errors()]
    return problem_response(
        request,
        status=422,
        title="Validation failed",
        slug="validation-failed",
        detail="the request does not match the schema",
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem_response(
        request,
        status=exc.status_code,
        title=str(exc.detail) if exc.status_code >= 400 else "Error",
        slug=f"http-{exc.status_code}",
        detail=str(exc.detail),
        headers=exc.headers,
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """PostgreSQL restarting, failing over or out of connections: the client may try again,
    as with Temporal being unreachable, instead of being told the server broke."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return problem_response(
        request,
        status=503,
        title="Service unavailable",
        slug="service-unavailable",
        detail="the database is not reachable right now; try again",
        headers={"Retry-After": "1"},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request,
        status=500,
        title="Internal error",
        slug="internal",
        detail="an unexpected error occurred; it has been logged",
    )


def _documented(openapi: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document with problem+json as every operation's 4xx answer, replacing
    FastAPI's own validation-error schema, which the handlers above never send."""
    done: list[dict[str, Any]] = []

    def document() -> dict[str, Any]:
        if done:
            return done[0]
        schema = openapi()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem.pop("$defs", {}))
        components["Problem"] = problem
        content = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, response in responses.items():
                    if status.startswith("4"):
                        response["content"] = content
                responses.setdefault("4XX", {"description": "Refused", "content": content})
        done.append(schema)
        return schema

    return document


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # SQLAlchemy's for the ORM; psycopg's own for the per-request lookups (api.services.Lookups).
    for unavailable in (
        OperationalError,
        InterfaceError,
        PoolTimeout,
        psycopg.OperationalError,
        psycopg_pool.PoolTimeout,
    ):
        app.add_exception_handler(unavailable, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
    app.openapi = _documented(app.openapi)  # type: ignore[method-assign]
