"""Liveness and readiness."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError

from api.deps import DatabaseDep, TemporalDep
from api.problems import problem_response
from models.db import ping
from nexus.errors import FieldProblem, ServiceUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=None,
    responses={503: {"description": "not ready: the problem names each dependency not answering"}},
)
async def readyz(db: DatabaseDep, temporal: TemporalDep) -> dict[str, str] | JSONResponse:
    """Ready only when PostgreSQL and Temporal both answer."""
    problems: list[FieldProblem] = []
    try:
        await asyncio.wait_for(run_in_threadpool(ping, db.engine), timeout=3)
    except (SQLAlchemyError, TimeoutError) as exc:
        problems.append(FieldProblem("postgres", type(exc).__name__))
    try:
        client = await temporal.client()
        if not await client.service_client.check_health(timeout=timedelta(seconds=3)):
            problems.append(FieldProblem("temporal", "not serving"))
    except (ServiceUnavailable, RPCError, RuntimeError) as exc:
        # RPCError: the health check itself timed out or was refused (a busy frontend).
        problems.append(FieldProblem("temporal", str(exc) or type(exc).__name__))
    if problems:
        return problem_response(
            None,
            status=503,
            title="Not ready",
            slug="not-ready",
            detail="dependencies are not answering",
            errors=problems,
        )
    return {"status": "ready"}
