"""Every list's paging parameters are bounded: an offset or limit past what the database can
hold is a 422 that names the field, never a 500. Found from the app's own routes, so a new
list is covered the day it is added."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from annotated_types import Le
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic.fields import FieldInfo
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import close_app, create_app
from api.portal.web import SESSION_COOKIE
from domain.enums import Role
from nexus.settings import Settings
from tests.support import login, make_creator, make_tenant

BIGINT = 2**63 - 1
PAGING = ("offset", "limit", "page")


def _params(dependant: Dependant) -> Iterator[tuple[str, str, Any, FieldInfo]]:
    """(where, name, type, field) of every query and path parameter, dependencies included."""
    for where, params in (("query", dependant.query_params), ("path", dependant.path_params)):
        for param in params:
            yield where, param.name, param.field_info.annotation, param.field_info
    for sub in dependant.dependencies:
        yield from _params(sub)


def _routes(app: FastAPI) -> Iterator[tuple[str, str, Dependant]]:
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute):
            for method in sorted(route.methods or ()):
                yield method, str(route.path), route.dependant


def _upper_bound(field: FieldInfo) -> int | None:
    bounds = [m.le for m in field.metadata if isinstance(m, Le) and isinstance(m.le, int)]
    return bounds[0] if bounds else None


@pytest.fixture
def app(settings: Settings, engine: Engine, client: Client) -> FastAPI:
    return create_app(settings, engine=engine, temporal=client)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as client:
        yield client
    await close_app(app)


def list_routes(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    found = []
    for method, path, dependant in _routes(app):
        names = sorted({n for w, n, _, _ in _params(dependant) if w == "query" and n in PAGING})
        if names:
            found.append((method, path, names))
    return found


def test_every_integer_parameter_has_an_upper_bound(app: FastAPI) -> None:
    unbounded = [
        f"{method} {path} {where}.{name}"
        for method, path, dependant in _routes(app)
        for where, name, annotation, field in _params(dependant)
        if annotation is int and (_upper_bound(field) or BIGINT + 1) > BIGINT
    ]
    assert unbounded == []
    # The paging parameters themselves stay far below what a query can hold.
    for method, path, dependant in _routes(app):
        for where, name, _, field in _params(dependant):
            if where == "query" and name in PAGING:
                bound = _upper_bound(field)
                assert bound is not None and bound <= 10_000_000, f"{method} {path} {name}"


async def test_a_huge_offset_or_limit_is_a_422_naming_the_field_on_every_list(
    app: FastAPI, http: httpx.AsyncClient, engine: Engine
) -> None:
    routes = list_routes(app)
    assert {path for _, path, _ in routes} >= {
        "/campaigns",
        "/creators",
        "/deliveries",
        "/licenses",
        "/marketplace/campaigns",
        "/notifications",
    }
    brand = make_tenant(engine)
    brand_headers = await login(http, brand)
    callers = [
        brand_headers,
        await login(http, make_creator(engine).tenant),
        await login(http, make_tenant(engine, Role.OPS)),
    ]
    for method, route, names in routes:
        # Path parameters name nothing: the paging parameters are validated with them, first.
        path = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), route)
        # Whoever the route serves: the first caller it does not refuse.
        allowed = None
        for headers in callers:
            # Portal pages take the same token as their session cookie.
            http.cookies.set(SESSION_COOKIE, headers["Authorization"].removeprefix("Bearer "))
            probe = await http.request(method, path, headers=headers)
            if probe.status_code not in (401, 403, 303):
                allowed = headers
                break
        assert allowed is not None, f"{method} {path}: no caller is let in"
        for name in names:
            for value in (2**63, -1, 10**30):
                response = await http.request(
                    method, path, params={name: str(value)}, headers=allowed
                )
                assert response.status_code == 422, (method, path, name, response.text)
                fields = [e["field"] for e in response.json()["errors"]]
                assert fields == [f"query.{name}"], (path, fields)
