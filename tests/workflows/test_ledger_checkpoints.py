"""Periodic ledger checkpoints: a Temporal Schedule on the real dev server starts
LedgerCheckpointWorkflow, which signs what came since the last checkpoint."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow, ScheduleHandle
from temporalio.service import RPCError
from temporalio.worker import Worker

from domain import rights_ledger as ledger
from models import licenses
from nexus.settings import Settings
from tests.e2e.support import until
from tests.licensing_support import fill
from workflows.ledger import SCHEDULE_ID, ensure_checkpoint_schedule
from workflows.task_queues import cpu_queue


@pytest.fixture
async def schedule(client: Client) -> AsyncIterator[ScheduleHandle]:
    handle = client.get_schedule_handle(SCHEDULE_ID)
    yield handle
    with contextlib.suppress(RPCError):
        await handle.delete()


async def _interval(handle: ScheduleHandle) -> timedelta:
    described = await handle.describe()
    [interval] = described.schedule.spec.intervals
    return interval.every


async def test_the_schedule_is_created_once_and_follows_the_setting(
    client: Client, schedule: ScheduleHandle, settings: Settings
) -> None:
    queue = cpu_queue(settings.temporal.task_queue)
    await ensure_checkpoint_schedule(client, queue, timedelta(minutes=60))
    await ensure_checkpoint_schedule(client, queue, timedelta(minutes=60))
    assert await _interval(schedule) == timedelta(minutes=60)
    await ensure_checkpoint_schedule(client, queue, timedelta(minutes=15))
    assert await _interval(schedule) == timedelta(minutes=15)


async def _checkpoints(engine: Engine) -> list[tuple[int, int]]:
    with Session(engine) as session:
        return [(c.from_seq, c.to_seq) for c in licenses.checkpoints(session)]


async def _ran(handle: ScheduleHandle, times: int) -> bool:
    return len((await handle.describe()).info.recent_actions) >= times


async def test_each_run_signs_the_entries_since_the_last_checkpoint(
    client: Client,
    schedule: ScheduleHandle,
    settings: Settings,
    engine: Engine,
    workers: list[Worker],
) -> None:
    signer = ledger.Signer(settings.licensing.signing_seed())
    queue = cpu_queue(settings.temporal.task_queue)
    # A year apart: the runs are the triggered ones only, even across an hour's boundary.
    await ensure_checkpoint_schedule(client, queue, timedelta(days=365))
    fill(engine, signer, 3)

    async def run_once(expected: int) -> None:
        await schedule.trigger()
        await until(lambda: _ran(schedule, expected), timeout_s=45)
        [*_, last] = (await schedule.describe()).info.recent_actions
        action = last.action
        assert isinstance(action, ScheduleActionExecutionStartWorkflow)
        async with asyncio.timeout(60):
            await client.get_workflow_handle(action.workflow_id).result()

    await run_once(1)
    assert await _checkpoints(engine) == [(1, 3)]
    await run_once(2)  # nothing new: nothing signed
    assert await _checkpoints(engine) == [(1, 3)]
    fill(engine, signer, 2)
    await run_once(3)
    assert await _checkpoints(engine) == [(1, 3), (4, 5)]
    with Session(engine) as session:
        assert licenses.verify(session, {signer.key_id: signer.public_key}).ok
