"""Requests that wait for a delivery to change (a long poll instead of a client's tight loop).

The read-model write announces each change with PostgreSQL NOTIFY; one LISTEN connection per
API process wakes the waiting requests. Waiters also re-read every `recheck_s`, so a listener
that is reconnecting delays an answer by at most that much and never loses one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import psycopg

from api.services import Database
from domain.enums import DeliveryStage
from models.deliveries import LISTEN_FOR_CHANGES, stage_of

log = logging.getLogger(__name__)


class DeliveryChanges:
    def __init__(self, dsn: str, *, recheck_s: float = 1.0) -> None:
        self._dsn = dsn
        self._recheck_s = recheck_s
        self._waiters: dict[uuid.UUID, set[asyncio.Event]] = {}
        self._listener: asyncio.Task[None] | None = None

    async def wait_while(
        self, db: Database, delivery_id: uuid.UUID, stage: DeliveryStage, timeout_s: float
    ) -> None:
        """Return once the delivery is no longer in `stage`, or after `timeout_s`."""
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen())
        woken = asyncio.Event()
        self._waiters.setdefault(delivery_id, set()).add(woken)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        try:
            while True:
                # Cleared before the read: a change committed after it still wakes the wait.
                woken.clear()
                if await db.run(stage_of, delivery_id) != stage:
                    return
                left = deadline - loop.time()
                if left <= 0:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), min(left, self._recheck_s))
        finally:
            waiting = self._waiters.get(delivery_id, set())
            waiting.discard(woken)
            if not waiting:
                self._waiters.pop(delivery_id, None)

    async def _listen(self) -> None:
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self._dsn, autocommit=True, connect_timeout=3
                )
                async with conn:
                    await conn.execute(LISTEN_FOR_CHANGES)
                    async for note in conn.notifies():
                        self._wake(note.payload)
            except (psycopg.Error, OSError) as exc:
                log.warning("delivery change listener reconnecting: %s", exc)
                await asyncio.sleep(self._recheck_s)

    def _wake(self, payload: str) -> None:
        try:
            delivery_id = uuid.UUID(payload)
        except ValueError:
            return
        for woken in self._waiters.get(delivery_id, ()):
            woken.set()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
