"""Durable timers kept as data: a process lists the moments it cares about from its state, and
one loop sleeps until the earliest (or until an Update wakes it) and fires what is due."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow


@dataclass(frozen=True)
class Timer:
    when: datetime
    key: str  # fired once per key; a key names the moment it belongs to (e.g. the deadline)
    fire: Callable[[], Coroutine[Any, Any, None]]


async def sleep_until_next(timers: list[Timer], woken: Callable[[], bool]) -> None:
    if not timers:
        await workflow.wait_condition(woken)
        return
    delay = min(t.when for t in timers) - workflow.now()
    if delay > timedelta(0):
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(woken, timeout=delay)


async def fire_due(timers: list[Timer], fired: set[str], running: Callable[[], bool]) -> None:
    now = workflow.now()
    for timer in sorted(timers, key=lambda t: t.when):
        if timer.when <= now and timer.key not in fired and running():
            fired.add(timer.key)
            await timer.fire()
