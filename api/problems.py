"""RFC 9457 problem+json rendering for every error the API returns."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

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
    errors = [FieldProblem(_field(e["loc"]), e["msg"]) for e in exc.errors()]
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
    for unavailable in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(unavailable, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
    app.openapi = _documented(app.openapi)  # type: ignore[method-assign]
